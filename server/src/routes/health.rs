//! What a district's IT officer's monitoring reads: `/healthz` (ok, or 503 with what is wrong)
//! and `/metrics` (docs/operations.md).

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::error::{self, ApiError};
use crate::state::AppState;
use crate::{health, metrics};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
}

/// `ok` when the server is well; otherwise 503 with the code of what is wrong.
async fn healthz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    health::check(&state).await?;
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
