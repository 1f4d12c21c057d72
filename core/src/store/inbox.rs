//! The enumerator's inbox: what supervisors decided on this phone's work (returns, re-visit
//! requests, approvals, resolved conflicts), and what changed on the server about the households
//! this phone works on — a conflict with another enumerator's visit waiting for a supervisor, or
//! another enumerator's visit that changed a household while a draft of it is open here (SYN-01).

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::params;

use super::households::{self, head_name};
use super::sync::REVIEW;
use super::visits::BODY;
use super::{Error, Result, Store, unix_millis_now};
use crate::merge::{ConflictField, HouseholdState};
use crate::model::*;

/// A supervisor's decision the enumerator needs to hear of: a returned visit, a request to visit
/// again, the approval of one of this phone's visits, or a conflict between enumerators resolved
/// (for the one overruled as for the other).
#[derive(Debug, Clone, PartialEq)]
pub struct InboxItem {
    pub review: Review,
    /// The head of the household, when the phone holds it.
    pub head_name: Option<String>,
    pub read: bool,
    /// A resolved conflict: whether the visit the supervisor chose is this phone's.
    pub chosen_visit_is_mine: Option<bool>,
}

/// A household of this phone's work whose pulled state asks the enumerator's attention. It
/// stays while it holds: until a supervisor resolves the conflict, or the draft is finished or
/// discarded.
#[derive(Debug, Clone, PartialEq)]
pub struct HouseholdNotice {
    pub household_id: HouseholdId,
    pub head_name: String,
    pub kind: NoticeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NoticeKind {
    /// This phone's visit and another enumerator's disagree on these answers within one
    /// campaign; a supervisor decides.
    Conflict { fields: Vec<ConflictField> },
    /// SYN-01: another enumerator's visit, finished at `changed_at`, changed the household after
    /// the draft `draft_id` was opened here: the enumerator reviews it before finishing.
    ChangedSinceDraft {
        draft_id: VisitId,
        changed_at: Timestamp,
    },
}

/// This phone's visits of one household: finished ones by id, drafts with their start.
#[derive(Default)]
struct Work {
    visits: BTreeSet<VisitId>,
    drafts: Vec<(VisitId, Timestamp)>,
}

impl Store {
    /// Returned visits, re-visit requests, approvals of this phone's visits and resolved
    /// conflicts, newest first.
    pub fn inbox(&self) -> Result<Vec<InboxItem>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT r.review_id, r.body, r.read_at IS NOT NULL, h.household_id, h.card,
                     EXISTS (SELECT 1 FROM visits v WHERE v.visit_id = r.visit_id) AS mine
                 FROM reviews r
                 LEFT JOIN households h ON h.household_id = r.household_id
                 WHERE r.decision IN ('RETURN', 'REQUEST_REVISIT', 'RESOLVE_CONFLICT')
                     OR (r.decision = 'APPROVE' AND mine)
                 ORDER BY r.decided_at DESC, r.review_id",
            )?;
            type Row = (String, Vec<u8>, bool, Option<String>, Option<Vec<u8>>, bool);
            let rows = stmt.query_map([], |r| Row::try_from(r))?;
            let mut list = Vec::new();
            for row in rows {
                let (id, body, read, household, card, mine): Row = row?;
                let review: Review = self.sealer.open_json(REVIEW, &id, &body)?;
                let head_name = match (household, card) {
                    (Some(household), Some(card)) => {
                        Some(head_name(&self.sealer, &household, &card)?)
                    }
                    _ => None,
                };
                let resolved = review.decision == Decision::ResolveConflict;
                list.push(InboxItem {
                    review,
                    head_name,
                    read,
                    chosen_visit_is_mine: resolved.then_some(mine),
                });
            }
            Ok(list)
        })
    }

    /// Marks an inbox item read.
    pub fn mark_read(&self, review: ReviewId) -> Result<()> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE reviews SET read_at = coalesce(read_at, ?2) WHERE review_id = ?1",
                )?
                .execute(params![review.to_string(), unix_millis_now()])?;
            if n == 0 {
                return Err(Error::NotFound { what: "review" });
            }
            Ok(())
        })
    }

    /// The households of this phone's visits and drafts whose pulled state holds a conflict
    /// with one of its visits, or changed by another enumerator's visit since a draft of it was
    /// opened; by household.
    pub fn notices(&self) -> Result<Vec<HouseholdNotice>> {
        self.read(|c| {
            let mut work: BTreeMap<String, Work> = BTreeMap::new();
            let mut stmt = c.prepare_cached(
                "SELECT v.household_id, v.visit_id, v.finished, CASE WHEN v.finished = 0
                     THEN v.body END
                 FROM visits v JOIN households h USING (household_id)",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let (household, id, finished, body): (String, String, bool, Option<Vec<u8>>) =
                    (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
                let visit_id = VisitId::parse(&id).map_err(|_| households::corrupt("visit id"))?;
                let entry = work.entry(household).or_default();
                match body {
                    Some(body) if !finished => {
                        let draft: Visit = self.sealer.open_json(BODY, &id, &body)?;
                        entry.drafts.push((visit_id, draft.started_at));
                    }
                    _ => {
                        entry.visits.insert(visit_id);
                    }
                }
            }
            let mut notices = Vec::new();
            for (household, work) in work {
                let id = HouseholdId::parse(&household)
                    .map_err(|_| households::corrupt("household id"))?;
                let Some(merged) = households::household(c, &self.sealer, id)? else {
                    continue;
                };
                let head_name = merged.state.household.head_name.clone();
                for kind in noticed(&merged.state, &work) {
                    notices.push(HouseholdNotice {
                        household_id: id,
                        head_name: head_name.clone(),
                        kind,
                    });
                }
            }
            Ok(notices)
        })
    }
}

/// What a household's state tells the phone whose work on it is `work`.
fn noticed(state: &HouseholdState, work: &Work) -> Vec<NoticeKind> {
    let mut kinds = Vec::new();
    let fields: Vec<ConflictField> = state
        .conflicts
        .iter()
        .filter(|c| c.visits.iter().any(|v| work.visits.contains(v)))
        .map(|c| c.field)
        .collect();
    if !fields.is_empty() {
        kinds.push(NoticeKind::Conflict { fields });
    }
    let latest_is_another = state
        .visits_used
        .last()
        .is_some_and(|v| !work.visits.contains(v));
    if let (true, Some(changed_at)) = (latest_is_another, state.last_visit_at) {
        for (draft_id, started_at) in &work.drafts {
            if changed_at > *started_at {
                kinds.push(NoticeKind::ChangedSinceDraft {
                    draft_id: *draft_id,
                    changed_at,
                });
            }
        }
    }
    kinds
}
