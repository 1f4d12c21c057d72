//! Attachment calls: which hashes the server lacks, presence (`HEAD`, with `Upload-Offset` for a
//! partial upload), and resumable upload (`PUT` with `Upload-Offset` and `Upload-Length`).

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{post, put};
use axum::{Json, Router};
use verivali_core::model::Sha256;
use verivali_core::protocol::{MissingRequest, MissingResponse, UPLOAD_LENGTH, UPLOAD_OFFSET};

use crate::attachments::{Attachments, Presence};
use crate::auth::DeviceAuth;
use crate::error::{self, ApiError};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/attachments/missing", post(missing))
        .route("/attachments/{sha256}", put(upload).head(presence))
}

fn store(state: &AppState) -> Attachments {
    Attachments::new(&state.config.data_dir)
}

fn parse_sha(text: &str) -> Result<Sha256, ApiError> {
    Sha256::parse(text).map_err(|_| ApiError::bad_request(error::BAD_HASH))
}

async fn missing(
    State(state): State<AppState>,
    device: DeviceAuth,
    body: Result<Json<MissingRequest>, JsonRejection>,
) -> Result<Json<MissingResponse>, ApiError> {
    let Json(request) = body?;
    let store = store(&state);
    let uploader = device.device_id.to_string();
    let missing = state
        .db
        .read(move |conn| {
            let mut missing = Vec::new();
            for sha in request.sha256 {
                let holds = crate::store::photos::holds(conn, sha.as_str(), &uploader)?;
                if !matches!(
                    store.presence(&sha, &uploader, holds),
                    Presence::Complete { .. }
                ) {
                    missing.push(sha);
                }
            }
            Ok::<_, ApiError>(missing)
        })
        .await?;
    Ok(Json(MissingResponse { missing }))
}

async fn presence(
    State(state): State<AppState>,
    device: DeviceAuth,
    Path(sha): Path<String>,
) -> Result<(StatusCode, HeaderMap), ApiError> {
    let sha = parse_sha(&sha)?;
    let store = store(&state);
    let uploader = device.device_id.to_string();
    let presence = state
        .db
        .read(move |conn| {
            let holds = crate::store::photos::holds(conn, sha.as_str(), &uploader)?;
            Ok::<_, ApiError>(store.presence(&sha, &uploader, holds))
        })
        .await?;
    Ok(answer(presence))
}

fn answer(presence: Presence) -> (StatusCode, HeaderMap) {
    let mut headers = HeaderMap::new();
    let (status, offset) = match presence {
        Presence::Complete { size } => (StatusCode::OK, size),
        Presence::Partial { held } => (StatusCode::NOT_FOUND, held),
        Presence::Absent => (StatusCode::NOT_FOUND, 0),
    };
    headers.insert(UPLOAD_OFFSET, HeaderValue::from(offset));
    (status, headers)
}

/// A number header: absent is `None`; present but not a number is a bad request, never 0.
fn header_u64(headers: &HeaderMap, name: &str) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map(Some)
        .ok_or_else(|| {
            let mut e = ApiError::bad_request(error::MALFORMED);
            e.body.field = Some(name.to_owned());
            e
        })
}

/// `PUT` the bytes from `Upload-Offset` (default 0); `Upload-Length` is the whole size (default:
/// this body is all of it). Answers 201 when complete, 202 with `Upload-Offset` while partial.
async fn upload(
    State(state): State<AppState>,
    device: DeviceAuth,
    Path(sha): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<(StatusCode, HeaderMap), ApiError> {
    let sha = parse_sha(&sha)?;
    let offset = header_u64(&headers, UPLOAD_OFFSET)?.unwrap_or(0);
    let total = header_u64(&headers, UPLOAD_LENGTH)?.unwrap_or(offset + bytes.len() as u64);
    let store = store(&state);
    let uploader = device.device_id.to_string();
    let (held, who) = (sha.clone(), uploader.clone());
    let result =
        tokio::task::spawn_blocking(move || store.put(&sha, &uploader, offset, total, &bytes))
            .await
            .map_err(ApiError::internal)?;
    match result {
        Ok(Presence::Complete { size }) => {
            state
                .db
                .write(move |tx| {
                    crate::store::photos::record_holder(tx, held.as_str(), &who)
                        .map_err(ApiError::from)
                })
                .await?;
            let (_, headers) = answer(Presence::Complete { size });
            Ok((StatusCode::CREATED, headers))
        }
        Ok(other) => {
            let (_, headers) = answer(other);
            Ok((StatusCode::ACCEPTED, headers))
        }
        Err(e) => Err(e.into()),
    }
}
