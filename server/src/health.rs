//! Whether the server is well, for `/healthz` (docs/operations.md): the database answers, the
//! disk has room, and the writer moves.

use axum::http::StatusCode;

use crate::disk;
use crate::error::{self, ApiError};
use crate::state::AppState;

/// A writer with work that has not moved for this long is stuck.
const STUCK_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

/// Ok when the server is well; otherwise 503 with the code of what is wrong.
pub async fn check(state: &AppState) -> Result<(), ApiError> {
    state.db.ping().await?;
    if disk::low(&state.config.data_dir, state.config.disk_warn_mib).is_some() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            error::DISK_NEARLY_FULL,
        ));
    }
    if state.db.writer_health().stalled_for > STUCK_AFTER {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            error::WRITER_STUCK,
        ));
    }
    Ok(())
}
