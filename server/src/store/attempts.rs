//! Attempts counted against guessing ([`crate::limits`]), in the database so that every server
//! process on it counts the same window.

use super::Conn;
use crate::db::DbError;

/// Takes one attempt from `key`'s window (a new one of `window_ms` when the last ended by `now`);
/// false when `limit` are used already. Windows that ended are forgotten on the way.
pub fn take(
    conn: Conn<'_>,
    key: &str,
    limit: i64,
    now: i64,
    window_ms: i64,
) -> Result<bool, DbError> {
    conn.execute("DELETE FROM attempts WHERE ends_at <= ?1", &[&now])?;
    let taken = conn.execute(
        "INSERT INTO attempts (key, ends_at, used) VALUES (?1, ?2, 1)
         ON CONFLICT (key) DO UPDATE SET used = attempts.used + 1
         WHERE attempts.used < ?3",
        &[&key, &(now + window_ms), &limit],
    )?;
    Ok(taken == 1)
}

/// Gives back an attempt of `key` that succeeded.
pub fn give_back(conn: Conn<'_>, key: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE attempts SET used = used - 1 WHERE key = ?1 AND used > 0",
        &[&key],
    )?;
    Ok(())
}
