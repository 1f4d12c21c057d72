//! Supervisors' decisions. A review is an event like a visit: stored once, it becomes an input
//! of the household's merge (in the same transaction) and reaches the enumerator's phone on its
//! next pull: the enumerator whose visit it decides, and for a resolved conflict every enumerator
//! whose visit was in it, so that the one overruled hears of it too.
//!
//! A decision may carry its own `review_id`, made by the page that sent it: sent twice (a double
//! click, a retry on a slow line), it is stored once.

use serde::{Deserialize, Serialize};
use verivali_core::model::*;

use crate::audit;
use crate::auth::SupervisorAuth;
use crate::error::{ApiError, ErrorCode};
use crate::households;
use crate::roles;
use crate::store::{self, Conn, households as stored_households, reviews};

/// `POST /api/v1/reviews`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// Made by the client so that a retry is stored once; the server makes one when absent.
    #[serde(default)]
    pub review_id: Option<ReviewId>,
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
pub const ALREADY_MERGED: ErrorCode = ErrorCode {
    code: "SUP-06",
    message_id: "Keluarga ini sudah digabung ke keluarga lain.",
    message_en: "This household was already merged into another one.",
};
pub const REVIEW_ID_REUSED: ErrorCode = ErrorCode {
    code: "SUP-05",
    message_id: "ID keputusan ini sudah dipakai untuk keputusan lain.",
    message_en: "This review id was already used for another decision.",
};

pub const TOO_MANY_VISITS: ErrorCode = ErrorCode {
    code: "SUP-07",
    message_id: "Pilih paling banyak 200 kunjungan sekaligus.",
    message_en: "Choose at most 200 visits at once.",
};

/// At most this many visits approved in one action.
pub const MAX_BULK: usize = 200;

/// `POST /api/v1/reviews/approve`: visits approved in one action (a page's selection).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BulkApproval {
    pub visits: Vec<VisitRef>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VisitRef {
    pub household_id: HouseholdId,
    pub visit_id: VisitId,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct BulkApprovalResponse {
    pub approved: Vec<ReviewResponse>,
    /// The visits not approved, each with its error: the others are approved all the same.
    pub refused: Vec<Refused>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Refused {
    pub visit_id: VisitId,
    #[serde(flatten)]
    pub error: verivali_core::protocol::ErrorBody,
}

/// Approves each visit as its own decision (stored, merged, sent to its phone and audited one
/// by one), queued together so that the writer commits them as one group.
pub async fn approve_all(
    db: &crate::db::Db,
    reviewer: SupervisorAuth,
    request: BulkApproval,
) -> Result<BulkApprovalResponse, ApiError> {
    reviewer.check_role(roles::DECIDE)?;
    if request.visits.len() > MAX_BULK {
        return Err(ApiError::bad_request(TOO_MANY_VISITS));
    }
    let mut decisions = tokio::task::JoinSet::new();
    for (n, v) in request.visits.into_iter().enumerate() {
        let (db, reviewer) = (db.clone(), reviewer.clone());
        let approve = ReviewRequest {
            review_id: None,
            household_id: v.household_id,
            visit_id: Some(v.visit_id),
            decision: Decision::Approve,
            other_household_id: None,
            comment: None,
        };
        decisions.spawn(async move { (n, v.visit_id, decide_now(&db, reviewer, approve).await) });
    }
    let mut answers = decisions.join_all().await;
    answers.sort_by_key(|(n, _, _)| *n);
    let mut response = BulkApprovalResponse {
        approved: Vec::new(),
        refused: Vec::new(),
    };
    for (_, visit_id, answer) in answers {
        match answer {
            Ok(done) => response.approved.push(done),
            Err(e) => response.refused.push(Refused {
                visit_id,
                error: e.body,
            }),
        }
    }
    Ok(response)
}

/// A decision made now, through the writer: what the API and the pages call.
pub async fn decide_now(
    db: &crate::db::Db,
    reviewer: SupervisorAuth,
    request: ReviewRequest,
) -> Result<ReviewResponse, ApiError> {
    reviewer.check_role(roles::DECIDE)?;
    let now = Timestamp::now_utc();
    db.write(move |tx| decide(tx, &reviewer, request, now))
        .await
}

/// Validates and stores a decision, merges the household again, records it in the audit log.
pub fn decide(
    tx: Conn<'_>,
    reviewer: &SupervisorAuth,
    request: ReviewRequest,
    now: Timestamp,
) -> Result<ReviewResponse, ApiError> {
    let region = household_region(tx, request.household_id)?;
    reviewer.check_household(&region)?;
    if let Some(id) = request.review_id
        && let Some(stored) = stored_review(tx, id)?
    {
        return repeated(tx, reviewer, &request, &stored);
    }

    let needs_visit = matches!(
        request.decision,
        Decision::Approve | Decision::Return | Decision::ResolveConflict
    );
    let enumerator = match request.visit_id {
        Some(visit) => {
            let owner =
                reviews::visit_owner(tx, &visit.to_string(), &request.household_id.to_string())?;
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
        reviewer.check_household(&household_region(tx, other)?)?;
        // A merged household has no decisions left: the pair is decided, and a merge into it
        // (or a second merge of it) could make a cycle.
        if request.decision == Decision::MergeHouseholds
            && (is_merged(tx, request.household_id)? || is_merged(tx, other)?)
        {
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                ALREADY_MERGED,
            ));
        }
    }

    // Decisions on one household apply in the order they were made, also when two fall in one
    // millisecond (the merge orders them by time, then id).
    let latest = reviews::latest_decided_at(tx, &request.household_id.to_string())?;
    let now = match latest {
        Some(latest) if latest >= now.unix_millis() => Timestamp::from_unix_millis(latest + 1),
        _ => now,
    };
    let recipients = recipients(tx, &request, enumerator.as_deref())?;
    let review = Review {
        review_id: request
            .review_id
            .unwrap_or_else(|| ReviewId(uuid::Uuid::now_v7())),
        household_id: request.household_id,
        visit_id: request.visit_id,
        decision: request.decision,
        other_household_id: request.other_household_id,
        comment: request.comment.map(|c| c.trim().to_owned()),
        reviewer_id: reviewer.user_id,
        decided_at: now,
    };
    let seq = store::households::next_change_seq(tx)?;
    reviews::insert(
        tx,
        &reviews::NewReview {
            review_id: &review.review_id.to_string(),
            household_id: &review.household_id.to_string(),
            region: region.as_str(),
            visit_id: review.visit_id.map(|v| v.to_string()).as_deref(),
            enumerator_id: enumerator.as_deref(),
            body: &serde_json::to_string(&review)?,
            decided_at: review.decided_at.unix_millis(),
            change_seq: seq,
        },
        recipients.iter().map(String::as_str),
    )?;
    if review.decision == Decision::DismissDuplicate
        && let Some(other) = review.other_household_id
    {
        let (a, b) = ordered(review.household_id, other);
        reviews::dismiss_duplicate(tx, (&a, &b), now.unix_millis())?;
    }
    let merged = households::remerge(tx, review.household_id, now)?;
    audit::record_in(
        tx,
        Some(region.as_str()),
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

/// A decision stored before under the id a request carries.
fn stored_review(tx: Conn<'_>, id: ReviewId) -> Result<Option<Review>, ApiError> {
    let body = reviews::body(tx, &id.to_string())?;
    Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
}

/// A decision sent again: nothing stored, answered with its id and the household's status and
/// hash as they stand; another decision under its id is refused.
fn repeated(
    tx: Conn<'_>,
    reviewer: &SupervisorAuth,
    request: &ReviewRequest,
    stored: &Review,
) -> Result<ReviewResponse, ApiError> {
    let same = stored.household_id == request.household_id
        && stored.visit_id == request.visit_id
        && stored.decision == request.decision
        && stored.other_household_id == request.other_household_id
        && stored.comment.as_deref() == request.comment.as_deref().map(str::trim)
        && stored.reviewer_id == reviewer.user_id;
    if !same {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            REVIEW_ID_REUSED,
        ));
    }
    let (status, hash) = stored_households::status_and_hash(tx, &stored.household_id.to_string())?;
    Ok(ReviewResponse {
        review_id: stored.review_id,
        status: VerificationStatus::from_code(&status)
            .ok_or_else(|| ApiError::internal(format!("stored status {status}")))?,
        state_hash: Sha256::parse(&hash).map_err(ApiError::internal)?,
    })
}

/// The enumerators whose phones receive a decision on a visit: the visit's own, and for a
/// resolved conflict also those of every visit in the household's conflicts. A decision on the
/// household alone (`None` owner) goes to every phone of its area instead.
fn recipients(
    tx: Conn<'_>,
    request: &ReviewRequest,
    owner: Option<&str>,
) -> Result<std::collections::BTreeSet<String>, ApiError> {
    let mut recipients: std::collections::BTreeSet<String> =
        owner.map(str::to_owned).into_iter().collect();
    if request.decision == Decision::ResolveConflict {
        let state = stored_households::state(tx, &request.household_id.to_string())?;
        let state: verivali_core::merge::HouseholdState = serde_json::from_str(&state)?;
        for visit in state.conflicts.iter().flat_map(|c| &c.visits) {
            if let Some(e) = reviews::enumerator_of_visit(tx, &visit.to_string())? {
                recipients.insert(e);
            }
        }
    }
    Ok(recipients)
}

/// The pair of households in the order the duplicates table keeps them.
pub fn ordered(a: HouseholdId, b: HouseholdId) -> (String, String) {
    let (a, b) = (a.to_string(), b.to_string());
    if a < b { (a, b) } else { (b, a) }
}

fn is_merged(tx: Conn<'_>, id: HouseholdId) -> Result<bool, ApiError> {
    Ok(stored_households::is_merged(tx, &id.to_string())?)
}

fn household_region(tx: Conn<'_>, id: HouseholdId) -> Result<RegionCode, ApiError> {
    let region = stored_households::region_of(tx, &id.to_string())?;
    let region = region
        .ok_or_else(|| ApiError::new(axum::http::StatusCode::NOT_FOUND, crate::error::NOT_FOUND))?;
    RegionCode::parse(&region).map_err(ApiError::internal)
}
