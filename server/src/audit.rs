//! The append-only audit log: every review, export and admin action, with who and when
//! (UU 27/2022 asks for a record of processing). The database refuses updates and deletes.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use rusqlite::{Transaction, params};
use verivali_core::model::Timestamp;

use crate::db::DbError;
use crate::error::Denied;
use crate::state::AppState;

pub fn record(
    tx: &Transaction<'_>,
    actor: &str,
    action: &str,
    target: Option<&str>,
    detail: Option<&str>,
) -> Result<(), DbError> {
    tx.prepare_cached(
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        Timestamp::now_utc().unix_millis(),
        actor,
        action,
        target,
        detail
    ])?;
    Ok(())
}

/// Writes to the audit log every refusal an answer carries ([`crate::error::ApiError::denied`]):
/// a person who asked for data outside their region or role, with the path they asked at (ids
/// and regions, never a NIK: none travels in a URL).
pub async fn record_denials(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    if let Some(denied) = response.extensions_mut().remove::<Denied>() {
        let written = state
            .db
            .write(move |tx| {
                record(
                    tx,
                    &denied.actor,
                    "access:denied",
                    Some(&denied.asked),
                    Some(&path),
                )
            })
            .await;
        if let Err(e) = written {
            tracing::error!(error = %e, "a refusal could not be audited");
        }
    }
    response
}
