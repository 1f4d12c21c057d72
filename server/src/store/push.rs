//! What a push reads and writes besides households ([`crate::ingest`] plans and decides): visits
//! by id, the visit rows, pairs an enumerator named, rejected numbers.

use super::Conn;
use crate::db::DbError;

/// The content hash of each stored visit among `ids` (`None`: not stored), in their order.
pub fn content_hashes<'i>(
    conn: Conn<'_>,
    ids: impl IntoIterator<Item = &'i str>,
) -> Result<Vec<Option<String>>, DbError> {
    ids.into_iter()
        .map(|id| {
            conn.optional_value(
                "SELECT content_hash FROM visits WHERE visit_id = ?1",
                &[&id],
            )
        })
        .collect()
}

/// The content hash of a stored visit.
pub fn content_hash(conn: Conn<'_>, visit_id: &str) -> Result<Option<String>, DbError> {
    Ok(content_hashes(conn, [visit_id])?.pop().flatten())
}

/// The device that made a stored visit.
pub fn device_of(conn: Conn<'_>, visit_id: &str) -> Result<Option<String>, DbError> {
    conn.optional_value(
        "SELECT device_id FROM visits WHERE visit_id = ?1",
        &[&visit_id],
    )
}

/// Whether any of `ids` is a stored visit.
pub fn any_stored<'i>(
    conn: Conn<'_>,
    ids: impl IntoIterator<Item = &'i str>,
) -> Result<bool, DbError> {
    for id in ids {
        if conn.exists("SELECT 1 FROM visits WHERE visit_id = ?1", &[&id])? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A visit row, as accepted.
#[derive(Debug)]
pub struct NewVisit<'a> {
    pub visit_id: &'a str,
    pub household_id: &'a str,
    /// The household's region when the visit was stored.
    pub region: &'a str,
    pub enumerator_id: &'a str,
    pub device_id: &'a str,
    pub device_seq: u64,
    pub content_hash: &'a str,
    pub body: &'a str,
    pub received_at: i64,
    pub skew_ms: i64,
    pub order_time: i64,
    pub flags: &'a str,
    /// The GPS point (lat, lon), for the map.
    pub point: Option<(f64, f64)>,
}

/// Inserts the visits (their ids are new).
pub fn insert_visits<'a>(
    conn: Conn<'_>,
    visits: impl IntoIterator<Item = NewVisit<'a>>,
) -> Result<(), DbError> {
    for v in visits {
        let device_seq = i64::try_from(v.device_seq)
            .map_err(|_| DbError::Inconsistent("a device number past i64".into()))?;
        conn.execute(
            "INSERT INTO visits (visit_id, household_id, enumerator_id, device_id, device_seq,
                 content_hash, body, received_at, skew_ms, order_time, flags, lat, lon, region)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            &[
                &v.visit_id,
                &v.household_id,
                &v.enumerator_id,
                &v.device_id,
                &device_seq,
                &v.content_hash,
                &v.body,
                &v.received_at,
                &v.skew_ms,
                &v.order_time,
                &v.flags,
                &v.point.map(|(lat, _)| lat),
                &v.point.map(|(_, lon)| lon),
                &v.region,
            ],
        )?;
    }
    Ok(())
}

/// Queues households `a` < `b` as one family, as a visit said (`kind`), if `other` (one of the
/// two) is stored.
pub fn record_same_family(
    conn: Conn<'_>,
    (a, b): (&str, &str),
    kind: &str,
    at: i64,
    other: &str,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO duplicates (household_a, household_b, kind, found_at)
         SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM households WHERE household_id = ?5)
         ON CONFLICT DO NOTHING",
        &[&a, &b, &kind, &at, &other],
    )?;
    Ok(())
}

/// Remembers a rejected number of a device (the latest rejection of a number wins).
pub fn record_rejection(
    conn: Conn<'_>,
    device: &str,
    seq: i64,
    visit_id: Option<&str>,
    codes: &str,
    at: i64,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO rejected_seqs (device_id, device_seq, visit_id, codes, rejected_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (device_id, device_seq) DO UPDATE SET visit_id = excluded.visit_id,
             codes = excluded.codes, rejected_at = excluded.rejected_at",
        &[&device, &seq, &visit_id, &codes, &at],
    )?;
    Ok(())
}
