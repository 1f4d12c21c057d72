//! Families that a newer target list no longer holds (issue 14, item 1). A list that leaves a
//! family out says nothing of why (moved, died out, graduated, or a clerk's slip), so nothing is
//! deleted: the family waits in a queue until a reviewer confirms its removal (its baseline
//! becomes REMOVED, and phones pull that) or keeps it. Its visits stay either way.
//!
//! A list covers the kabupaten its rows name, for its own source: a family of the same source
//! and one of those kabupaten (inside the importer's region) that is not in the list is a
//! candidate. A family listed again leaves the queue, whatever was decided of it.

// SQL still here, to move to crate::store (issue 16, server/clippy.toml).
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::collections::{BTreeSet, HashSet};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use uuid::Uuid;
use verivali_core::model::{
    Code, Household, HouseholdId, Labelled, RegionCode, RegionLevel, Source, TargetStatus,
    Timestamp,
};

use crate::auth::SupervisorAuth;
use crate::db::{Db, DbError};
use crate::error::ApiError;
use crate::supervision::region_in_scope;
use crate::{audit, households, roles};

/// Queues the families of `source` in the kabupaten of `listed` that `listed` leaves out, and
/// takes the listed ones out of the queue. Returns how many were newly queued.
pub fn mark_unlisted(
    tx: &Transaction<'_>,
    import_id: Uuid,
    source: Source,
    scope: Option<&RegionCode>,
    listed: &[Household],
    now: Timestamp,
) -> Result<usize, DbError> {
    let mut leave = tx.prepare_cached("DELETE FROM removal_candidates WHERE household_id = ?1")?;
    for household in listed {
        leave.execute([household.household_id.to_string()])?;
    }
    let listed_ids: HashSet<String> = listed.iter().map(|h| h.household_id.to_string()).collect();
    let kabupaten: BTreeSet<RegionCode> = listed
        .iter()
        .filter_map(|h| h.region.ancestor(RegionLevel::Regency))
        .collect();
    let mut active = tx.prepare_cached(
        "SELECT household_id, region FROM households
         WHERE region >= ?1 AND region < ?1 || '/' AND source = ?2 AND source_id IS NOT NULL
             AND target_status = 'ACTIVE'",
    )?;
    let mut queue = tx.prepare_cached(
        "INSERT INTO removal_candidates (household_id, region, import_id, listed_at)
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (household_id) DO NOTHING",
    )?;
    let mut queued = 0;
    for kabupaten in &kabupaten {
        let families = active
            .query_map(params![kabupaten.as_str(), source.code()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (id, region) in families {
            let inside =
                scope.is_none_or(|s| RegionCode::parse(&region).is_ok_and(|r| s.contains(&r)));
            if inside && !listed_ids.contains(&id) {
                queued += queue.execute(params![
                    id,
                    region,
                    import_id.to_string(),
                    now.unix_millis()
                ])?;
            }
        }
    }
    Ok(queued)
}

/// A family waiting in the queue, as a reviewer sees it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub household_id: String,
    pub region: String,
    pub head_name: String,
    pub address: String,
    pub visits: i64,
    pub listed_at: Timestamp,
}

/// At most this many are shown at once: a reviewer works down the queue.
const PAGE: i64 = 200;

/// The families of `region` (the reviewer's scope unless narrower) waiting for a decision, and
/// how many wait in all.
pub async fn waiting(
    db: &Db,
    who: &SupervisorAuth,
    region: Option<&str>,
) -> Result<(RegionCode, Vec<Candidate>, i64), ApiError> {
    let region = region_in_scope(who, region)?;
    let asked = region.clone();
    let (candidates, total) = db
        .read(move |conn| Ok::<_, ApiError>(candidates(conn, &asked)?))
        .await?;
    audit::record_reading(db, who, &region, "removals:read").await?;
    Ok((region, candidates, total))
}

fn candidates(conn: &Connection, region: &RegionCode) -> Result<(Vec<Candidate>, i64), DbError> {
    let total: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM removal_candidates
             WHERE decision IS NULL AND region >= ?1 AND region < ?1 || '/'",
        )?
        .query_row([region.as_str()], |r| r.get(0))?;
    let list = conn
        .prepare_cached(
            "SELECT c.household_id, c.region, h.head_name, h.address, c.listed_at,
                 (SELECT count(*) FROM visits v WHERE v.household_id = c.household_id)
             FROM removal_candidates c JOIN households h USING (household_id)
             WHERE c.decision IS NULL AND c.region >= ?1 AND c.region < ?1 || '/'
             ORDER BY c.region, h.head_name LIMIT ?2",
        )?
        .query_map(params![region.as_str(), PAGE], |r| {
            Ok(Candidate {
                household_id: r.get(0)?,
                region: r.get(1)?,
                head_name: r.get(2)?,
                address: r.get(3)?,
                listed_at: Timestamp::from_unix_millis(r.get(4)?),
                visits: r.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok((list, total))
}

/// A reviewer's decision on a waiting family: `remove` makes its baseline REMOVED (merged
/// again, so phones pull it), otherwise it stays on the list. 404 for a family not waiting or
/// outside the reviewer's region.
pub async fn decide(
    db: &Db,
    who: &SupervisorAuth,
    household: HouseholdId,
    remove: bool,
) -> Result<(), ApiError> {
    who.check_role(roles::DECIDE)?;
    let who = who.clone();
    db.write(move |tx| {
        let region: Option<String> = tx
            .prepare_cached(
                "SELECT region FROM removal_candidates
                 WHERE household_id = ?1 AND decision IS NULL",
            )?
            .query_row([household.to_string()], |r| r.get(0))
            .optional()?;
        let region = region
            .and_then(|r| RegionCode::parse(&r).ok())
            .ok_or_else(ApiError::not_found)?;
        who.check_household(&region)?;
        let now = Timestamp::now_utc();
        let decision = if remove { "REMOVED" } else { "KEPT" };
        if remove {
            let text =
                households::baseline_text(tx.into(), household)?.ok_or_else(ApiError::not_found)?;
            let mut baseline: Household = serde_json::from_str(&text).map_err(DbError::from)?;
            baseline.target_status = TargetStatus::Removed;
            households::save_baseline(tx.into(), &baseline, now)?;
        }
        tx.prepare_cached(
            "UPDATE removal_candidates SET decision = ?2, decided_by = ?3, decided_at = ?4
             WHERE household_id = ?1",
        )?
        .execute(params![
            household.to_string(),
            decision,
            who.actor(),
            now.unix_millis()
        ])?;
        audit::record_in(
            tx.into(),
            Some(region.as_str()),
            &who.actor(),
            if remove {
                "removal:confirmed"
            } else {
                "removal:kept"
            },
            Some(&household.to_string()),
            None,
        )?;
        Ok::<_, ApiError>(())
    })
    .await
}
