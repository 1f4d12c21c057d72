//! What every handler shares.

use std::sync::Arc;

use crate::config::Config;
use crate::db::Db;
use crate::limits::{RateLimiter, SignInLimits};

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    /// Failed enrollment codes per client address.
    pub enroll_limiter: Arc<RateLimiter>,
    pub sign_in_limits: Arc<SignInLimits>,
    /// Bundles imported at once: one, since each holds its file and what it inflates to in
    /// memory; the others wait their turn.
    pub bundle_imports: Arc<tokio::sync::Semaphore>,
}
