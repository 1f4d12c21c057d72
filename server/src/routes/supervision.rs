//! The supervisor's API: households of their region, one household with its visits and flags,
//! the conflict and duplicate queues, decisions, progress and completeness. Every call is confined
//! to the supervisor's region (403 outside it); NIK and KK numbers are masked.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use verivali_core::merge::{ExcludedVisit, ExclusionReason};
use verivali_core::model::{
    Code, HouseholdId, Labelled, RegionCode, Review, Timestamp, VerificationStatus,
};

use crate::auth::SupervisorAuth;
use crate::error::{self, ApiError};
use crate::privacy;
use crate::reports::{self, DeviceCompleteness, Progress, code_range};
use crate::review::{self, ReviewRequest, ReviewResponse};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/households", get(list_households))
        .route("/households/{household_id}", get(household_detail))
        .route("/queues/conflicts", get(conflicts))
        .route("/queues/duplicates", get(duplicates))
        .route("/reviews", post(decide))
        .route("/reports/progress", get(progress))
        .route("/reports/completeness", get(completeness))
}

#[derive(Debug, Deserialize)]
struct RegionQuery {
    /// Defaults to the supervisor's whole region.
    #[serde(default)]
    region: Option<String>,
}

/// The region asked for, checked against the scope.
pub(super) fn region_in_scope(
    who: &SupervisorAuth,
    asked: Option<&str>,
) -> Result<RegionCode, ApiError> {
    let region = match asked {
        None | Some("") => who.scope.clone(),
        Some(code) => {
            RegionCode::parse(code).map_err(|_| ApiError::bad_request(error::BAD_REGION))?
        }
    };
    who.check(&region)?;
    Ok(region)
}

/// A status filter as asked (`?status=VISITED`), none when absent.
pub(super) fn status_filter(asked: Option<&str>) -> Result<Option<VerificationStatus>, ApiError> {
    match asked {
        None | Some("") => Ok(None),
        Some(s) => VerificationStatus::from_code(s)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(error::BAD_FILTER)),
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    status: Option<String>,
    /// Continue after this household id (the previous page's `next_after`).
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct HouseholdLine {
    pub household_id: String,
    pub region: String,
    pub rw: Option<String>,
    pub rt: Option<String>,
    pub head_name: String,
    pub address: String,
    pub status: String,
    pub outcome: Option<String>,
    pub assessment: Option<String>,
    pub recommendation: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct HouseholdList {
    pub households: Vec<HouseholdLine>,
    pub next_after: Option<String>,
}

async fn list_households(
    State(state): State<AppState>,
    who: SupervisorAuth,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<HouseholdList>, ApiError> {
    let Query(q) = query?;
    let region = region_in_scope(&who, q.region.as_deref())?;
    let status = status_filter(q.status.as_deref())?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let after = q.after.unwrap_or_default();
    let list = state
        .db
        .read(move |conn| {
            let (from, to) = code_range(&region);
            let mut stmt = conn.prepare_cached(
                "SELECT household_id, region, rw, rt, head_name, address, status, outcome, assessment, recommendation
                 FROM households
                 WHERE region >= ?1 AND region < ?2 AND (?3 IS NULL OR status = ?3) AND household_id > ?4
                 ORDER BY household_id LIMIT ?5",
            )?;
            let households: Vec<HouseholdLine> = stmt
                .query_map(rusqlite::params![from, to, status.map(|s| s.code()), after, limit], |r| {
                    Ok(HouseholdLine {
                        household_id: r.get(0)?,
                        region: r.get(1)?,
                        rw: r.get(2)?,
                        rt: r.get(3)?,
                        head_name: r.get(4)?,
                        address: r.get(5)?,
                        status: r.get(6)?,
                        outcome: r.get(7)?,
                        assessment: r.get(8)?,
                        recommendation: r.get(9)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            let next_after = (households.len() == limit as usize).then(|| households.last().map(|h| h.household_id.clone())).flatten();
            Ok::<_, ApiError>(HouseholdList { households, next_after })
        })
        .await?;
    Ok(Json(list))
}

#[derive(Debug, Serialize, Deserialize)]
pub struct VisitLine {
    pub visit_id: String,
    pub enumerator_id: String,
    pub device_id: String,
    pub device_seq: u64,
    pub received_at: Timestamp,
    pub order_time: Timestamp,
    pub skew_ms: i64,
    /// The visit of the same content that the merge counts instead of this one.
    pub duplicate_of: Option<String>,
    pub flags: Vec<String>,
    pub outcome: Option<String>,
    pub assessment: Option<String>,
    pub recommendation: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DuplicateLine {
    pub other_household_id: String,
    pub kind: String,
    pub dismissed: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct HouseholdDetail {
    /// The merged state, with NIK and KK numbers masked.
    pub state: Value,
    pub state_hash: String,
    pub visits: Vec<VisitLine>,
    pub reviews: Vec<Review>,
    pub duplicates: Vec<DuplicateLine>,
}

async fn household_detail(
    State(state): State<AppState>,
    who: SupervisorAuth,
    Path(id): Path<String>,
) -> Result<Json<HouseholdDetail>, ApiError> {
    let id = HouseholdId::parse(&id).map_err(|_| not_found())?;
    let detail = state
        .db
        .read(move |conn| {
            let row: Option<(String, String, String)> = conn
                .prepare_cached("SELECT region, state, state_hash FROM households WHERE household_id = ?1")?
                .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            let (region, state_json, state_hash) = row.ok_or_else(not_found)?;
            who.check(&RegionCode::parse(&region).map_err(ApiError::internal)?)?;
            let mut state_value: Value = serde_json::from_str(&state_json)?;
            let duplicates_of = duplicates_in(&state_value);
            privacy::mask_state(&mut state_value);

            let mut stmt = conn.prepare_cached(
                "SELECT visit_id, enumerator_id, device_id, device_seq, received_at, order_time, skew_ms,
                     flags, body FROM visits WHERE household_id = ?1 ORDER BY order_time, visit_id",
            )?;
            let mut visits = Vec::new();
            for row in stmt.query_map([id.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, u64>(3)?,
                    r.get::<_, i64>(4)?, r.get::<_, i64>(5)?, r.get::<_, i64>(6)?,
                    r.get::<_, String>(7)?, r.get::<_, String>(8)?,
                ))
            })? {
                let (visit_id, enumerator_id, device_id, device_seq, received, order, skew_ms, flags, body) = row?;
                let duplicate_of = duplicates_of.get(&visit_id).cloned();
                let body: Value = serde_json::from_str(&body)?;
                let text = |f: &str| body.get(f).and_then(Value::as_str).map(str::to_owned);
                visits.push(VisitLine {
                    visit_id,
                    enumerator_id,
                    device_id,
                    device_seq,
                    received_at: Timestamp::from_unix_millis(received),
                    order_time: Timestamp::from_unix_millis(order),
                    skew_ms,
                    duplicate_of,
                    flags: serde_json::from_str(&flags)?,
                    outcome: text("outcome"),
                    assessment: text("assessment"),
                    recommendation: text("recommendation"),
                });
            }
            let reviews: Vec<Review> = conn
                .prepare_cached("SELECT body FROM reviews WHERE household_id = ?1 ORDER BY change_seq")?
                .query_map([id.to_string()], |r| r.get::<_, String>(0))?
                .map(|b| Ok::<_, ApiError>(serde_json::from_str(&b?)?))
                .collect::<Result<_, _>>()?;
            let me = id.to_string();
            let duplicates: Vec<DuplicateLine> = conn
                .prepare_cached(
                    "SELECT household_a, household_b, kind, dismissed_at IS NOT NULL FROM duplicates
                     WHERE household_a = ?1 OR household_b = ?1 ORDER BY kind",
                )?
                .query_map([&me], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, bool>(3)?)))?
                .map(|row| {
                    let (a, b, kind, dismissed) = row?;
                    Ok::<_, ApiError>(DuplicateLine { other_household_id: if a == me { b } else { a }, kind, dismissed })
                })
                .collect::<Result<_, _>>()?;
            Ok::<_, ApiError>(HouseholdDetail { state: state_value, state_hash, visits, reviews, duplicates })
        })
        .await?;
    Ok(Json(detail))
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ConflictLine {
    pub household_id: String,
    pub region: String,
    pub head_name: String,
    pub conflicts: Value,
}

/// Households whose enumerators disagree, oldest change first.
async fn conflicts(
    State(state): State<AppState>,
    who: SupervisorAuth,
    query: Result<Query<RegionQuery>, QueryRejection>,
) -> Result<Json<Vec<ConflictLine>>, ApiError> {
    let Query(q) = query?;
    let region = region_in_scope(&who, q.region.as_deref())?;
    let lines = state
        .db
        .read(move |conn| {
            let (from, to) = code_range(&region);
            let mut stmt = conn.prepare_cached(
                "SELECT household_id, region, head_name, state FROM households
                 WHERE region >= ?1 AND region < ?2 AND status = 'NEEDS_REVIEW' ORDER BY change_seq LIMIT 1000",
            )?;
            let lines = stmt
                .query_map([from, to], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?)))?
                .map(|row| {
                    let (household_id, region, head_name, state) = row?;
                    let state: Value = serde_json::from_str(&state)?;
                    Ok::<_, ApiError>(ConflictLine { household_id, region, head_name, conflicts: state["conflicts"].clone() })
                })
                .collect::<Result<_, _>>()?;
            Ok::<_, ApiError>(lines)
        })
        .await?;
    Ok(Json(lines))
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

/// Suspected duplicates (data ganda) not yet dismissed, both households inside the region.
async fn duplicates(
    State(state): State<AppState>,
    who: SupervisorAuth,
    query: Result<Query<RegionQuery>, QueryRejection>,
) -> Result<Json<Vec<DuplicatePair>>, ApiError> {
    let Query(q) = query?;
    let region = region_in_scope(&who, q.region.as_deref())?;
    let pairs = state
        .db
        .read(move |conn| {
            let (from, to) = code_range(&region);
            let mut stmt = conn.prepare_cached(
                "SELECT d.household_a, d.household_b, a.head_name, b.head_name, d.kind, d.found_at
                 FROM duplicates d
                 JOIN households a ON a.household_id = d.household_a
                 JOIN households b ON b.household_id = d.household_b
                 WHERE d.dismissed_at IS NULL AND a.region >= ?1 AND a.region < ?2 AND b.region >= ?1 AND b.region < ?2
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
            Ok::<_, ApiError>(pairs)
        })
        .await?;
    Ok(Json(pairs))
}

async fn decide(
    State(state): State<AppState>,
    who: SupervisorAuth,
    body: Result<Json<ReviewRequest>, JsonRejection>,
) -> Result<Json<ReviewResponse>, ApiError> {
    let Json(request) = body?;
    let now = Timestamp::now_utc();
    let answer = state
        .db
        .write(move |tx| review::decide(tx, &who, request, now))
        .await?;
    Ok(Json(answer))
}

async fn progress(
    State(state): State<AppState>,
    who: SupervisorAuth,
    query: Result<Query<RegionQuery>, QueryRejection>,
) -> Result<Json<Progress>, ApiError> {
    let Query(q) = query?;
    let region = region_in_scope(&who, q.region.as_deref())?;
    let report = state
        .db
        .read(move |conn| reports::progress(conn, &region).map_err(ApiError::from))
        .await?;
    Ok(Json(report))
}

async fn completeness(
    State(state): State<AppState>,
    who: SupervisorAuth,
    query: Result<Query<RegionQuery>, QueryRejection>,
) -> Result<Json<Vec<DeviceCompleteness>>, ApiError> {
    let Query(q) = query?;
    let region = region_in_scope(&who, q.region.as_deref())?;
    let report = state
        .db
        .read(move |conn| reports::completeness(conn, &region).map_err(ApiError::from))
        .await?;
    Ok(Json(report))
}

fn not_found() -> ApiError {
    ApiError::new(axum::http::StatusCode::NOT_FOUND, error::NOT_FOUND)
}

/// Visit id → the visit of the same content that the merge counts instead, from a stored state.
fn duplicates_in(state: &Value) -> std::collections::BTreeMap<String, String> {
    let excluded: Vec<ExcludedVisit> = state
        .get("visits_excluded")
        .and_then(|v| Vec::deserialize(v).ok())
        .unwrap_or_default();
    excluded
        .into_iter()
        .filter_map(|e| match e.reason {
            ExclusionReason::DuplicateOf { visit_id } => {
                Some((e.visit_id.to_string(), visit_id.to_string()))
            }
            _ => None,
        })
        .collect()
}
