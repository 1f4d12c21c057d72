//! Households on the server: the baseline as imported, and the merged state that every accepted
//! visit or review recomputes with the core's merge, in the same transaction, under a new change
//! sequence number that pulls read from.

mod keys;

use verivali_core::merge::{
    AcceptedVisit, Merged, Round, merge_rounds_state, merge_rounds_with_text,
};
use verivali_core::model::*;

use crate::campaigns::Campaign;
use crate::db::DbError;
use crate::store::{Conn, households as stored};
pub use keys::{DuplicateKeys, nik_digest};

/// Gives every household of an area (with those of its village not placed in an RW or RT yet, as
/// [`Area::covers`](verivali_core::protocol::Area::covers) counts them) a new change number, so
/// that a phone whose enumerator just got the area pulls all of it: its pull cursor is past the
/// households' last changes. Other phones of the area pull them again unchanged, which costs
/// bytes and nothing else.
pub fn touch_area(
    conn: Conn<'_>,
    region: &RegionCode,
    rw: Option<&Rw>,
    rt: Option<&Rt>,
) -> Result<usize, DbError> {
    let ids = stored::in_area(
        conn,
        region.as_str(),
        rw.map(Rw::as_str),
        rt.map(Rt::as_str),
    )?;
    // One number each: a pull page may end between any two.
    for id in &ids {
        stored::set_change_seq(conn, (id, region.as_str()), stored::next_change_seq(conn)?)?;
    }
    Ok(ids.len())
}

/// Adds a household from a target list, or replaces its baseline, and merges it.
pub fn save_baseline(
    conn: Conn<'_>,
    household: &Household,
    now: Timestamp,
) -> Result<Merged, DbError> {
    write_baseline(conn, household)?;
    remerge(conn, household.household_id, now)
}

/// Adds a household, or replaces its baseline, leaving its merged state as it was: the caller
/// merges it next.
pub fn write_baseline(conn: Conn<'_>, household: &Household) -> Result<(), DbError> {
    stored::write_baseline(
        conn,
        &stored::Listing {
            household_id: &household.household_id.to_string(),
            region: household.region.as_str(),
            rw: household.rw.as_ref().map(Rw::as_str),
            rt: household.rt.as_ref().map(Rt::as_str),
            source: household.source.code(),
            source_id: household.source_id.as_deref(),
            baseline: &serde_json::to_string(household)?,
        },
    )
}

/// A household's baseline as stored, as JSON text; `None` when it is not stored.
pub fn baseline_text(conn: Conn<'_>, id: HouseholdId) -> Result<Option<String>, DbError> {
    stored::baseline(conn, &id.to_string())
}

/// A stored household's baseline, with its id as the store keys it.
struct Baseline {
    key: String,
    household: Household,
}

impl Baseline {
    /// `None` when the household is not stored.
    fn read(conn: Conn<'_>, id: HouseholdId) -> Result<Option<Self>, DbError> {
        let key = id.to_string();
        let Some(text) = stored::baseline(conn, &key)? else {
            return Ok(None);
        };
        Ok(Some(Self {
            household: serde_json::from_str(&text)?,
            key,
        }))
    }
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
        conn: Conn<'_>,
        id: HouseholdId,
        campaigns: &[Campaign],
    ) -> Result<Option<Self>, DbError> {
        // The baseline first: every stored household has one, in a table kept by id alone, and
        // it names the region whose partition holds the household's row (on PostgreSQL).
        let Some(baseline) = Baseline::read(conn, id)? else {
            return Ok(None);
        };
        let located = (baseline.key.as_str(), baseline.household.region.as_str());
        let Some((change_seq, keys_digest)) = stored::version(conn, located)? else {
            return Ok(None);
        };
        let mut inputs = MergeInputs::read_stored(conn, baseline, campaigns)?;
        let household = inputs.household();
        inputs.recorded_keys = DuplicateKeys::recorded(conn, id, &household, keys_digest)?;
        Ok(Some(Self {
            inputs,
            household,
            change_seq,
        }))
    }
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
    pub fn read(conn: Conn<'_>, id: HouseholdId) -> Result<Self, DbError> {
        let baseline = Baseline::read(conn, id)?
            .ok_or_else(|| DbError::Inconsistent(format!("household {id} has no baseline")))?;
        let located = (baseline.key.as_str(), baseline.household.region.as_str());
        let (state, keys_digest) = stored::state_and_keys_digest(conn, located)?;
        // A row never merged has an empty state, and no keys.
        let mut inputs = Self::read_stored(conn, baseline, &crate::campaigns::all(conn)?)?;
        if !keys_digest.is_empty() {
            let StateHousehold { household } = serde_json::from_str(&state)?;
            inputs.recorded_keys = DuplicateKeys::recorded(conn, id, &household, keys_digest)?;
        }
        Ok(inputs)
    }

    /// The stored baselines, visits and reviews of a household; its keys recorded are for the
    /// caller to set (none by default: a row never merged has none).
    fn read_stored(
        conn: Conn<'_>,
        baseline: Baseline,
        campaigns: &[Campaign],
    ) -> Result<Self, DbError> {
        let Baseline { key, household } = baseline;
        let rounds = crate::campaigns::rounds(campaigns, &household.region);
        let mut inputs = Self::new(household, rounds);
        let mut group = vec![key];
        for (id, baseline) in stored::absorbed_baselines(conn, &group[0])? {
            inputs.absorbed.push(serde_json::from_str(&baseline)?);
            group.push(id);
        }
        for key in &group {
            let (visits, decisions) = stored::visits_and_decisions(conn, key)?;
            for v in visits {
                inputs.visits.push(AcceptedVisit {
                    visit: serde_json::from_str(&v.body)?,
                    content_hash: Sha256::parse(&v.content_hash)
                        .map_err(|e| DbError::Inconsistent(e.to_string()))?,
                    order_time: Timestamp::from_unix_millis(v.order_time),
                });
            }
            for body in decisions {
                inputs.reviews.push(serde_json::from_str::<Review>(&body)?);
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
pub fn remerge(conn: Conn<'_>, id: HouseholdId, now: Timestamp) -> Result<Merged, DbError> {
    // Locked before it is read: what a write running beside this one stores is then merged.
    stored::lock_for_merge(conn, &id.to_string())?;
    let inputs = MergeInputs::read(conn, id)?;
    let (merged, text) = inputs.merge()?;
    let keys = DuplicateKeys::of(&merged.state.household);
    write_merged(conn, id, &merged, &text, &inputs.recorded_keys, &keys, now)?;
    Ok(merged)
}

/// Stores a merged state (its canonical `text`) under a new change number, with its duplicate
/// `keys` in place of those `recorded`. A household merged into another one changes that one
/// too, which is merged again here.
pub fn write_merged(
    conn: Conn<'_>,
    id: HouseholdId,
    merged: &Merged,
    text: &str,
    recorded: &DuplicateKeys,
    keys: &DuplicateKeys,
    now: Timestamp,
) -> Result<(), DbError> {
    let state = &merged.state;
    stored::write_merged(
        conn,
        &stored::MergedRow {
            household_id: &id.to_string(),
            region: state.household.region.as_str(),
            state: text,
            state_hash: merged.state_hash.as_str(),
            status: state.status.code(),
            outcome: state.outcome.map(Labelled::code),
            assessment: state.assessment.map(Labelled::code),
            recommendation: state.recommendation.map(Labelled::code),
            change_seq: stored::next_change_seq(conn)?,
            head_name: &state.household.head_name,
            address: &state.household.address,
            target_status: state.household.target_status.code(),
            merged_into: state.merged_into.map(|s| s.to_string()),
            keys_digest: &keys.digest,
            // Where a visit found the household (the merge takes it): RT areas and progress by RT.
            rw: state.household.rw.as_ref().map(Rw::as_str),
            rt: state.household.rt.as_ref().map(Rt::as_str),
        },
    )?;
    let region = state.household.region.as_str();
    keys.replace(conn, (id, region), recorded, now)?;
    if let Some(survivor) = merged.state.merged_into {
        remerge(conn, survivor, now)?;
    }
    Ok(())
}
