//! Limits on guessing: failed enrollment codes per client address, failed sign-ins per login name
//! and per address. An attempt is taken from its window before the slow work (argon2, the
//! writer) and given back when it succeeds, so attempts sent at once cannot all pass the check
//! before any of them is counted, and successes never count: fifty phones enrolled at one
//! training session behind one office address all get through.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

/// Attempts per key in a fixed window.
#[derive(Debug)]
pub struct RateLimiter {
    per_window: u32,
    window: Duration,
    attempts: Mutex<HashMap<String, (Instant, u32)>>,
}

/// Keys kept at most; past it, those whose window ended are dropped.
const MAX_KEYS: usize = 10_000;

impl RateLimiter {
    pub fn new(per_window: u32, window: Duration) -> Self {
        Self {
            per_window,
            window,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one attempt from `key`'s window; `false` when none is left.
    pub fn try_take(&self, key: &str) -> bool {
        let Ok(mut attempts) = self.attempts.lock() else {
            return false;
        };
        let now = Instant::now();
        if attempts.len() > MAX_KEYS {
            let window = self.window;
            attempts.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = attempts.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_window {
            return false;
        }
        entry.1 += 1;
        true
    }

    /// Gives back an attempt that succeeded.
    pub fn give_back(&self, key: &str) {
        if let Ok(mut attempts) = self.attempts.lock()
            && let Some(entry) = attempts.get_mut(key)
        {
            entry.1 = entry.1.saturating_sub(1);
        }
    }
}

/// What slows down password guessing.
#[derive(Debug)]
pub struct SignInLimits {
    /// Failures per login name: one person's account, whatever address the guesses come from.
    pub by_login: RateLimiter,
    /// Failures per address, set higher: a district office's colleagues share one address, and
    /// one of them mistyping must not lock out the others.
    pub by_address: RateLimiter,
    /// Password checks running at once. argon2 takes tens of milliseconds of a core on purpose;
    /// a flood of sign-ins waits here, not for the database's read connections.
    pub checks: Semaphore,
}

impl SignInLimits {
    pub fn new(per_login: u32, per_address: u32) -> Self {
        let minute = Duration::from_secs(60);
        Self {
            by_login: RateLimiter::new(per_login, minute),
            by_address: RateLimiter::new(per_address, minute),
            checks: Semaphore::new(2),
        }
    }

    /// Takes an attempt for `login` from `ip`, from both windows; `None` when either is used up.
    pub fn try_take(&self, login: &str, ip: IpAddr) -> Option<SignInAttempt<'_>> {
        let login = format!("login:{}", login.trim().to_lowercase());
        let address = format!("ip:{ip}");
        if !self.by_login.try_take(&login) {
            return None;
        }
        if !self.by_address.try_take(&address) {
            self.by_login.give_back(&login);
            return None;
        }
        Some(SignInAttempt {
            limits: self,
            login,
            address,
        })
    }
}

/// An attempt taken from both windows: it stays counted unless it [`succeeded`](Self::succeeded).
#[derive(Debug)]
pub struct SignInAttempt<'a> {
    limits: &'a SignInLimits,
    login: String,
    address: String,
}

impl SignInAttempt<'_> {
    pub fn succeeded(self) {
        self.limits.by_login.give_back(&self.login);
        self.limits.by_address.give_back(&self.address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_counted_when_taken_and_successes_given_back() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        assert!(limiter.try_take("a") && limiter.try_take("a"));
        assert!(!limiter.try_take("a"), "two in flight use up the window");
        limiter.give_back("a");
        assert!(limiter.try_take("a"));
        assert!(limiter.try_take("b"), "another key has its own window");
    }

    #[test]
    fn a_login_used_up_does_not_spend_the_address() {
        let limits = SignInLimits::new(1, 3);
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        assert!(limits.try_take("siti", ip).is_some());
        assert!(limits.try_take("Siti ", ip).is_none(), "the same login");
        // A colleague behind the same address still signs in.
        let budi = limits.try_take("budi", ip).unwrap();
        budi.succeeded();
        assert!(limits.try_take("andi", ip).is_some());
    }
}
