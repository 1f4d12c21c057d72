//! The phone's sync calls: push finished visits, pull what changed in its areas.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::value::RawValue;
use verivali_core::model::Timestamp;
use verivali_core::protocol::{MAX_PUSH_ITEMS, PhoneReport, PushRequest, PushResponse, PushStatus};

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
    if request.items.len() > MAX_PUSH_ITEMS {
        return Err(ApiError::bad_request(error::TOO_MANY_ITEMS));
    }
    let received_at = Timestamp::now_utc();
    let items = request.items.len();
    let (sent_at, finished_up_to) = (request.sent_at, request.finished_up_to);
    let read_device = device.clone();
    let (slots, plan) = state
        .db
        .read(move |conn| {
            // One snapshot for all that is read here; its pages stay cached in between.
            let snapshot = conn.unchecked_transaction()?;
            let mut slots = ingest::decode(request.items);
            ingest::answer_known(&snapshot, &mut slots)?;
            // A retried push (every item already here) is answered without the writer; a
            // rejection goes through it, to be remembered for completeness.
            let nothing_to_write = slots.iter().all(
                |s| matches!(s, ingest::Slot::Answered(r) if r.status != PushStatus::Rejected),
            );
            if nothing_to_write {
                return Ok::<_, ApiError>((slots, None));
            }
            // Planned here, off the writer.
            let plan = ingest::plan(&snapshot, &read_device, &slots, sent_at, received_at)?;
            Ok((slots, Some(plan)))
        })
        .await?;
    let response = match plan {
        None => PushResponse {
            results: slots
                .into_iter()
                .filter_map(|s| match s {
                    ingest::Slot::Answered(r) => Some(r),
                    ingest::Slot::Pending { .. } => None,
                })
                .collect(),
        },
        Some(plan) => {
            state
                .db
                .write(move |tx| {
                    let answer =
                        ingest::store(tx, &device, &slots, Some(plan), sent_at, received_at)?;
                    if let Some(finished) = finished_up_to {
                        phones::record_finished(tx, device.device_id, finished)?;
                    }
                    Ok::<_, ApiError>(answer)
                })
                .await?
        }
    };
    tracing::debug!(items, "push ingested");
    crate::metrics::count_push(&response);
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
        .read(move |conn| pull::page(conn.into(), &device, after, limit))
        .await?;
    crate::metrics::count_pull();
    Ok(([(header::CONTENT_TYPE, "application/json")], body))
}
