//! Households on the server: the baseline as imported, and the merged state that every accepted
//! visit or review recomputes with the core's merge, in the same transaction, under a new change
//! sequence number that pulls read from.

// SQL still here, to move to crate::store (issue 16, server/clippy.toml).
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod keys;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use verivali_core::merge::{
    AcceptedVisit, Merged, Round, merge_rounds_state, merge_rounds_with_text,
};
use verivali_core::model::*;

use crate::campaigns::Campaign;
use crate::db::DbError;
pub use keys::{DuplicateKeys, nik_digest};

/// Takes the next number of the change sequence (its row is made with the schema).
///
/// A plain update and a read: an upsert or `RETURNING` makes SQLite open a statement journal,
/// copying the page at every call, which was a tenth of the writer's time at ingest.
pub fn next_change_seq(tx: &Transaction<'_>) -> Result<i64, DbError> {
    tx.prepare_cached(
        "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'change_seq'",
    )?
    .execute([])?;
    let seq: i64 = tx
        .prepare_cached("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'change_seq'")?
        .query_row([], |r| r.get(0))?;
    Ok(seq)
}

/// Gives every household of an area (with those of its village not placed in an RW or RT yet, as
/// [`Area::covers`](verivali_core::protocol::Area::covers) counts them) a new change number, so
/// that a phone whose enumerator just got the area pulls all of it: its pull cursor is past the
/// households' last changes. Other phones of the area pull them again unchanged, which costs
/// bytes and nothing else.
pub fn touch_area(
    tx: &Transaction<'_>,
    region: &RegionCode,
    rw: Option<&Rw>,
    rt: Option<&Rt>,
) -> Result<usize, DbError> {
    let ids: Vec<String> = tx
        .prepare_cached(
            "SELECT household_id FROM households
             WHERE region = ?1 AND (?2 IS NULL OR rw IS NULL OR rw = ?2)
                 AND (?3 IS NULL OR rt IS NULL OR rt = ?3)",
        )?
        .query_map(
            params![region.as_str(), rw.map(Rw::as_str), rt.map(Rt::as_str)],
            |r| r.get(0),
        )?
        .collect::<Result<_, _>>()?;
    // One number each: a pull page may end between any two.
    let mut touch =
        tx.prepare_cached("UPDATE households SET change_seq = ?2 WHERE household_id = ?1")?;
    for id in &ids {
        touch.execute(params![id, next_change_seq(tx)?])?;
    }
    Ok(ids.len())
}

/// Adds a household from a target list, or replaces its baseline, and merges it.
pub fn save_baseline(
    tx: &Transaction<'_>,
    household: &Household,
    now: Timestamp,
) -> Result<Merged, DbError> {
    write_baseline(tx, household)?;
    remerge(tx, household.household_id, now)
}

/// Adds a household, or replaces its baseline, leaving its merged state as it was: the caller
/// merges it next.
pub fn write_baseline(tx: &Transaction<'_>, household: &Household) -> Result<(), DbError> {
    let baseline = serde_json::to_string(household)?;
    let id = household.household_id.to_string();
    tx.prepare_cached(
        "INSERT INTO households (household_id, region, rw, rt, source, source_id, state,
             state_hash, status, change_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, '{}', '', 'NOT_VISITED', 0)
         ON CONFLICT (household_id) DO UPDATE SET region = excluded.region, rw = excluded.rw,
             rt = excluded.rt, source = excluded.source, source_id = excluded.source_id",
    )?
    .execute(params![
        id,
        household.region.as_str(),
        household.rw.as_ref().map(Rw::as_str),
        household.rt.as_ref().map(Rt::as_str),
        household.source.code(),
        household.source_id,
    ])?;
    tx.prepare_cached(
        "INSERT INTO baselines (household_id, baseline) VALUES (?1, ?2)
         ON CONFLICT (household_id) DO UPDATE SET baseline = excluded.baseline",
    )?
    .execute(params![id, baseline])?;
    Ok(())
}

/// A household's baseline as stored, as JSON text; `None` when it is not stored.
pub fn baseline_text(conn: &Connection, id: HouseholdId) -> Result<Option<String>, DbError> {
    Ok(conn
        .prepare_cached("SELECT baseline FROM baselines WHERE household_id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?)
}

/// The baseline of a household an enumerator found that is not on the list: PROPOSED, with no
/// members until the visit adds them.
pub fn proposed(id: HouseholdId, proposal: &HouseholdProposal) -> Household {
    Household {
        household_id: id,
        source: Source::NewProposal,
        source_id: None,
        kk_number: None,
        decile: None,
        region: proposal.region.clone(),
        rw: proposal.rw.as_ref().and_then(Entered::valid).cloned(),
        rt: proposal.rt.as_ref().and_then(Entered::valid).cloned(),
        address: proposal.address.trim().to_owned(),
        head_name: proposal.head_name.trim().to_owned(),
        programs: Default::default(),
        source_priority: None,
        target_status: TargetStatus::Proposed,
        members: Vec::new(),
    }
}

/// A stored household as a push finds it, read once: what its state is merged from, with the
/// keys recorded for it; the household of that state; and the change number it is stored under
/// (work planned on the row holds while that number has not moved).
#[derive(Debug)]
pub struct Stored {
    pub inputs: MergeInputs,
    pub household: Household,
    pub change_seq: i64,
}

/// Only the household of a stored state: the rest of the state is skipped, not built.
#[derive(serde::Deserialize)]
struct StateHousehold {
    household: Household,
}

impl Stored {
    /// Read in one snapshot, the inputs merge to the stored state (every write of an input merges
    /// again in its transaction): their merge gives the household without parsing the state.
    /// `campaigns` are all of them, read once by the caller (a push reads them once for all its
    /// households).
    pub fn read(
        conn: &Connection,
        id: HouseholdId,
        campaigns: &[Campaign],
    ) -> Result<Option<Self>, DbError> {
        let row: Option<(i64, String)> = conn
            .prepare_cached(
                "SELECT change_seq, keys_digest FROM households WHERE household_id = ?1",
            )?
            .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((change_seq, keys_digest)) = row else {
            return Ok(None);
        };
        let mut inputs = MergeInputs::read_stored(conn, id, campaigns)?;
        let household = inputs.household();
        inputs.recorded_keys = DuplicateKeys::recorded(conn, id, &household, keys_digest)?;
        Ok(Some(Self {
            inputs,
            household,
            change_seq,
        }))
    }
}

/// The change number a household is stored under; `None` when it is not stored.
pub fn change_seq(conn: &Connection, id: HouseholdId) -> Result<Option<i64>, DbError> {
    Ok(conn
        .prepare_cached("SELECT change_seq FROM households WHERE household_id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?)
}

/// What a household's merged state is computed from, as stored.
#[derive(Debug, Clone)]
pub struct MergeInputs {
    pub baseline: Household,
    /// The baselines of the households merged into this one, and of those merged into them.
    pub absorbed: Vec<Household>,
    /// Every accepted visit; the merge counts one of each content.
    pub visits: Vec<AcceptedVisit>,
    pub reviews: Vec<Review>,
    /// The campaigns of the household's region: conflicts are those within the latest visit's.
    pub rounds: Vec<Round>,
    /// The duplicate keys recorded, those of the stored state.
    pub recorded_keys: DuplicateKeys,
}

impl MergeInputs {
    pub fn read(conn: &Connection, id: HouseholdId) -> Result<Self, DbError> {
        let (state, keys_digest): (String, String) = conn
            .prepare_cached("SELECT state, keys_digest FROM households WHERE household_id = ?1")?
            .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?;
        // A row never merged has an empty state, and no keys.
        let mut inputs = Self::read_stored(conn, id, &crate::campaigns::all(conn)?)?;
        if !keys_digest.is_empty() {
            let StateHousehold { household } = serde_json::from_str(&state)?;
            inputs.recorded_keys = DuplicateKeys::recorded(conn, id, &household, keys_digest)?;
        }
        Ok(inputs)
    }

    /// The stored baselines, visits and reviews of a household; its keys recorded are for the
    /// caller to set (none by default: a row never merged has none).
    fn read_stored(
        conn: &Connection,
        id: HouseholdId,
        campaigns: &[Campaign],
    ) -> Result<Self, DbError> {
        let key = id.to_string();
        let baseline = baseline_text(conn, id)?
            .ok_or_else(|| DbError::Inconsistent(format!("household {id} has no baseline")))?;
        let baseline: Household = serde_json::from_str(&baseline)?;
        let rounds = crate::campaigns::rounds(campaigns, &baseline.region);
        let mut inputs = Self::new(baseline, rounds);
        // Few households ever absorb another. The recursive query builds a temporary table each
        // time it runs, with a page cache of its own, so it runs only for those that did.
        let absorbs: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM households WHERE merged_into = ?1)")?
            .query_row([&key], |r| r.get(0))?;
        let absorbed: Vec<(String, String)> = if !absorbs {
            Vec::new()
        } else {
            conn.prepare_cached(
                "WITH RECURSIVE absorbed (id) AS (
                     SELECT household_id FROM households WHERE merged_into = ?1
                     UNION SELECT h.household_id FROM households h JOIN absorbed a
                         ON h.merged_into = a.id)
                 SELECT b.household_id, b.baseline FROM absorbed a
                 JOIN baselines b ON b.household_id = a.id",
            )?
            .query_map([&key], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
        };
        let mut group = vec![key];
        for (id, baseline) in absorbed {
            inputs.absorbed.push(serde_json::from_str(&baseline)?);
            group.push(id);
        }
        let mut visits = conn.prepare_cached(
            "SELECT body, content_hash, order_time FROM visits WHERE household_id = ?1",
        )?;
        let mut reviews =
            conn.prepare_cached("SELECT body FROM reviews WHERE household_id = ?1")?;
        for key in &group {
            let rows = visits.query_map([key], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?;
            for row in rows {
                let (body, hash, order_time) = row?;
                inputs.visits.push(AcceptedVisit {
                    visit: serde_json::from_str(&body)?,
                    content_hash: Sha256::parse(&hash)
                        .map_err(|e| DbError::Inconsistent(e.to_string()))?,
                    order_time: Timestamp::from_unix_millis(order_time),
                });
            }
            for body in reviews.query_map([key], |r| r.get::<_, String>(0))? {
                inputs.reviews.push(serde_json::from_str::<Review>(&body?)?);
            }
        }
        Ok(inputs)
    }

    /// A household not stored yet: its baseline alone, with its region's campaigns.
    pub fn new(baseline: Household, rounds: Vec<Round>) -> Self {
        Self {
            baseline,
            absorbed: Vec::new(),
            visits: Vec::new(),
            reviews: Vec::new(),
            rounds,
            recorded_keys: DuplicateKeys::default(),
        }
    }

    /// The household of the merged state.
    pub fn household(&self) -> Household {
        merge_rounds_state(
            &self.baseline,
            &self.absorbed,
            &self.visits,
            &self.reviews,
            &self.rounds,
        )
        .household
    }

    /// The core's merge, with the canonical text of the state: the text is what is stored, so
    /// there is no second serialisation, and what pulls send is exactly what was hashed.
    pub fn merge(&self) -> Result<(Merged, String), DbError> {
        merge_rounds_with_text(
            &self.baseline,
            &self.absorbed,
            &self.visits,
            &self.reviews,
            &self.rounds,
        )
        .map_err(|e| DbError::Inconsistent(e.to_string()))
    }
}

/// Recomputes a household's state from its baseline and every accepted visit and review, stores it
/// under a new change number, and records the keys that find suspected duplicates.
pub fn remerge(tx: &Transaction<'_>, id: HouseholdId, now: Timestamp) -> Result<Merged, DbError> {
    let inputs = MergeInputs::read(tx, id)?;
    let (merged, text) = inputs.merge()?;
    let keys = DuplicateKeys::of(&merged.state.household);
    write_merged(tx, id, &merged, &text, &inputs.recorded_keys, &keys, now)?;
    Ok(merged)
}

/// Stores a merged state (its canonical `text`) under a new change number, with its duplicate
/// `keys` in place of those `recorded`. A household merged into another one changes that one
/// too, which is merged again here.
pub fn write_merged(
    tx: &Transaction<'_>,
    id: HouseholdId,
    merged: &Merged,
    text: &str,
    recorded: &DuplicateKeys,
    keys: &DuplicateKeys,
    now: Timestamp,
) -> Result<(), DbError> {
    let seq = next_change_seq(tx)?;
    // One write of the row, its keys' digest with the rest: the row is most of a page.
    tx.prepare_cached(
        "UPDATE households SET state = ?2, state_hash = ?3, status = ?4, outcome = ?5,
             assessment = ?6, recommendation = ?7, change_seq = ?8, head_name = ?9, address = ?10,
             target_status = ?11, merged_into = ?12, keys_digest = ?13, rw = ?14, rt = ?15
         WHERE household_id = ?1",
    )?
    .execute(params![
        id.to_string(),
        text,
        merged.state_hash.as_str(),
        merged.state.status.code(),
        merged.state.outcome.map(Labelled::code),
        merged.state.assessment.map(Labelled::code),
        merged.state.recommendation.map(Labelled::code),
        seq,
        merged.state.household.head_name,
        merged.state.household.address,
        merged.state.household.target_status.code(),
        merged.state.merged_into.map(|s| s.to_string()),
        keys.digest,
        // Where a visit found the household (the merge takes it): RT areas and progress by RT.
        merged.state.household.rw.as_ref().map(Rw::as_str),
        merged.state.household.rt.as_ref().map(Rt::as_str),
    ])?;
    keys.replace(tx, id, recorded, now)?;
    if let Some(survivor) = merged.state.merged_into {
        remerge(tx, survivor, now)?;
    }
    Ok(())
}
