//! Enrollment: a one-time code becomes a device token. A wrong code counts against the client's
//! address (a guess); a phone that lost the answer on a weak signal may ask again for a while.

use axum::http::{HeaderMap, StatusCode};
use verivali_core::model::{DeviceId, EnumeratorId, Timestamp};
use verivali_core::protocol::{EnrollRequest, EnrollResponse};

use crate::auth::areas_of;
use crate::error::{self, ApiError};
use crate::state::AppState;
use crate::store::{Conn, devices};
use crate::tokens;

/// How long after its code was used a phone may ask again for the answer it lost.
const LOST_ANSWER_RETRY_MS: i64 = 15 * 60 * 1000;

/// Enrolls the phone of `request`, calling from `client`.
pub async fn enroll(
    state: &AppState,
    client: std::net::IpAddr,
    headers: &HeaderMap,
    request: EnrollRequest,
) -> Result<EnrollResponse, ApiError> {
    crate::phones::check_app_version(state.config.min_app_version.as_deref(), headers)?;
    let address = client.to_string();
    if !state.enroll_limiter.try_take(&state.db, &address).await? {
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
        state
            .enroll_limiter
            .give_back_now(&state.db, &address)
            .await?;
    }
    let (response, device) = response?;
    tracing::info!(device = %device, enumerator = %response.enumerator_id, "device enrolled");
    Ok(response)
}

fn enroll_device(
    conn: Conn<'_>,
    request: &EnrollRequest,
    now: Timestamp,
) -> Result<(EnrollResponse, DeviceId), ApiError> {
    let code_hash = tokens::hash(&tokens::normalise_code(&request.code));
    let bad_code = || ApiError::new(StatusCode::UNAUTHORIZED, error::BAD_ENROLLMENT_CODE);
    let code = devices::code(conn, &code_hash)?.ok_or_else(bad_code)?;
    if code.expires_at < now.unix_millis() {
        return Err(bad_code());
    }
    let device = request.device_id.to_string();
    let token = tokens::new_token().map_err(ApiError::internal)?;
    let token_hash = tokens::hash(&token);
    if let Some(used_at) = code.used_at {
        // The same phone asking again with its code: the answer to its first attempt was lost
        // on a weak signal. It gets a new token (the lost one stops working), but only while
        // that token was never used and for a short while: a device id is no secret, and a used
        // code with it must not take a working phone's place. Anyone else is refused.
        if code.used_by.as_deref() != Some(device.as_str())
            || now.unix_millis() - used_at > LOST_ANSWER_RETRY_MS
        {
            return Err(bad_code());
        }
        if !devices::renew_unused_token(conn, &device, &token_hash)? {
            return Err(bad_code());
        }
    } else {
        match devices::owner(conn, &device)? {
            // A phone enrolled again by its enumerator's new code (after a revocation, or a reset
            // token) keeps its device id, so its numbering and its queued visits stay valid.
            Some(owner) if owner == code.enumerator_id => {
                devices::reenroll(conn, &device, &token_hash, &request.device_name)?;
            }
            Some(_) => return Err(ApiError::new(StatusCode::CONFLICT, error::DEVICE_EXISTS)),
            None => devices::insert(
                conn,
                &devices::NewDevice {
                    device_id: &device,
                    enumerator_id: &code.enumerator_id,
                    name: &request.device_name,
                    token_hash: &token_hash,
                    enrolled_at: now.unix_millis(),
                },
            )?,
        }
        devices::use_code(conn, &code_hash, &device, now.unix_millis())?;
    }
    let enumerator_id = EnumeratorId::parse(&code.enumerator_id).map_err(ApiError::internal)?;
    let enumerator_name = devices::enumerator_name(conn, &code.enumerator_id)?;
    let (areas, _) = areas_of(conn, enumerator_id)?;
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
