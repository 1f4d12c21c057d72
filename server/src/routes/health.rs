//! What a district's IT officer's monitoring reads: `/healthz` (ok, or 503 with what is wrong)
//! and `/metrics` (docs/operations.md).

// SQL still here, to move to crate::store (issue 16, server/clippy.toml).
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::error::{self, ApiError};
use crate::state::AppState;
use crate::{disk, metrics};

/// A writer with work that has not moved for this long is stuck.
const STUCK_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
}

/// `ok` when the database answers, the disk has room and the writer moves; otherwise 503 with
/// the code of what is wrong.
async fn healthz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state
        .db
        .read(|c| Ok::<_, ApiError>(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
        .await?;
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
    Ok("ok")
}

async fn metrics_text(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<impl IntoResponse, ApiError> {
    if !metrics::allowed(&state, peer.ip()) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, error::NO_METRICS_HERE));
    }
    let text = metrics::render(&state).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    ))
}
