//! Enrollment: a one-time code becomes a device token ([`crate::enrollment`]).

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::routing::post;
use axum::{Json, Router};
use verivali_core::protocol::{EnrollRequest, EnrollResponse};

use crate::client_addr::ClientAddr;
use crate::enrollment;
use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/devices/enroll", post(enroll))
}

async fn enroll(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: axum::http::HeaderMap,
    body: Result<Json<EnrollRequest>, JsonRejection>,
) -> Result<Json<EnrollResponse>, ApiError> {
    let Json(request) = body?;
    Ok(Json(
        enrollment::enroll(&state, client, &headers, request).await?,
    ))
}
