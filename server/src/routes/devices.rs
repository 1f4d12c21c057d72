//! Enrollment: a one-time code becomes a device token.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use rusqlite::{OptionalExtension, Transaction, params};
use verivali_core::model::{EnumeratorId, Timestamp};
use verivali_core::protocol::{EnrollRequest, EnrollResponse};

use crate::auth::areas_of;
use crate::client_addr::ClientAddr;
use crate::error::{self, ApiError};
use crate::state::AppState;
use crate::tokens;

pub fn router() -> Router<AppState> {
    Router::new().route("/devices/enroll", post(enroll))
}

async fn enroll(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: axum::http::HeaderMap,
    body: Result<Json<EnrollRequest>, JsonRejection>,
) -> Result<Json<EnrollResponse>, ApiError> {
    crate::phones::check_app_version(state.config.min_app_version.as_deref(), &headers)?;
    let Json(request) = body?;
    let address = client.to_string();
    if !state.enroll_limiter.try_take(&address) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            error::TOO_MANY_ATTEMPTS,
        ));
    }
    let now = Timestamp::now_utc();
    let response = state
        .db
        .write(move |tx| enroll_device(tx, &request, now))
        .await;
    // Only a wrong code stays counted: a guess.
    if !response
        .as_ref()
        .is_err_and(|e| e.status == StatusCode::UNAUTHORIZED)
    {
        state.enroll_limiter.give_back(&address);
    }
    let response = response?;
    tracing::info!(device = %response.1, enumerator = %response.0.enumerator_id, "device enrolled");
    Ok(Json(response.0))
}

/// How long after its code was used a phone may ask again for the answer it lost.
const LOST_ANSWER_RETRY_MS: i64 = 15 * 60 * 1000;

fn enroll_device(
    tx: &Transaction<'_>,
    request: &EnrollRequest,
    now: Timestamp,
) -> Result<(EnrollResponse, verivali_core::model::DeviceId), ApiError> {
    let code_hash = tokens::hash(&tokens::normalise_code(&request.code));
    let row: Option<(String, i64, Option<i64>, Option<String>)> = tx
        .prepare_cached(
            "SELECT enumerator_id, expires_at, used_at, device_id FROM enrollment_codes
             WHERE code_hash = ?1",
        )?
        .query_row([&code_hash], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let bad_code = || ApiError::new(StatusCode::UNAUTHORIZED, error::BAD_ENROLLMENT_CODE);
    let (enumerator, expires_at, used_at, used_by) = row.ok_or_else(bad_code)?;
    if expires_at < now.unix_millis() {
        return Err(bad_code());
    }
    let device = request.device_id.to_string();
    let token = tokens::new_token().map_err(ApiError::internal)?;
    if let Some(used_at) = used_at {
        // The same phone asking again with its code: the answer to its first attempt was lost
        // on a weak signal. It gets a new token (the lost one stops working), but only while
        // that token was never used and for a short while: a device id is no secret, and a used
        // code with it must not take a working phone's place. Anyone else is refused.
        if used_by.as_deref() != Some(device.as_str())
            || now.unix_millis() - used_at > LOST_ANSWER_RETRY_MS
        {
            return Err(bad_code());
        }
        let renewed = tx
            .prepare_cached(
                "UPDATE devices SET token_hash = ?2
                 WHERE device_id = ?1 AND revoked_at IS NULL AND last_seen_at IS NULL",
            )?
            .execute(params![device, tokens::hash(&token)])?;
        if renewed == 0 {
            return Err(bad_code());
        }
    } else {
        let owner: Option<String> = tx
            .prepare_cached("SELECT enumerator_id FROM devices WHERE device_id = ?1")?
            .query_row([&device], |r| r.get(0))
            .optional()?;
        match owner {
            // A phone enrolled again by its enumerator's new code (after a revocation, or a reset
            // token) keeps its device id, so its numbering and its queued visits stay valid.
            Some(owner) if owner == enumerator => {
                tx.prepare_cached(
                    "UPDATE devices SET token_hash = ?2, name = ?3, revoked_at = NULL,
                         last_seen_at = NULL
                     WHERE device_id = ?1",
                )?
                .execute(params![
                    device,
                    tokens::hash(&token),
                    request.device_name
                ])?;
            }
            Some(_) => return Err(ApiError::new(StatusCode::CONFLICT, error::DEVICE_EXISTS)),
            None => {
                tx.prepare_cached(
                    "INSERT INTO devices (device_id, enumerator_id, name, token_hash, enrolled_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    device,
                    enumerator,
                    request.device_name,
                    tokens::hash(&token),
                    now.unix_millis()
                ])?;
            }
        }
        tx.prepare_cached(
            "UPDATE enrollment_codes SET used_at = ?2, device_id = ?3 WHERE code_hash = ?1",
        )?
        .execute(params![code_hash, now.unix_millis(), device])?;
    }
    let enumerator_id = EnumeratorId::parse(&enumerator).map_err(ApiError::internal)?;
    let enumerator_name: String = tx
        .prepare_cached("SELECT name FROM enumerators WHERE enumerator_id = ?1")?
        .query_row([&enumerator], |r| r.get(0))?;
    let (areas, _) = areas_of(tx, enumerator_id)?;
    Ok((
        EnrollResponse {
            token,
            enumerator_id,
            enumerator_name,
            areas,
        },
        request.device_id,
    ))
}
