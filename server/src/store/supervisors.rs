//! Supervisors as their calls are authenticated ([`crate::auth`]).

use super::Conn;
use super::sql::Row;
use crate::db::DbError;

/// A supervisor not revoked, as stored.
#[derive(Debug)]
pub struct StoredSupervisor {
    pub user_id: String,
    pub name: String,
    pub region: String,
    pub role: String,
}

fn stored_supervisor(r: &Row<'_>) -> Result<StoredSupervisor, DbError> {
    Ok(StoredSupervisor {
        user_id: r.get(0)?,
        name: r.get(1)?,
        region: r.get(2)?,
        role: r.get(3)?,
    })
}

/// The supervisor whose API token has the hash `token_hash`.
pub fn by_token(conn: Conn<'_>, token_hash: &str) -> Result<Option<StoredSupervisor>, DbError> {
    conn.optional_row(
        "SELECT user_id, name, region, role FROM supervisors
         WHERE token_hash = ?1 AND revoked_at IS NULL",
        &[&token_hash],
        stored_supervisor,
    )
}

/// The supervisor of the browser session whose token has the hash `token_hash`, if the session
/// is open at `now`.
pub fn by_session(
    conn: Conn<'_>,
    token_hash: &str,
    now: i64,
) -> Result<Option<StoredSupervisor>, DbError> {
    conn.optional_row(
        "SELECT s.user_id, s.name, s.region, s.role
         FROM sessions x JOIN supervisors s ON s.user_id = x.user_id
         WHERE x.token_hash = ?1 AND x.ended_at IS NULL AND x.expires_at > ?2
           AND s.revoked_at IS NULL",
        &[&token_hash, &now],
        stored_supervisor,
    )
}
