//! Logging, set up once. Lines carry ids and counts, never a NIK: handlers log device, enumerator
//! and visit ids only, and URLs never hold personal data.

use tracing_subscriber::EnvFilter;

/// Installs the log subscriber (`RUST_LOG` overrides the default `info`). Safe to call twice.
pub fn init() {
    let filter = without_statement_values(
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    );
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

/// `filter`, with the PostgreSQL driver held to warnings whatever it asks: at debug it logs every
/// statement with its values, and a visit's values hold NIKs (UU 27/2022).
pub fn without_statement_values(filter: EnvFilter) -> EnvFilter {
    ["tokio_postgres=warn", "postgres=warn"]
        .into_iter()
        .filter_map(|directive| directive.parse().ok())
        .fold(filter, EnvFilter::add_directive)
}
