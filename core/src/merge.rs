//! The household merge (DESIGN §6): a pure function from a baseline and the *set* of accepted
//! visits and reviews to one household state, with a `state_hash` that is the same for the same
//! set whatever order it arrived in. Server and phone run this same function.
//!
//! Rules:
//! - visits are applied in the order (time, device, visit id), where time is the corrected
//!   `finished_at` the caller gives; a correction takes the place of the visit it corrects;
//! - an indicator takes the value of the latest visit that observed it: an absent field never
//!   erases a value;
//! - members merge by `member_id`, field by field; a member who moved out or died stays in the list
//!   with the date (a dated tombstone), so a later update of another field cannot bring them back;
//! - excluded: visits returned by a supervisor, visits superseded by a correction, and a second
//!   visit with the same content hash (counted once);
//! - two enumerators whose latest visits disagree on outcome, assessment or recommendation make a
//!   conflict, and the household needs review until a supervisor resolves it; with campaigns
//!   (`rounds`, the windows of the verval rounds of the household's region), only the visits of
//!   the round of the latest visit are compared: a disagreement of an earlier round is history;
//! - a household merged into this one (MERGE_HOUSEHOLDS) brings its members and its visits: the
//!   survivor is merged from both, and its visits that say only "this is a duplicate of the other
//!   record" (DUPLICATE_OF, PART_OF_OTHER_FAMILY) add their data but no verdict.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::canonical::{self, CanonicalError};
use crate::model::*;

/// A visit as the merge sees it: accepted, with its content hash and the time it is ordered by
/// (the server's skew-corrected `finished_at`; on the phone, `finished_at` itself). The merge
/// takes that time in UTC to the millisecond, whatever offset or precision it is given in.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptedVisit {
    pub visit: Visit,
    pub content_hash: Sha256,
    pub order_time: Timestamp,
}

/// The merged household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HouseholdState {
    /// The baseline with the visits' family card number and members applied.
    pub household: Household,
    #[serde(default, skip_serializing_if = "Housing::is_empty")]
    pub housing: Housing,
    #[serde(default, skip_serializing_if = "Welfare::is_empty")]
    pub welfare: Welfare,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<Assessment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<Recommendation>,
    pub status: VerificationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<HouseholdId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
    /// The visits applied, in merge order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub visits_used: Vec<VisitId>,
    /// The visits left out, and why (sorted by visit id).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub visits_excluded: Vec<ExcludedVisit>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approved_visits: Vec<VisitId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_visit_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dismissed_duplicates: Vec<HouseholdId>,
}

/// A merged state and its hash (the canonical hash of `state`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Merged {
    pub state: HouseholdState,
    pub state_hash: Sha256,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub field: ConflictField,
    /// The latest visit of each disagreeing enumerator, sorted.
    pub visits: Vec<VisitId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConflictField {
    Outcome,
    Assessment,
    Recommendation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExcludedVisit {
    pub visit_id: VisitId,
    pub reason: ExclusionReason,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExclusionReason {
    Returned { review_id: ReviewId },
    SupersededBy { visit_id: VisitId },
    DuplicateOf { visit_id: VisitId },
}

/// Merges a household. Visits and reviews of other households are ignored; the result depends
/// only on the sets given, not on their order.
pub fn merge(
    baseline: &Household,
    visits: &[AcceptedVisit],
    reviews: &[Review],
) -> Result<Merged, CanonicalError> {
    merge_with_text(baseline, visits, reviews).map(|(merged, _)| merged)
}

/// [`merge`], also giving the state's canonical JSON (the text its hash is taken of), which is
/// valid JSON of the state: a server can store it rather than serialise the state again.
pub fn merge_with_text(
    baseline: &Household,
    visits: &[AcceptedVisit],
    reviews: &[Review],
) -> Result<(Merged, String), CanonicalError> {
    merge_group_with_text(baseline, &[], visits, reviews)
}

/// [`merge_with_text`] of a household that other households were merged into (`absorbed`, their
/// baselines): their members join its own (a member already present by id or NIK is kept once),
/// their visits are merged with its own, and their verdicts on visits (APPROVE, RETURN) hold.
/// The result depends only on the sets given, not on their order.
pub fn merge_group_with_text(
    baseline: &Household,
    absorbed: &[Household],
    visits: &[AcceptedVisit],
    reviews: &[Review],
) -> Result<(Merged, String), CanonicalError> {
    merge_rounds_with_text(baseline, absorbed, visits, reviews, &[])
}

/// A campaign's window: its first instant and the instant after its last day.
pub type Round = (Timestamp, Timestamp);

/// [`merge_group_with_text`] where the household's region has campaigns: conflicts are looked
/// for among the visits of the latest visit's round only (visits outside every round form one
/// round of their own).
pub fn merge_rounds_with_text(
    baseline: &Household,
    absorbed: &[Household],
    visits: &[AcceptedVisit],
    reviews: &[Review],
    rounds: &[Round],
) -> Result<(Merged, String), CanonicalError> {
    let state = merge_rounds_state(baseline, absorbed, visits, reviews, rounds);
    let text = canonical::to_canonical_json(&state)?;
    let state_hash = Sha256::of(text.as_bytes());
    Ok((Merged { state, state_hash }, text))
}

/// The state of [`merge_group_with_text`] alone, without its text and hash: for what a server
/// checks a visit against.
pub fn merge_group_state(
    baseline: &Household,
    absorbed: &[Household],
    visits: &[AcceptedVisit],
    reviews: &[Review],
) -> HouseholdState {
    merge_rounds_state(baseline, absorbed, visits, reviews, &[])
}

/// The state of [`merge_rounds_with_text`] alone.
pub fn merge_rounds_state(
    baseline: &Household,
    absorbed: &[Household],
    visits: &[AcceptedVisit],
    reviews: &[Review],
    rounds: &[Round],
) -> HouseholdState {
    let id = baseline.household_id;
    let mut absorbed: Vec<&Household> = absorbed.iter().filter(|h| h.household_id != id).collect();
    absorbed.sort_by_key(|h| h.household_id);
    absorbed.dedup_by_key(|h| h.household_id);
    let group: BTreeSet<HouseholdId> = absorbed
        .iter()
        .map(|h| h.household_id)
        .chain([id])
        .collect();
    let baseline = &with_members_of(baseline, &absorbed);
    let mut reviews: Vec<&Review> = reviews
        .iter()
        .filter(|r| {
            r.household_id == id
                || (group.contains(&r.household_id)
                    && matches!(r.decision, Decision::Approve | Decision::Return))
        })
        .collect();
    reviews.sort_by_key(|r| (r.decided_at, r.review_id));

    let mut excluded: BTreeMap<VisitId, ExclusionReason> = BTreeMap::new();
    let visits = distinct_visits(&group, visits, &mut excluded);

    // Returns: the latest APPROVE or RETURN of a visit decides.
    let mut verdicts: BTreeMap<VisitId, &Review> = BTreeMap::new();
    for r in &reviews {
        if let (Some(v), Decision::Approve | Decision::Return) = (r.visit_id, r.decision) {
            verdicts.insert(v, r);
        }
    }
    for (visit_id, review) in &verdicts {
        if review.decision == Decision::Return && visits.contains_key(visit_id) {
            excluded
                .entry(*visit_id)
                .or_insert(ExclusionReason::Returned {
                    review_id: review.review_id,
                });
        }
    }

    // Corrections: a visit superseded by a later one of the same device is left out, and the
    // correction is ordered where the first visit of its chain stood.
    for v in visits.values() {
        if let Some(old) = v.visit.supersedes
            && let Some(original) = visits.get(&old)
            && original.visit.device_id == v.visit.device_id
            && old != v.visit.visit_id
        {
            excluded.insert(
                old,
                ExclusionReason::SupersededBy {
                    visit_id: v.visit.visit_id,
                },
            );
        }
    }
    let mut used: Vec<(Timestamp, &AcceptedVisit)> = visits
        .values()
        .filter(|v| !excluded.contains_key(&v.visit.visit_id))
        .map(|v| (chain_time(v, &visits).normalized(), *v))
        .collect();
    used.sort_by(|(ta, a), (tb, b)| {
        (ta, a.visit.device_id, a.visit.visit_id).cmp(&(tb, b.visit.device_id, b.visit.visit_id))
    });

    let mut state = HouseholdState {
        household: baseline.clone(),
        housing: Housing::default(),
        welfare: Welfare::default(),
        location: None,
        outcome: None,
        assessment: None,
        recommendation: None,
        status: VerificationStatus::NotVisited,
        merged_into: None,
        conflicts: Vec::new(),
        visits_used: Vec::new(),
        visits_excluded: excluded
            .into_iter()
            .map(|(visit_id, reason)| ExcludedVisit { visit_id, reason })
            .collect(),
        approved_visits: Vec::new(),
        last_visit_at: None,
        dismissed_duplicates: Vec::new(),
    };
    // A visit of an absorbed household saying it duplicates another record has no verdict on
    // the surviving one.
    let speaks_for_household = |v: &AcceptedVisit| {
        v.visit.household_id == Some(id)
            || !matches!(
                v.visit.outcome,
                Some(Outcome::DuplicateOf | Outcome::PartOfOtherFamily)
            )
    };
    for (time, v) in &used {
        apply_data(&mut state, &v.visit);
        if speaks_for_household(v) {
            apply_verdict(&mut state, &v.visit);
        }
        state.visits_used.push(v.visit.visit_id);
        state.last_visit_at = state.last_visit_at.max(Some(*time));
    }
    refresh_head_name(&mut state.household);

    // Supervisor decisions that are not about one visit.
    let mut resolution: Option<(VisitId, Timestamp)> = None;
    let mut revisit_requested_at: Option<Timestamp> = None;
    let mut dismissed = BTreeSet::new();
    for r in &reviews {
        match r.decision {
            Decision::ResolveConflict => resolution = r.visit_id.map(|v| (v, r.decided_at)),
            Decision::RequestRevisit => revisit_requested_at = Some(r.decided_at),
            Decision::MergeHouseholds => {
                if let Some(other) = r.other_household_id.filter(|o| *o != id) {
                    state.merged_into = Some(other);
                    state.household.target_status = TargetStatus::MergedInto;
                }
            }
            Decision::DismissDuplicate => {
                dismissed.extend(r.other_household_id);
            }
            Decision::Approve | Decision::Return => {}
        }
    }
    state.dismissed_duplicates = dismissed.into_iter().collect();
    state.approved_visits = state
        .visits_used
        .iter()
        .filter(|v| {
            verdicts
                .get(v)
                .is_some_and(|r| r.decision == Decision::Approve)
        })
        .copied()
        .collect();
    // A proposed household whose visit a supervisor approved is accepted onto the target list.
    if state.household.target_status == TargetStatus::Proposed && !state.approved_visits.is_empty()
    {
        state.household.target_status = TargetStatus::Active;
    }

    // Conflicts, and the verdict a supervisor chose.
    let mut candidates: Vec<(Timestamp, &AcceptedVisit)> = used
        .iter()
        .filter(|(_, v)| speaks_for_household(v))
        .copied()
        .collect();
    if let Some((chosen, at)) = resolution
        && let Some(chosen) = used.iter().find(|(_, v)| v.visit.visit_id == chosen)
    {
        candidates.retain(|(t, v)| *t > at || v.visit.visit_id == chosen.1.visit.visit_id);
        candidates.sort_by_key(|(_, v)| v.visit.visit_id != chosen.1.visit.visit_id);
        state.outcome = None;
        state.assessment = None;
        state.recommendation = None;
        for (_, v) in &candidates {
            apply_verdict(&mut state, &v.visit);
        }
    }
    // Within the campaign: the round of the latest visit that speaks for the household.
    let round_of = |t: Timestamp| {
        rounds
            .iter()
            .position(|(from, until)| *from <= t && t < *until)
    };
    let latest_round = candidates.iter().map(|(t, _)| *t).max().map(round_of);
    candidates.retain(|(t, _)| Some(round_of(*t)) == latest_round);
    state.conflicts = find_conflicts(&candidates);

    let visited_since_request = |at: Timestamp| used.iter().any(|(t, _)| *t > at);
    state.status = if !state.conflicts.is_empty() {
        VerificationStatus::NeedsReview
    } else if revisit_requested_at.is_some_and(|at| !visited_since_request(at)) {
        VerificationStatus::RevisitRequested
    } else if used.is_empty() {
        VerificationStatus::NotVisited
    } else if state.approved_visits.len() == state.visits_used.len() {
        VerificationStatus::Approved
    } else {
        VerificationStatus::Visited
    };
    state
}

/// The visits of this household, one per visit id and one per content hash. A visit id given
/// twice keeps its smallest content hash; the second visit with one content hash is a duplicate
/// of the one with the smaller visit id.
fn distinct_visits<'a>(
    group: &BTreeSet<HouseholdId>,
    visits: &'a [AcceptedVisit],
    excluded: &mut BTreeMap<VisitId, ExclusionReason>,
) -> BTreeMap<VisitId, &'a AcceptedVisit> {
    let mut by_id: BTreeMap<VisitId, &AcceptedVisit> = BTreeMap::new();
    for v in visits
        .iter()
        .filter(|v| v.visit.household_id.is_some_and(|h| group.contains(&h)))
    {
        by_id
            .entry(v.visit.visit_id)
            .and_modify(|kept| {
                if v.content_hash < kept.content_hash {
                    *kept = v;
                }
            })
            .or_insert(v);
    }
    let mut first_by_hash: BTreeMap<&Sha256, VisitId> = BTreeMap::new();
    for (id, v) in &by_id {
        match first_by_hash.get(&v.content_hash) {
            Some(first) => {
                excluded.insert(*id, ExclusionReason::DuplicateOf { visit_id: *first });
            }
            None => {
                first_by_hash.insert(&v.content_hash, *id);
            }
        }
    }
    by_id
}

/// The time a visit is ordered by: that of the first visit in its chain of corrections.
fn chain_time(v: &AcceptedVisit, all: &BTreeMap<VisitId, &AcceptedVisit>) -> Timestamp {
    let mut current = v;
    let mut seen = BTreeSet::new();
    while let Some(prev) = current.visit.supersedes
        && seen.insert(prev)
        && let Some(original) = all.get(&prev)
        && original.visit.device_id == current.visit.device_id
    {
        current = original;
    }
    current.order_time
}

/// The survivor's baseline with the members of the households merged into it, in order of
/// household id; a member already present (same member id, or same valid NIK) is kept once, as
/// the survivor has them. A missing family card number is taken from the first that has one.
fn with_members_of(baseline: &Household, absorbed: &[&Household]) -> Household {
    let mut combined = baseline.clone();
    for other in absorbed {
        for member in &other.members {
            let nik = member.nik();
            let present = combined
                .members
                .iter()
                .any(|m| m.member_id == member.member_id || nik.is_some() && m.nik() == nik);
            if !present {
                combined.members.push(member.clone());
            }
        }
        if combined.kk_number.is_none() {
            combined.kk_number.clone_from(&other.kk_number);
        }
    }
    combined
}

/// What a visit observed of the household, its verdict apart.
fn apply_data(state: &mut HouseholdState, visit: &Visit) {
    if let Some(kk) = &visit.kk_number {
        state.household.kk_number = Some(kk.clone());
    }
    apply_member_changes(&mut state.household.members, &visit.member_changes);
    state.housing.overlay(&visit.housing);
    state.welfare.overlay(&visit.welfare);
    if let Some(loc) = &visit.location {
        state.location = Some(loc.clone());
    }
    // Where the household was found: what P3KE lists lack, and what RT heads' areas go by.
    if let Some(rw) = visit.rw.as_ref().and_then(Entered::valid) {
        state.household.rw = Some(rw.clone());
    }
    if let Some(rt) = visit.rt.as_ref().and_then(Entered::valid) {
        state.household.rt = Some(rt.clone());
    }
}

fn apply_verdict(state: &mut HouseholdState, visit: &Visit) {
    if visit.outcome.is_some() {
        state.outcome = visit.outcome;
    }
    if visit.assessment.is_some() {
        state.assessment = visit.assessment;
    }
    if visit.recommendation.is_some() {
        state.recommendation = visit.recommendation;
    }
}

/// Applies a visit's member changes to a member list, by member id, field by field.
pub fn apply_member_changes(members: &mut Vec<Member>, changes: &[MemberChange]) {
    for change in changes {
        let id = change.member_id();
        let existing = members.iter_mut().find(|m| m.member_id == id);
        match (change, existing) {
            (MemberChange::Add { member }, Some(m)) => {
                m.details.overlay(&member.details);
                m.presence = member.presence;
                m.presence_date = member.presence_date;
            }
            (MemberChange::Add { member }, None) => members.push(member.clone()),
            (_, None) => {} // unknown member: validation reports it (MEM-07)
            (MemberChange::Update { details, .. }, Some(m)) => m.details.overlay(details),
            (MemberChange::MarkPresent { .. }, Some(m)) => {
                m.presence = Presence::Present;
                m.presence_date = None;
            }
            (MemberChange::MarkMoved { date, .. }, Some(m)) => {
                m.presence = Presence::MovedOut;
                m.presence_date = *date;
            }
            (MemberChange::MarkDeceased { date, .. }, Some(m)) => {
                m.presence = Presence::Deceased;
                m.presence_date = *date;
            }
        }
    }
}

/// Lists show the head's name: keep it in step with the active head after the merge.
fn refresh_head_name(household: &mut Household) {
    let head = household
        .members
        .iter()
        .find(|m| m.is_active() && m.details.relation == Some(Relation::Head));
    if let Some(name) = head.and_then(|m| m.details.name.clone())
        && !name.trim().is_empty()
    {
        household.head_name = name;
    }
}

/// Per field: the latest value of each enumerator; more than one distinct value is a conflict.
/// NOBODY_HOME says nothing about the household, so it never conflicts with an outcome.
fn find_conflicts(visits: &[(Timestamp, &AcceptedVisit)]) -> Vec<Conflict> {
    fn field_conflict<T: Ord + Copy>(
        field: ConflictField,
        visits: &[(Timestamp, &AcceptedVisit)],
        value: impl Fn(&Visit) -> Option<T>,
    ) -> Option<Conflict> {
        let mut latest: BTreeMap<EnumeratorId, (T, VisitId)> = BTreeMap::new();
        for (_, v) in visits {
            if let Some(x) = value(&v.visit) {
                latest.insert(v.visit.enumerator_id, (x, v.visit.visit_id));
            }
        }
        let distinct: BTreeSet<T> = latest.values().map(|(x, _)| *x).collect();
        (distinct.len() > 1).then(|| {
            let mut ids: Vec<VisitId> = latest.values().map(|(_, id)| *id).collect();
            ids.sort();
            Conflict { field, visits: ids }
        })
    }
    [
        field_conflict(ConflictField::Outcome, visits, |v| {
            v.outcome.filter(|o| *o != Outcome::NobodyHome)
        }),
        field_conflict(ConflictField::Assessment, visits, |v| v.assessment),
        field_conflict(ConflictField::Recommendation, visits, |v| v.recommendation),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests;
