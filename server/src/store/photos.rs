//! Photos as the database knows them: which devices sent an attachment's bytes, and which
//! household a photo belongs to (the bytes themselves are files, `attachments`).

use super::Conn;
use crate::db::DbError;

/// Whether `device` sent all of the attachment's bytes itself once.
pub fn holds(conn: Conn<'_>, sha256: &str, device: &str) -> Result<bool, DbError> {
    conn.exists(
        "SELECT 1 FROM attachment_holders WHERE sha256 = ?1 AND device_id = ?2",
        &[&sha256, &device],
    )
}

/// Notes that `device` sent all of the attachment's bytes.
pub fn record_holder(conn: Conn<'_>, sha256: &str, device: &str) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO attachment_holders (sha256, device_id) VALUES (?1, ?2)
         ON CONFLICT DO NOTHING",
        &[&sha256, &device],
    )?;
    Ok(())
}

/// The village of household `id`, if a visit of it or of a household merged into it carries
/// the photo `sha256`.
pub fn region_of_photo(conn: Conn<'_>, id: &str, sha256: &str) -> Result<Option<String>, DbError> {
    // A visit's photos are read from its body: SQLite's JSON functions or PostgreSQL's.
    let photos = if conn.is_postgres() {
        "jsonb_array_elements(CAST(v.body AS jsonb) -> 'photos') p
         WHERE v.household_id IN (SELECT id FROM grp) AND p ->> 'sha256' = ?2"
    } else {
        "json_each(v.body, '$.photos') p
         WHERE v.household_id IN (SELECT id FROM grp) AND json_extract(p.value, '$.sha256') = ?2"
    };
    conn.optional_value(
        &format!(
            "WITH RECURSIVE grp (id) AS (
                 SELECT CAST(?1 AS TEXT) UNION SELECT h.household_id FROM households h JOIN grp g
                     ON h.merged_into = g.id)
             SELECT (SELECT region FROM households WHERE household_id = ?1)
             FROM visits v, {photos}
             LIMIT 1"
        ),
        &[&id, &sha256],
    )
}
