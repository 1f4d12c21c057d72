//! Imports running now, with their progress ([`crate::import::jobs`]): in the database, so that
//! any server process answers the import page, whichever one runs the import.

use super::Conn;
use crate::db::DbError;

/// Registers import `id` of `region` as running at `now`; false when it runs already (a row that
/// beat after `stale_before`). A row left by a process that died is taken over.
pub fn begin(
    conn: Conn<'_>,
    id: &str,
    region: &str,
    now: i64,
    stale_before: i64,
) -> Result<bool, DbError> {
    let begun = conn.execute(
        "INSERT INTO running_imports (import_id, region, done, total, beat_at)
         VALUES (?1, ?2, 0, 0, ?3)
         ON CONFLICT (import_id) DO UPDATE SET region = ?2, done = 0, total = 0, beat_at = ?3
         WHERE running_imports.beat_at < ?4",
        &[&id, &region, &now, &stale_before],
    )?;
    Ok(begun == 1)
}

/// Records how far import `id` has come.
pub fn beat(conn: Conn<'_>, id: &str, done: i64, total: i64, now: i64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE running_imports SET done = ?2, total = ?3, beat_at = ?4 WHERE import_id = ?1",
        &[&id, &done, &total, &now],
    )?;
    Ok(())
}

/// Import `id` ended (its report or failure is in `target_imports`).
pub fn end(conn: Conn<'_>, id: &str) -> Result<(), DbError> {
    conn.execute("DELETE FROM running_imports WHERE import_id = ?1", &[&id])?;
    Ok(())
}

/// A running import's region and progress (done, total), if it beat after `stale_before`.
pub fn progress(
    conn: Conn<'_>,
    id: &str,
    stale_before: i64,
) -> Result<Option<(String, i64, i64)>, DbError> {
    conn.optional_row(
        "SELECT region, done, total FROM running_imports
         WHERE import_id = ?1 AND beat_at >= ?2",
        &[&id, &stale_before],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}
