//! Supervisors' decisions. A review is an event like a visit: stored once, it becomes an input
//! of the household's merge (in the same transaction) and reaches the enumerator's phone on its
//! next pull.

use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use verivali_core::model::*;

use crate::audit;
use crate::auth::SupervisorAuth;
use crate::error::{ApiError, ErrorCode};
use crate::households;

/// `POST /api/v1/reviews`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub household_id: HouseholdId,
    #[serde(default)]
    pub visit_id: Option<VisitId>,
    pub decision: Decision,
    #[serde(default)]
    pub other_household_id: Option<HouseholdId>,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ReviewResponse {
    pub review_id: ReviewId,
    pub status: VerificationStatus,
    pub state_hash: Sha256,
}

pub const COMMENT_REQUIRED: ErrorCode = ErrorCode {
    code: "SUP-02",
    message_id: "Tulis alasan pengembalian.",
    message_en: "Write a reason for returning.",
};
pub const VISIT_REQUIRED: ErrorCode = ErrorCode {
    code: "SUP-03",
    message_id: "Pilih kunjungan dari keluarga ini.",
    message_en: "Choose a visit of this household.",
};
pub const OTHER_REQUIRED: ErrorCode = ErrorCode {
    code: "SUP-04",
    message_id: "Pilih keluarga lain yang dimaksud.",
    message_en: "Choose the other household.",
};

/// Validates and stores a decision, merges the household again, records it in the audit log.
pub fn decide(
    tx: &Transaction<'_>,
    reviewer: &SupervisorAuth,
    request: ReviewRequest,
    now: Timestamp,
) -> Result<ReviewResponse, ApiError> {
    let region = household_region(tx, request.household_id)?;
    reviewer.check(&region)?;

    let needs_visit = matches!(
        request.decision,
        Decision::Approve | Decision::Return | Decision::ResolveConflict
    );
    let enumerator = match request.visit_id {
        Some(visit) => {
            let owner: Option<String> = tx
                .prepare_cached(
                    "SELECT enumerator_id FROM visits WHERE visit_id = ?1 AND household_id = ?2",
                )?
                .query_row([visit.to_string(), request.household_id.to_string()], |r| {
                    r.get(0)
                })
                .optional()?;
            Some(owner.ok_or_else(|| ApiError::bad_request(VISIT_REQUIRED))?)
        }
        None if needs_visit => return Err(ApiError::bad_request(VISIT_REQUIRED)),
        None => None,
    };
    if request.decision == Decision::Return
        && request
            .comment
            .as_deref()
            .is_none_or(|c| c.trim().is_empty())
    {
        return Err(ApiError::bad_request(COMMENT_REQUIRED));
    }
    if matches!(
        request.decision,
        Decision::MergeHouseholds | Decision::DismissDuplicate
    ) {
        let other = request
            .other_household_id
            .filter(|o| *o != request.household_id)
            .ok_or_else(|| ApiError::bad_request(OTHER_REQUIRED))?;
        reviewer.check(&household_region(tx, other)?)?;
    }

    let review = Review {
        review_id: ReviewId(uuid::Uuid::now_v7()),
        household_id: request.household_id,
        visit_id: request.visit_id,
        decision: request.decision,
        other_household_id: request.other_household_id,
        comment: request.comment.map(|c| c.trim().to_owned()),
        reviewer_id: reviewer.user_id,
        decided_at: now,
    };
    let seq = households::next_change_seq(tx)?;
    tx.prepare_cached(
        "INSERT INTO reviews (review_id, household_id, region, visit_id, enumerator_id, body, change_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        review.review_id.to_string(),
        review.household_id.to_string(),
        region.as_str(),
        review.visit_id.map(|v| v.to_string()),
        enumerator,
        serde_json::to_string(&review)?,
        seq,
    ])?;
    if review.decision == Decision::DismissDuplicate
        && let Some(other) = review.other_household_id
    {
        let (a, b) = ordered(review.household_id, other);
        tx.prepare_cached(
            "UPDATE duplicates SET dismissed_at = ?3 WHERE household_a = ?1 AND household_b = ?2",
        )?
        .execute(params![a, b, now.unix_millis()])?;
    }
    let merged = households::remerge(tx, review.household_id, now)?;
    audit::record(
        tx,
        &format!("supervisor:{}", reviewer.user_id),
        &format!("review:{}", review.decision.code()),
        Some(&review.household_id.to_string()),
        review.visit_id.map(|v| v.to_string()).as_deref(),
    )?;
    Ok(ReviewResponse {
        review_id: review.review_id,
        status: merged.state.status,
        state_hash: merged.state_hash,
    })
}

/// The pair of households in the order the duplicates table keeps them.
pub fn ordered(a: HouseholdId, b: HouseholdId) -> (String, String) {
    let (a, b) = (a.to_string(), b.to_string());
    if a < b { (a, b) } else { (b, a) }
}

fn household_region(tx: &Transaction<'_>, id: HouseholdId) -> Result<RegionCode, ApiError> {
    let region: Option<String> = tx
        .prepare_cached("SELECT region FROM households WHERE household_id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?;
    let region = region
        .ok_or_else(|| ApiError::new(axum::http::StatusCode::NOT_FOUND, crate::error::NOT_FOUND))?;
    RegionCode::parse(&region).map_err(ApiError::internal)
}
