//! The review queues: households whose enumerators disagree, suspected duplicates, visits that
//! wait for a decision (the flagged ones apart), and households enumerators proposed. The JSON
//! API and the pages read them here; each read is audited as a read of personal data.

// SQL still here, to move to crate::store (issue 16, server/clippy.toml).
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use verivali_core::model::{RegionCode, Timestamp};

use crate::auth::SupervisorAuth;
use crate::db::Db;
use crate::error::ApiError;
use crate::reports::code_range;
use crate::supervision::{record_read, region_in_scope};

#[derive(Debug, Serialize, Deserialize)]
pub struct ConflictLine {
    pub household_id: String,
    pub region: String,
    pub head_name: String,
    pub conflicts: Value,
}

/// Reads one queue of `region` on a read connection, and audits the read as `action`: the
/// queues list names.
async fn audited_read<T: Send + 'static>(
    db: &Db,
    who: &SupervisorAuth,
    region: RegionCode,
    action: &'static str,
    read: impl FnOnce(&Connection, &RegionCode) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    who.check(&region)?;
    let target = region.to_string();
    let asked = region.clone();
    let found = db.read(move |conn| read(conn, &region)).await?;
    record_read(db, who, &asked, action, target, None).await?;
    Ok(found)
}

/// Households whose enumerators disagree, oldest change first.
pub async fn conflicts(
    db: &Db,
    who: &SupervisorAuth,
    region: RegionCode,
) -> Result<Vec<ConflictLine>, ApiError> {
    audited_read(db, who, region, "queue:conflicts", read_conflicts).await
}

fn read_conflicts(conn: &Connection, region: &RegionCode) -> Result<Vec<ConflictLine>, ApiError> {
    let (from, to) = code_range(region);
    let mut stmt = conn.prepare_cached(
        "SELECT household_id, region, head_name, state FROM households
         WHERE region >= ?1 AND region < ?2 AND status = 'NEEDS_REVIEW'
         ORDER BY change_seq LIMIT 1000",
    )?;
    stmt.query_map([from, to], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?
    .map(|row| {
        let (household_id, region, head_name, state) = row?;
        let state: Value = serde_json::from_str(&state)?;
        Ok(ConflictLine {
            household_id,
            region,
            head_name,
            conflicts: state["conflicts"].clone(),
        })
    })
    .collect()
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

/// Suspected duplicates (data ganda) not yet dismissed or merged, both households inside the
/// region.
pub async fn duplicates(
    db: &Db,
    who: &SupervisorAuth,
    region: RegionCode,
) -> Result<Vec<DuplicatePair>, ApiError> {
    audited_read(db, who, region, "queue:duplicates", read_duplicates).await
}

fn read_duplicates(conn: &Connection, region: &RegionCode) -> Result<Vec<DuplicatePair>, ApiError> {
    let (from, to) = code_range(region);
    let mut stmt = conn.prepare_cached(
        "SELECT d.household_a, d.household_b, a.head_name, b.head_name, d.kind, d.found_at
         FROM duplicates d
         JOIN households a ON a.household_id = d.household_a
         JOIN households b ON b.household_id = d.household_b
         WHERE d.dismissed_at IS NULL AND a.merged_into IS NULL AND b.merged_into IS NULL
           AND a.region >= ?1 AND a.region < ?2 AND b.region >= ?1 AND b.region < ?2
         ORDER BY d.found_at LIMIT 1000",
    )?;
    let pairs = stmt
        .query_map([from, to], |r| {
            Ok(DuplicatePair {
                household_a: r.get(0)?,
                household_b: r.get(1)?,
                head_name_a: r.get(2)?,
                head_name_b: r.get(3)?,
                kind: r.get(4)?,
                found_at: Timestamp::from_unix_millis(r.get(5)?),
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(pairs)
}

/// `GET /api/v1/queues/visits`: which visits to list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct VisitQuery {
    #[serde(default)]
    pub region: Option<String>,
    /// Only visits that carry a flag (LEFT_AREA, CLOCK_SKEW, FUTURE_TIME, a warning).
    #[serde(default)]
    pub flagged: Option<bool>,
    /// The last visit id of the previous page.
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VisitsToReview {
    pub visits: Vec<VisitToReview>,
    /// Give as `after` for the next page; absent on the last one.
    pub next_after: Option<String>,
}

pub const MAX_PAGE: u32 = 200;

/// Visits inside the region with no decision yet (approve or return), in the order they were
/// made (visit ids are UUIDv7), paged.
pub async fn visits_to_review(
    db: &Db,
    who: &SupervisorAuth,
    query: VisitQuery,
) -> Result<VisitsToReview, ApiError> {
    let region = region_in_scope(who, query.region.as_deref())?;
    let flagged = query.flagged.unwrap_or(false);
    let limit = query.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let after = query.after.unwrap_or_default();
    let action = if flagged {
        "queue:flagged-visits"
    } else {
        "queue:visits"
    };
    audited_read(db, who, region, action, move |conn, region| {
        read_visits_to_review(conn, region, flagged, &after, limit)
    })
    .await
}

fn read_visits_to_review(
    conn: &Connection,
    region: &RegionCode,
    flagged: bool,
    after: &str,
    limit: u32,
) -> Result<VisitsToReview, ApiError> {
    let (from, to) = code_range(region);
    let mut stmt = conn.prepare_cached(
        "SELECT v.visit_id, v.household_id, h.head_name, h.region, v.enumerator_id,
             coalesce(e.name, ''), v.device_seq, v.order_time, v.flags,
             json_extract(v.body, '$.outcome'), json_extract(v.body, '$.assessment'),
             json_extract(v.body, '$.recommendation')
         FROM visits v JOIN households h ON h.household_id = v.household_id
         LEFT JOIN enumerators e ON e.enumerator_id = v.enumerator_id
         WHERE h.region >= ?1 AND h.region < ?2 AND v.visit_id > ?3
           AND (?4 = 0 OR v.flags <> '[]')
           AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.visit_id = v.visit_id)
         ORDER BY v.visit_id LIMIT ?5",
    )?;
    let mut visits = stmt
        .query_map(
            rusqlite::params![from, to, after, flagged, limit + 1],
            |r| {
                Ok((
                    VisitToReview {
                        visit_id: r.get(0)?,
                        household_id: r.get(1)?,
                        head_name: r.get(2)?,
                        region: r.get(3)?,
                        enumerator_id: r.get(4)?,
                        enumerator_name: r.get(5)?,
                        device_seq: r.get(6)?,
                        order_time: Timestamp::from_unix_millis(r.get(7)?),
                        flags: Vec::new(),
                        outcome: r.get(9)?,
                        assessment: r.get(10)?,
                        recommendation: r.get(11)?,
                    },
                    r.get::<_, String>(8)?,
                ))
            },
        )?
        .map(|row| {
            let (mut line, flags) = row?;
            line.flags = serde_json::from_str(&flags)?;
            Ok::<_, ApiError>(line)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let next_after = (visits.len() > limit as usize).then(|| {
        visits.truncate(limit as usize);
        visits
            .last()
            .map(|v| v.visit_id.clone())
            .unwrap_or_default()
    });
    Ok(VisitsToReview { visits, next_after })
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

pub async fn proposals(
    db: &Db,
    who: &SupervisorAuth,
    region: RegionCode,
) -> Result<Vec<Proposal>, ApiError> {
    audited_read(db, who, region, "queue:proposals", read_proposals).await
}

fn read_proposals(conn: &Connection, region: &RegionCode) -> Result<Vec<Proposal>, ApiError> {
    let (from, to) = code_range(region);
    let mut stmt = conn.prepare_cached(
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
    )?;
    let lines = stmt
        .query_map([from, to], |r| {
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
        })?
        .collect::<Result<_, _>>()?;
    Ok(lines)
}
