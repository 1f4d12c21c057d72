//! Limits on guessing: failed enrollment codes per client address, failed sign-ins per login name
//! and per address. An attempt is taken from its window before the slow work (argon2, the
//! writer) and given back when it succeeds, so attempts sent at once cannot all pass the check
//! before any of them is counted, and successes never count: fifty phones enrolled at one
//! training session behind one office address all get through.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use verivali_core::model::Timestamp;

use crate::db::{Db, DbError};
use crate::error::ApiError;
use crate::store::{Conn, attempts};

/// Attempts per key in a fixed window. The counts are in the database (`attempts`), so that
/// several server processes on one database count the same window.
#[derive(Debug)]
pub struct RateLimiter {
    /// What is counted; keys of different limiters never meet.
    kind: &'static str,
    per_window: u32,
    window: Duration,
}

impl RateLimiter {
    pub fn new(kind: &'static str, per_window: u32, window: Duration) -> Self {
        Self {
            kind,
            per_window,
            window,
        }
    }

    fn key(&self, of: &str) -> String {
        format!("{}:{of}", self.kind)
    }

    /// Takes one attempt from `of`'s window, in the caller's write; `false` when none is left.
    pub fn take(&self, conn: Conn<'_>, of: &str) -> Result<bool, DbError> {
        let window_ms = i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX / 2);
        attempts::take(
            conn,
            &self.key(of),
            i64::from(self.per_window),
            Timestamp::now_utc().unix_millis(),
            window_ms,
        )
    }

    /// Gives back an attempt that succeeded, in the caller's write.
    pub fn give_back(&self, conn: Conn<'_>, of: &str) -> Result<(), DbError> {
        attempts::give_back(conn, &self.key(of))
    }

    /// [`take`](Self::take) in a write of its own.
    pub async fn try_take(self: &Arc<Self>, db: &Db, of: &str) -> Result<bool, ApiError> {
        let (limiter, of) = (self.clone(), of.to_owned());
        Ok(db.write(move |tx| limiter.take(tx, &of)).await?)
    }

    /// [`give_back`](Self::give_back) in a write of its own.
    pub async fn give_back_now(self: &Arc<Self>, db: &Db, of: &str) -> Result<(), ApiError> {
        let (limiter, of) = (self.clone(), of.to_owned());
        Ok(db.write(move |tx| limiter.give_back(tx, &of)).await?)
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
    /// Password checks running at once in this process. argon2 takes tens of milliseconds of a
    /// core on purpose; a flood of sign-ins waits here, not for the database's connections.
    pub checks: Semaphore,
}

impl SignInLimits {
    pub fn new(per_login: u32, per_address: u32) -> Self {
        let minute = Duration::from_secs(60);
        Self {
            by_login: RateLimiter::new("sign-in-login", per_login, minute),
            by_address: RateLimiter::new("sign-in-address", per_address, minute),
            checks: Semaphore::new(2),
        }
    }

    /// Takes an attempt for `login` from `ip`, from both windows in one write; `None` when either
    /// is used up.
    pub async fn try_take(
        self: &Arc<Self>,
        db: &Db,
        login: &str,
        ip: IpAddr,
    ) -> Result<Option<SignInAttempt>, ApiError> {
        let attempt = SignInAttempt {
            limits: self.clone(),
            login: login.trim().to_lowercase(),
            address: ip.to_string(),
        };
        let limits = self.clone();
        let (login, address) = (attempt.login.clone(), attempt.address.clone());
        let taken = db
            .write(move |tx| {
                if !limits.by_login.take(tx, &login)? {
                    return Ok::<_, DbError>(false);
                }
                if !limits.by_address.take(tx, &address)? {
                    // The login's attempt is given back: the address refused it.
                    limits.by_login.give_back(tx, &login)?;
                    return Ok(false);
                }
                Ok(true)
            })
            .await?;
        Ok(taken.then_some(attempt))
    }
}

/// An attempt taken from both windows: it stays counted unless it [`succeeded`](Self::succeeded).
#[derive(Debug)]
pub struct SignInAttempt {
    limits: Arc<SignInLimits>,
    login: String,
    address: String,
}

impl SignInAttempt {
    /// Gives the attempt back to both windows, in the caller's write.
    pub fn succeeded(&self, conn: Conn<'_>) -> Result<(), DbError> {
        self.limits.by_login.give_back(conn, &self.login)?;
        self.limits.by_address.give_back(conn, &self.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        (dir, db)
    }

    #[tokio::test]
    async fn attempts_are_counted_when_taken_and_successes_given_back() {
        let (_dir, db) = db();
        let limiter = Arc::new(RateLimiter::new("test", 2, Duration::from_secs(60)));
        assert!(limiter.try_take(&db, "a").await.unwrap());
        assert!(limiter.try_take(&db, "a").await.unwrap());
        assert!(
            !limiter.try_take(&db, "a").await.unwrap(),
            "two in flight use up the window"
        );
        limiter.give_back_now(&db, "a").await.unwrap();
        assert!(limiter.try_take(&db, "a").await.unwrap());
        assert!(
            limiter.try_take(&db, "b").await.unwrap(),
            "another key has its own window"
        );
        let other = Arc::new(RateLimiter::new("other", 1, Duration::from_secs(60)));
        assert!(
            other.try_take(&db, "a").await.unwrap(),
            "another limiter counts apart"
        );
    }

    #[tokio::test]
    async fn a_window_that_ended_starts_again() {
        let (_dir, db) = db();
        let limiter = Arc::new(RateLimiter::new("test", 1, Duration::from_millis(50)));
        assert!(limiter.try_take(&db, "a").await.unwrap());
        assert!(!limiter.try_take(&db, "a").await.unwrap());
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(limiter.try_take(&db, "a").await.unwrap());
    }

    #[tokio::test]
    async fn a_login_used_up_does_not_spend_the_address() {
        let (_dir, db) = db();
        let limits = Arc::new(SignInLimits::new(1, 3));
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        let take = |login: &'static str| {
            let (limits, db) = (limits.clone(), db.clone());
            async move { limits.try_take(&db, login, ip).await.unwrap() }
        };
        assert!(take("siti").await.is_some());
        assert!(take("Siti ").await.is_none(), "the same login");
        // A colleague behind the same address still signs in.
        let budi = take("budi").await.unwrap();
        db.write(move |tx| budi.succeeded(tx)).await.unwrap();
        assert!(take("andi").await.is_some());
        // The address has used siti's and andi's attempts (budi's was given back): one left.
        assert!(take("dewi").await.is_some());
        assert!(take("eko").await.is_none(), "the address is used up");
        let fresh: IpAddr = "10.0.0.8".parse().unwrap();
        assert!(
            limits.try_take(&db, "eko", fresh).await.unwrap().is_some(),
            "eko's login was given back when the address refused it"
        );
    }
}
