//! The phone's sync calls: push finished visits, pull what changed in its areas.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::value::RawValue;
use verivali_core::protocol::{PhoneReport, PushRequest, PushResponse};

use crate::auth::DeviceAuth;
use crate::error::{self, ApiError};
use crate::state::AppState;
use crate::{ingest, phones, pull};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sync/push", post(push))
        .route("/sync/pull", get(pull))
}

async fn push(
    State(state): State<AppState>,
    device: DeviceAuth,
    body: Result<Json<PushRequest<Box<RawValue>>>, JsonRejection>,
) -> Result<Json<PushResponse>, ApiError> {
    let Json(request) = body?;
    let items = request.items.len();
    let response = ingest::push(&state.db, device, request).await?;
    tracing::debug!(items, "push ingested");
    Ok(Json(response))
}

#[derive(Debug, Deserialize)]
struct PullQuery {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
    /// The phone's report of itself (`protocol::PhoneReport`), on the first page of a sync.
    #[serde(default)]
    app: Option<String>,
    #[serde(default)]
    unsent: u64,
    #[serde(default)]
    photos: u64,
    #[serde(default)]
    drafts: u64,
}

async fn pull(
    State(state): State<AppState>,
    device: DeviceAuth,
    query: Result<Query<PullQuery>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Query(query) = query?;
    let after: i64 = match query.cursor.as_deref() {
        None | Some("") => 0,
        Some(c) => c
            .parse()
            .map_err(|_| ApiError::bad_request(error::BAD_CURSOR))?,
    };
    let limit = query
        .limit
        .unwrap_or(state.config.max_pull_page)
        .clamp(1, state.config.max_pull_page);
    if let Some(app) = query.app {
        let report = PhoneReport {
            app,
            unsent: query.unsent,
            photos: query.photos,
            drafts: query.drafts,
        };
        phones::record_report(&state.db, device.device_id, report).await?;
    }
    let body = state
        .db
        .read(move |conn| pull::page(conn, &device, after, limit))
        .await?;
    crate::metrics::count_pull();
    Ok(([(header::CONTENT_TYPE, "application/json")], body))
}
