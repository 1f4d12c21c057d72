//! What every handler shares.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::db::Db;

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub enroll_limiter: Arc<RateLimiter>,
    pub login_limiter: Arc<RateLimiter>,
}

/// Counts failed attempts per client address in a fixed window: enrollment codes are short, so
/// guessing must be slow. Successes do not count: fifty phones enrolled at one training session
/// behind one office address must all get through.
#[derive(Debug)]
pub struct RateLimiter {
    per_window: u32,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(per_window: u32, window: Duration) -> Self {
        Self {
            per_window,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the address has used up its failures for the current window.
    pub fn blocked(&self, ip: IpAddr) -> bool {
        let Ok(failures) = self.failures.lock() else {
            return true;
        };
        failures
            .get(&ip)
            .is_some_and(|(start, n)| start.elapsed() < self.window && *n >= self.per_window)
    }

    pub fn record_failure(&self, ip: IpAddr) {
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        let now = Instant::now();
        if failures.len() > 10_000 {
            let window = self.window;
            failures.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = failures.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}
