//! Signing in from the browser: `POST /api/v1/session` with a login name and password sets the
//! session cookie; `DELETE /api/v1/session` ends it. Failed sign-ins are rate-limited per address.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::client_addr::ClientAddr;
use crate::error::ApiError;
use crate::sessions;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/session", post(sign_in).delete(sign_out))
}

#[derive(Deserialize)]
struct SignIn {
    login: String,
    password: String,
}

/// The password never reaches a log, even in a debug print.
impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize)]
struct SignedIn {
    user_id: String,
    name: String,
    region: String,
    expires_in_secs: i64,
}

async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    body: Result<Json<SignIn>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(request) = body?;
    let session = sessions::sign_in(
        &state.db,
        &state.sign_in_limits,
        client,
        request.login,
        request.password,
    )
    .await?;
    Ok((
        [(header::SET_COOKIE, sessions::cookie(&session.token))],
        Json(SignedIn {
            user_id: session.user_id.to_string(),
            name: session.name,
            region: session.region,
            expires_in_secs: sessions::SESSION_HOURS * 3600,
        }),
    ))
}

async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(token) = sessions::token_in(&headers).map(str::to_owned) {
        state
            .db
            .write(move |tx| sessions::end(tx, &token).map_err(ApiError::from))
            .await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, sessions::removed_cookie())],
    ))
}
