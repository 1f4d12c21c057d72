//! The append-only audit log: every review, export and admin action, with who and when
//! (UU 27/2022 asks for a record of processing). The database refuses updates and deletes.

use rusqlite::{Transaction, params};
use verivali_core::model::Timestamp;

use crate::db::DbError;

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
