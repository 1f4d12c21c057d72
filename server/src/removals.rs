//! Families that a newer target list no longer holds (issue 14, item 1). A list that leaves a
//! family out says nothing of why (moved, died out, graduated, or a clerk's slip), so nothing is
//! deleted: the family waits in a queue until a reviewer confirms its removal (its baseline
//! becomes REMOVED, and phones pull that) or keeps it. Its visits stay either way.
//!
//! A list covers the kabupaten its rows name, for its own source: a family of the same source
//! and one of those kabupaten (inside the importer's region) that is not in the list is a
//! candidate. A family listed again leaves the queue, whatever was decided of it.

use std::collections::{BTreeSet, HashSet};

use uuid::Uuid;
use verivali_core::model::{
    Code, Household, HouseholdId, Labelled, RegionCode, RegionLevel, Source, TargetStatus,
    Timestamp,
};

use crate::auth::SupervisorAuth;
use crate::db::{Db, DbError};
use crate::error::ApiError;
use crate::store::{self, Conn};
use crate::supervision::region_in_scope;
use crate::{audit, households, roles};

/// Queues the families of `source` in the kabupaten of `listed` that `listed` leaves out, and
/// takes the listed ones out of the queue. Returns how many were newly queued.
pub fn mark_unlisted(
    tx: Conn<'_>,
    import_id: Uuid,
    source: Source,
    scope: Option<&RegionCode>,
    listed: &[Household],
    now: Timestamp,
) -> Result<usize, DbError> {
    for household in listed {
        store::removals::listed_again(tx, &household.household_id.to_string())?;
    }
    let listed_ids: HashSet<String> = listed.iter().map(|h| h.household_id.to_string()).collect();
    let kabupaten: BTreeSet<RegionCode> = listed
        .iter()
        .filter_map(|h| h.region.ancestor(RegionLevel::Regency))
        .collect();
    let (import_id, at) = (import_id.to_string(), now.unix_millis());
    let mut queued = 0;
    for kabupaten in &kabupaten {
        let families = store::removals::listed_of_source(tx, kabupaten.as_str(), source.code())?;
        for (id, region) in families {
            let inside =
                scope.is_none_or(|s| RegionCode::parse(&region).is_ok_and(|r| s.contains(&r)));
            if inside
                && !listed_ids.contains(&id)
                && store::removals::queue(tx, &id, &region, &import_id, at)?
            {
                queued += 1;
            }
        }
    }
    Ok(queued)
}

/// A family waiting in the queue, as a reviewer sees it.
pub use crate::store::removals::Candidate;

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
        .read(move |conn| Ok::<_, ApiError>(store::removals::waiting(conn, asked.as_str(), PAGE)?))
        .await?;
    audit::record_reading(db, who, &region, "removals:read").await?;
    Ok((region, candidates, total))
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
        let region = store::removals::waiting_region(tx, &household.to_string())?
            .and_then(|r| RegionCode::parse(&r).ok())
            .ok_or_else(ApiError::not_found)?;
        who.check_household(&region)?;
        let now = Timestamp::now_utc();
        let decision = if remove { "REMOVED" } else { "KEPT" };
        if remove {
            let text = households::baseline_text(tx, household)?.ok_or_else(ApiError::not_found)?;
            let mut baseline: Household = serde_json::from_str(&text).map_err(DbError::from)?;
            baseline.target_status = TargetStatus::Removed;
            households::save_baseline(tx, &baseline, now)?;
        }
        store::removals::decide(
            tx,
            &household.to_string(),
            decision,
            (&who.actor(), now.unix_millis()),
        )?;
        audit::record_in(
            tx,
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
