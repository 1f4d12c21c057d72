//! The review queues as stored ([`crate::queues`] scopes and audits them). Each reads the villages
//! `[from, to)` of a region.

use serde::{Deserialize, Serialize};
use verivali_core::model::Timestamp;

use super::Conn;
use crate::db::DbError;

/// Households whose enumerators disagree, oldest change first: (id, village, head, state JSON).
pub fn conflicts(
    conn: Conn<'_>,
    (from, to): (&str, &str),
) -> Result<Vec<(String, String, String, String)>, DbError> {
    conn.planned_for_values(|| {
        conn.rows(
            "SELECT household_id, region, head_name, state FROM households
         WHERE region >= ?1 AND region < ?2 AND status = 'NEEDS_REVIEW'
         ORDER BY change_seq LIMIT 1000",
            &[&from, &to],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
    })
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DuplicatePair {
    pub household_a: String,
    pub household_b: String,
    pub head_name_a: String,
    pub head_name_b: String,
    /// NIK, KK or NAME_BIRTH: what the two share.
    pub kind: String,
    pub found_at: Timestamp,
}

/// Suspected duplicates not yet dismissed or merged, both households inside the villages.
pub fn duplicates(conn: Conn<'_>, (from, to): (&str, &str)) -> Result<Vec<DuplicatePair>, DbError> {
    conn.planned_for_values(|| {
        conn.rows(
            "SELECT d.household_a, d.household_b, a.head_name, b.head_name, d.kind, d.found_at
         FROM duplicates d
         JOIN households a ON a.household_id = d.household_a
         JOIN households b ON b.household_id = d.household_b
         WHERE d.dismissed_at IS NULL AND a.merged_into IS NULL AND b.merged_into IS NULL
           AND a.region >= ?1 AND a.region < ?2 AND b.region >= ?1 AND b.region < ?2
         ORDER BY d.found_at LIMIT 1000",
            &[&from, &to],
            |r| {
                Ok(DuplicatePair {
                    household_a: r.get(0)?,
                    household_b: r.get(1)?,
                    head_name_a: r.get(2)?,
                    head_name_b: r.get(3)?,
                    kind: r.get(4)?,
                    found_at: Timestamp::from_unix_millis(r.get(5)?),
                })
            },
        )
    })
}

/// A visit no supervisor has decided on yet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VisitToReview {
    pub visit_id: String,
    pub household_id: String,
    pub head_name: String,
    pub region: String,
    pub enumerator_id: String,
    pub enumerator_name: String,
    pub device_seq: u64,
    /// The corrected time the merge orders by.
    pub order_time: Timestamp,
    pub flags: Vec<String>,
    pub outcome: Option<String>,
    pub assessment: Option<String>,
    pub recommendation: Option<String>,
}

/// Up to `limit` visits inside the villages with no decision yet (only flagged ones if asked),
/// after visit `after` in id order.
pub fn undecided_visits(
    conn: Conn<'_>,
    (from, to): (&str, &str),
    flagged: bool,
    after: &str,
    limit: i64,
) -> Result<Vec<VisitToReview>, DbError> {
    // The verdicts are read from the visit's body: SQLite's JSON functions or PostgreSQL's.
    let verdicts = if conn.is_postgres() {
        "CAST(v.body AS jsonb) ->> 'outcome', CAST(v.body AS jsonb) ->> 'assessment',
         CAST(v.body AS jsonb) ->> 'recommendation'"
    } else {
        "json_extract(v.body, '$.outcome'), json_extract(v.body, '$.assessment'),
         json_extract(v.body, '$.recommendation')"
    };
    let sql = format!(
        "SELECT v.visit_id, v.household_id, h.head_name, h.region, v.enumerator_id,
             coalesce(e.name, ''), v.device_seq, v.order_time, v.flags, {verdicts}
         FROM visits v JOIN households h ON h.household_id = v.household_id
         LEFT JOIN enumerators e ON e.enumerator_id = v.enumerator_id
         WHERE h.region >= ?1 AND h.region < ?2 AND v.visit_id > ?3
           AND (NOT ?4 OR v.flags <> '[]')
           AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.visit_id = v.visit_id)
         ORDER BY v.visit_id LIMIT ?5"
    );
    conn.planned_for_values(|| {
        conn.rows(&sql, &[&from, &to, &after, &flagged, &limit], |r| {
            let flags: String = r.get(8)?;
            Ok(VisitToReview {
                visit_id: r.get(0)?,
                household_id: r.get(1)?,
                head_name: r.get(2)?,
                region: r.get(3)?,
                enumerator_id: r.get(4)?,
                enumerator_name: r.get(5)?,
                device_seq: u64::try_from(r.get::<i64>(6)?).unwrap_or(0),
                order_time: Timestamp::from_unix_millis(r.get(7)?),
                flags: serde_json::from_str(&flags)?,
                outcome: r.get(9)?,
                assessment: r.get(10)?,
                recommendation: r.get(11)?,
            })
        })
    })
}

/// A household an enumerator found that is not on the target list, waiting to be accepted
/// (approve its visit) or rejected (return it with a reason, which reaches the phone).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Proposal {
    pub household_id: String,
    pub head_name: String,
    pub address: String,
    pub region: String,
    pub rw: Option<String>,
    pub rt: Option<String>,
    /// The latest visit, which the decision is on.
    pub visit_id: String,
    pub enumerator_name: String,
    pub order_time: Timestamp,
}

/// Proposed households inside the villages that a visit reached, oldest visit first.
pub fn proposals(conn: Conn<'_>, (from, to): (&str, &str)) -> Result<Vec<Proposal>, DbError> {
    conn.planned_for_values(|| {
        conn.rows(
            "SELECT h.household_id, h.head_name, h.address, h.region, h.rw, h.rt,
             v.visit_id, coalesce(e.name, ''), v.order_time
         FROM households h
         JOIN visits v ON v.visit_id = (SELECT visit_id FROM visits l
             WHERE l.household_id = h.household_id ORDER BY l.order_time DESC,
             l.visit_id DESC LIMIT 1)
         LEFT JOIN enumerators e ON e.enumerator_id = v.enumerator_id
         WHERE h.region >= ?1 AND h.region < ?2 AND h.target_status = 'PROPOSED'
           AND h.status <> 'NOT_VISITED'
         ORDER BY v.order_time LIMIT 1000",
            &[&from, &to],
            |r| {
                Ok(Proposal {
                    household_id: r.get(0)?,
                    head_name: r.get(1)?,
                    address: r.get(2)?,
                    region: r.get(3)?,
                    rw: r.get(4)?,
                    rt: r.get(5)?,
                    visit_id: r.get(6)?,
                    enumerator_name: r.get(7)?,
                    order_time: Timestamp::from_unix_millis(r.get(8)?),
                })
            },
        )
    })
}
