//! Logging, set up once. Lines carry ids and counts, never a NIK: handlers log device, enumerator
//! and visit ids only, and URLs never hold personal data.

use tracing_subscriber::EnvFilter;

/// Installs the log subscriber (`RUST_LOG` overrides the default `info`). Safe to call twice.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}
