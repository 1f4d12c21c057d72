//! What the supervisors' household pages read ([`crate::supervision`] checks scope, masks and
//! audits): a page of a region's households by filter, one household with its visits,
//! decisions and suspected duplicates, and every household of a region for an export.

use serde::{Deserialize, Serialize};

use super::Conn;
use super::tallies::count;
use crate::db::DbError;

/// A household as the list shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HouseholdLine {
    pub household_id: String,
    pub region: String,
    pub rw: Option<String>,
    pub rt: Option<String>,
    pub head_name: String,
    pub address: String,
    pub status: String,
    pub outcome: Option<String>,
    pub assessment: Option<String>,
    pub recommendation: Option<String>,
}

/// What a page of the list asks for; `None` filters nothing.
#[derive(Debug)]
pub struct Listed<'a> {
    /// The villages `[from, to)`.
    pub villages: (&'a str, &'a str),
    /// Households after this id, in id order.
    pub after: &'a str,
    pub status: Option<&'a str>,
    pub assessment: Option<&'a str>,
    pub recommendation: Option<&'a str>,
    /// Only households with a flagged visit.
    pub flagged: bool,
    /// Holding this NIK (its duplicate key).
    pub nik_key: Option<&'a str>,
    /// A `LIKE` pattern (escaped with `\`) of the head's name, lowered.
    pub name_like: Option<&'a str>,
    pub limit: i64,
}

pub fn page(conn: Conn<'_>, asked: &Listed<'_>) -> Result<Vec<HouseholdLine>, DbError> {
    conn.planned_for_values(|| {
        conn.rows(
            "SELECT h.household_id, h.region, h.rw, h.rt, h.head_name, h.address, h.status,
                    h.outcome, h.assessment, h.recommendation
             FROM households h
             WHERE h.region >= ?1 AND h.region < ?2 AND h.household_id > ?3
               AND (CAST(?4 AS TEXT) IS NULL OR h.status = ?4)
               AND (CAST(?5 AS TEXT) IS NULL OR h.assessment = ?5)
               AND (CAST(?6 AS TEXT) IS NULL OR h.recommendation = ?6)
               AND (NOT ?7 OR EXISTS (SELECT 1 FROM visits v
                                      WHERE v.household_id = h.household_id AND v.flags <> '[]'))
               AND (CAST(?8 AS TEXT) IS NULL OR h.household_id IN
                    (SELECT k.household_id FROM household_keys k
                     WHERE k.kind = 'NIK' AND k.key = ?8))
               AND (CAST(?9 AS TEXT) IS NULL OR lower(h.head_name) LIKE ?9 ESCAPE '\\')
             ORDER BY h.household_id LIMIT ?10",
            &[
                &asked.villages.0,
                &asked.villages.1,
                &asked.after,
                &asked.status,
                &asked.assessment,
                &asked.recommendation,
                &asked.flagged,
                &asked.nik_key,
                &asked.name_like,
                &asked.limit,
            ],
            |r| {
                Ok(HouseholdLine {
                    household_id: r.get(0)?,
                    region: r.get(1)?,
                    rw: r.get(2)?,
                    rt: r.get(3)?,
                    head_name: r.get(4)?,
                    address: r.get(5)?,
                    status: r.get(6)?,
                    outcome: r.get(7)?,
                    assessment: r.get(8)?,
                    recommendation: r.get(9)?,
                })
            },
        )
    })
}

/// A household's village, merged state (JSON text) and state hash.
pub fn placed_state(conn: Conn<'_>, id: &str) -> Result<Option<(String, String, String)>, DbError> {
    conn.optional_row(
        "SELECT region, state, state_hash FROM households WHERE household_id = ?1",
        &[&id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

/// A stored visit as the household page shows it.
#[derive(Debug)]
pub struct VisitRow {
    pub device_seq: i64,
    pub received_at: i64,
    pub order_time: i64,
    pub skew_ms: i64,
    /// JSON list of codes.
    pub flags: String,
    /// The visit, as JSON text.
    pub body: String,
}

/// The visits of a household and of those merged into it, in the merge's order.
pub fn visits_of_group(conn: Conn<'_>, id: &str) -> Result<Vec<VisitRow>, DbError> {
    conn.rows(
        "WITH RECURSIVE grp (id) AS (
             SELECT CAST(?1 AS TEXT) UNION SELECT h.household_id FROM households h JOIN grp g
                 ON h.merged_into = g.id)
         SELECT device_seq, received_at, order_time, skew_ms, flags, body
         FROM visits WHERE household_id IN (SELECT id FROM grp) ORDER BY order_time, visit_id",
        &[&id],
        |r| {
            Ok(VisitRow {
                device_seq: r.get(0)?,
                received_at: r.get(1)?,
                order_time: r.get(2)?,
                skew_ms: r.get(3)?,
                flags: r.get(4)?,
                body: r.get(5)?,
            })
        },
    )
}

/// The decisions on a household (bodies, JSON), in the order they were made.
pub fn decisions_on(conn: Conn<'_>, id: &str) -> Result<Vec<String>, DbError> {
    conn.values(
        "SELECT body FROM reviews WHERE household_id = ?1 ORDER BY change_seq",
        &[&id],
    )
}

/// The suspected duplicates of household `id` whose other household lies in the villages
/// `[from, to)`: (household a, household b, kind, dismissed), by kind.
pub fn duplicates_of(
    conn: Conn<'_>,
    id: &str,
    (from, to): (&str, &str),
) -> Result<Vec<(String, String, String, bool)>, DbError> {
    conn.rows(
        "SELECT d.household_a, d.household_b, d.kind, d.dismissed_at IS NOT NULL
         FROM duplicates d JOIN households o ON o.household_id =
             CASE WHEN d.household_a = ?1 THEN d.household_b ELSE d.household_a END
         WHERE (d.household_a = ?1 OR d.household_b = ?1) AND o.region >= ?2 AND o.region < ?3
         ORDER BY d.kind",
        &[&id, &from, &to],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
}

/// A household as an export reads it: its state (JSON) holds the numbers it masks.
#[derive(Debug)]
pub struct ExportedHousehold {
    pub household_id: String,
    pub source: String,
    pub source_id: Option<String>,
    pub region: String,
    /// The village's name, from the region list.
    pub village: Option<String>,
    pub rw: Option<String>,
    pub rt: Option<String>,
    pub head_name: String,
    pub address: String,
    pub state: String,
    pub status: String,
    pub outcome: Option<String>,
    pub assessment: Option<String>,
    pub recommendation: Option<String>,
}

/// How many households [`exported`] gives.
pub fn count_exported(
    conn: Conn<'_>,
    (from, to): (&str, &str),
    status: Option<&str>,
) -> Result<u64, DbError> {
    conn.planned_for_values(|| {
        conn.value(
            "SELECT count(*) FROM households
             WHERE region >= ?1 AND region < ?2 AND (CAST(?3 AS TEXT) IS NULL OR status = ?3)",
            &[&from, &to, &status],
        )
        .map(count)
    })
}

/// Gives `each` the households of the villages `[from, to)` (of one status, if given), by place
/// and name, one at a time as they are read: a province's are too many to hold with their states.
pub fn exported<E: From<DbError>>(
    conn: Conn<'_>,
    (from, to): (&str, &str),
    status: Option<&str>,
    mut each: impl FnMut(ExportedHousehold) -> Result<(), E>,
) -> Result<(), E> {
    conn.planned_for_values(|| {
        conn.for_each_row(
            "SELECT h.household_id, h.source, h.source_id, h.region, r.name, h.rw, h.rt,
                    h.head_name, h.address, h.state, h.status, h.outcome, h.assessment,
                    h.recommendation
             FROM households h LEFT JOIN regions r ON r.code = h.region
             WHERE h.region >= ?1 AND h.region < ?2
               AND (CAST(?3 AS TEXT) IS NULL OR h.status = ?3)
             ORDER BY h.region, h.rw NULLS FIRST, h.rt NULLS FIRST, h.head_name, h.household_id",
            &[&from, &to, &status],
            |r| {
                each(ExportedHousehold {
                    household_id: r.get(0)?,
                    source: r.get(1)?,
                    source_id: r.get(2)?,
                    region: r.get(3)?,
                    village: r.get(4)?,
                    rw: r.get(5)?,
                    rt: r.get(6)?,
                    head_name: r.get(7)?,
                    address: r.get(8)?,
                    state: r.get(9)?,
                    status: r.get(10)?,
                    outcome: r.get(11)?,
                    assessment: r.get(12)?,
                    recommendation: r.get(13)?,
                })
            },
        )
    })
}
