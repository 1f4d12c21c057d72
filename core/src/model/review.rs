//! A supervisor's decision. Reviews are events, like visits: they are inputs of the merge, and
//! they reach the enumerator's phone on its next pull.

use serde::{Deserialize, Serialize};

use super::enums::Decision;
use super::ids::{HouseholdId, ReviewId, Timestamp, UserId, VisitId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    pub review_id: ReviewId,
    pub household_id: HouseholdId,
    /// The visit decided on (APPROVE, RETURN; for RESOLVE_CONFLICT, the visit chosen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit_id: Option<VisitId>,
    pub decision: Decision,
    /// MERGE_HOUSEHOLDS: the household this one is merged into; DISMISS_DUPLICATE: the other one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_household_id: Option<HouseholdId>,
    /// Required for RETURN (SUP-02).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub reviewer_id: UserId,
    pub decided_at: Timestamp,
}
