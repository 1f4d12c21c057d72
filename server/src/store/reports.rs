//! What reports count ([`crate::reports`] adds the counts up): households by verdict, the work of
//! one RW, duplicates waiting, and each phone's numbers received and rejected.

use super::Conn;
use super::tallies::{Work, count};
use crate::db::DbError;

/// One group of households with the same verdict in the same child region (and, inside a
/// village, the same RW and RT).
#[derive(Debug)]
pub struct VerdictGroup {
    /// The child region's code.
    pub child: String,
    pub target_status: String,
    pub status: String,
    pub outcome: Option<String>,
    pub assessment: Option<String>,
    pub recommendation: Option<String>,
    pub rw: Option<String>,
    pub rt: Option<String>,
    pub households: u64,
}

/// The households of the villages `[from, to)` counted by verdict and by the region of their
/// code's first `child_len` characters (a kabupaten's 5 in a province, a kecamatan's 8 in a
/// kabupaten, the whole in a kecamatan), and by RW and RT too when `by_place` (inside one
/// village, where the groups are few). One child's verdict may come in several groups, to be
/// added up.
pub fn households_by_verdict(
    conn: Conn<'_>,
    (from, to): (&str, &str),
    child_len: i32,
    by_place: bool,
) -> Result<Vec<VerdictGroup>, DbError> {
    // Both count in the order of the covering index, by village, with no sort and no table read
    // (summing ten expressions per household in SQL took four times as long at a kabupaten of
    // 150,000 households, docs/benchmarks.md). SQLite sends each village's groups (a province's
    // 438,631). PostgreSQL, planned for the range given, adds them up by child first: a few
    // thousand groups; grouping its 1.5 million rows by child at once it would sort them,
    // misjudging the groups as many, and spill to disk.
    let place = if by_place { ", rw, rt" } else { "" };
    let verdict = "target_status, status, outcome, assessment, recommendation";
    let by_village = format!(
        "SELECT substr(region, 1, ?3) AS child, {verdict}{place}, count(*) AS n
         FROM households {index}
         WHERE region >= ?1 AND region < ?2
         GROUP BY region, {verdict}{place}",
        index = if conn.is_postgres() {
            ""
        } else {
            "INDEXED BY households_by_verdict"
        }
    );
    let sql = if conn.is_postgres() {
        format!(
            "SELECT child, {verdict}{place}, CAST(sum(n) AS BIGINT) FROM ({by_village}) AS g
             GROUP BY child, {verdict}{place}"
        )
    } else {
        by_village
    };
    conn.planned_for_values(|| {
        conn.rows(&sql, &[&from, &to, &child_len], |r| {
            let (rw, rt, n) = if by_place {
                (r.get(6)?, r.get(7)?, r.get(8)?)
            } else {
                (None, None, r.get(6)?)
            };
            Ok(VerdictGroup {
                child: r.get(0)?,
                target_status: r.get(1)?,
                status: r.get(2)?,
                outcome: r.get(3)?,
                assessment: r.get(4)?,
                recommendation: r.get(5)?,
                rw,
                rt,
                households: count(n),
            })
        })
    })
}

/// A region's name as the region list has it.
pub fn region_name(conn: Conn<'_>, code: &str) -> Result<Option<String>, DbError> {
    conn.optional_value("SELECT name FROM regions WHERE code = ?1", &[&code])
}

/// The work of RW `rw` of `village` (`-` for its households placed in no RW) since the unix
/// times `today` and `week`, counted from its households' visits.
pub fn rw_work_since(
    conn: Conn<'_>,
    village: &str,
    rw: &str,
    (today, week): (i64, i64),
) -> Result<Work, DbError> {
    conn.row(
        "SELECT CAST(coalesce(sum(CASE WHEN v.order_time >= ?3 THEN 1 ELSE 0 END), 0) AS BIGINT),
             CAST(coalesce(sum(CASE WHEN v.order_time >= ?4 THEN 1 ELSE 0 END), 0) AS BIGINT),
             count(DISTINCT CASE WHEN v.order_time >= ?3 THEN v.enumerator_id END),
             CAST(coalesce(sum(CASE WHEN v.flags <> '[]' AND NOT EXISTS
                 (SELECT 1 FROM reviews r WHERE r.visit_id = v.visit_id) THEN 1 ELSE 0 END), 0)
                 AS BIGINT)
         FROM households h JOIN visits v ON v.household_id = h.household_id
         WHERE h.region = ?1 AND coalesce(h.rw, '-') = ?2",
        &[&village, &rw, &today, &week],
        Work::read,
    )
}

/// Pairs of suspected duplicates waiting, both households inside the villages `[from, to)`, and
/// one of them in RW `rw` when given.
pub fn duplicates_waiting(
    conn: Conn<'_>,
    (from, to): (&str, &str),
    rw: Option<&str>,
) -> Result<u64, DbError> {
    // The pairs are read first, far fewer than a kabupaten's households: SQLite keeps the order
    // of a CROSS JOIN; PostgreSQL plans its own (and allows no ON after CROSS JOIN).
    let join = if conn.is_postgres() {
        "JOIN"
    } else {
        "CROSS JOIN"
    };
    let pairs: i64 = conn.value(
        &format!(
            "SELECT count(*) FROM duplicates d
             {join} households a ON a.household_id = d.household_a
             {join} households b ON b.household_id = d.household_b
             WHERE d.dismissed_at IS NULL AND a.merged_into IS NULL AND b.merged_into IS NULL
               AND a.region >= ?1 AND a.region < ?2 AND b.region >= ?1 AND b.region < ?2
               AND (CAST(?3 AS TEXT) IS NULL OR coalesce(a.rw, '-') = ?3
                    OR coalesce(b.rw, '-') = ?3)"
        ),
        &[&from, &to, &rw],
    )?;
    Ok(count(pairs))
}

/// A phone of an enumerator working inside a region, as completeness reads it.
#[derive(Debug)]
pub struct PhoneOfRegion {
    pub device_id: String,
    pub device_name: String,
    pub enumerator_id: String,
    pub enumerator_name: String,
    pub revoked: bool,
    pub last_seen_at: Option<i64>,
    /// The highest number the phone said it finished, 0 if it never said.
    pub finished_seq: u64,
}

/// The phones of every enumerator with an area inside the villages `[from, to)`.
pub fn phones_of_region(
    conn: Conn<'_>,
    (from, to): (&str, &str),
) -> Result<Vec<PhoneOfRegion>, DbError> {
    conn.rows(
        "SELECT DISTINCT d.device_id, d.name, e.enumerator_id, e.name, d.revoked_at IS NOT NULL,
             d.last_seen_at, coalesce(d.finished_seq, 0)
         FROM devices d JOIN enumerators e ON e.enumerator_id = d.enumerator_id
         JOIN areas a ON a.enumerator_id = e.enumerator_id
         WHERE a.region >= ?1 AND a.region < ?2 ORDER BY e.name, d.device_id",
        &[&from, &to],
        |r| {
            Ok(PhoneOfRegion {
                device_id: r.get(0)?,
                device_name: r.get(1)?,
                enumerator_id: r.get(2)?,
                enumerator_name: r.get(3)?,
                revoked: r.get(4)?,
                last_seen_at: r.get(5)?,
                finished_seq: count(r.get(6)?),
            })
        },
    )
}

/// The numbers of a device's visits received, in order, once each.
pub fn numbers_received(conn: Conn<'_>, device: &str) -> Result<Vec<u64>, DbError> {
    let numbers: Vec<i64> = conn.values(
        "SELECT DISTINCT device_seq FROM visits WHERE device_id = ?1 ORDER BY device_seq",
        &[&device],
    )?;
    Ok(numbers.into_iter().map(count).collect())
}

/// The numbers of a device's visits rejected that never arrived after all, in order.
pub fn numbers_rejected(conn: Conn<'_>, device: &str) -> Result<Vec<u64>, DbError> {
    let numbers: Vec<i64> = conn.values(
        "SELECT device_seq FROM rejected_seqs r WHERE device_id = ?1 AND NOT EXISTS
         (SELECT 1 FROM visits v WHERE v.device_id = r.device_id AND v.device_seq = r.device_seq)
         ORDER BY device_seq",
        &[&device],
    )?;
    Ok(numbers.into_iter().map(count).collect())
}
