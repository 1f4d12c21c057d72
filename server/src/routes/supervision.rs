//! The supervisor's API: households of their region, one household with its visits and flags,
//! the review queues, decisions (one or a selection approved at once), progress, the dashboard's overview and
//! completeness. Each call extracts, calls one function of `supervision`, `review` or `reports`
//! (the pages call the same ones) and answers.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use verivali_core::model::{HouseholdId, Sha256};

use crate::auth::SupervisorAuth;
use crate::error::{self, ApiError};
use crate::map::{self, ClusterQuery, Clusters};
use crate::photos::{self, PhotoSize};
use crate::queues::{self, ConflictLine, DuplicatePair, Proposal, VisitQuery, VisitsToReview};
use crate::reports::{self, DeviceCompleteness, Overview, Place, Progress};
use crate::review::{self, BulkApproval, BulkApprovalResponse, ReviewRequest, ReviewResponse};
use crate::state::AppState;
use crate::supervision::{
    self, HouseholdDetail, HouseholdList, ListQuery, Search, region_in_scope,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/households", get(list_households))
        .route("/households/search", post(search_households))
        .route("/households/{household_id}", get(household_detail))
        .route(
            "/households/{household_id}/photos/{sha256}",
            get(household_photo),
        )
        .route("/queues/conflicts", get(conflicts))
        .route("/queues/duplicates", get(duplicates))
        .route("/queues/visits", get(visits_to_review))
        .route("/queues/proposals", get(proposals))
        .route("/reviews", post(decide))
        .route("/reviews/approve", post(approve_all))
        .route("/map/clusters", get(map_clusters))
        .route("/map/boundaries", get(map_boundaries))
        .route("/reports/progress", get(progress))
        .route("/reports/overview", get(overview))
        .route("/reports/completeness", get(completeness))
}

#[derive(Debug, Deserialize)]
struct RegionQuery {
    /// Defaults to the supervisor's whole region.
    #[serde(default)]
    region: Option<String>,
}

async fn list_households(
    State(state): State<AppState>,
    who: SupervisorAuth,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<HouseholdList>, ApiError> {
    let Query(q) = query?;
    let filter = q.filter(&who, None)?;
    Ok(Json(
        supervision::households(&state.db, &who, filter).await?,
    ))
}

/// `POST /households/search`: the text (a NIK or part of a name) travels in the body, never in
/// a URL.
#[derive(Deserialize)]
struct SearchBody {
    q: String,
    #[serde(flatten)]
    list: ListQuery,
}

async fn search_households(
    State(state): State<AppState>,
    who: SupervisorAuth,
    body: Result<Json<SearchBody>, JsonRejection>,
) -> Result<Json<HouseholdList>, ApiError> {
    let Json(body) = body?;
    let filter = body.list.filter(&who, Search::parse(&body.q))?;
    Ok(Json(
        supervision::households(&state.db, &who, filter).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct DetailQuery {
    /// `full` for whole NIK and KK numbers (a role that may see them); masked otherwise.
    #[serde(default)]
    nik: Option<String>,
}

async fn household_detail(
    State(state): State<AppState>,
    who: SupervisorAuth,
    Path(id): Path<String>,
    query: Result<Query<DetailQuery>, QueryRejection>,
) -> Result<Json<HouseholdDetail>, ApiError> {
    let Query(q) = query?;
    let id = HouseholdId::parse(&id).map_err(|_| ApiError::not_found())?;
    let whole = supervision::whole_numbers_asked(q.nik.as_deref())?;
    let record = supervision::household(&state.db, &who, id, whole).await?;
    Ok(Json(record.into_detail()?))
}

#[derive(Debug, Deserialize)]
struct PhotoQuery {
    #[serde(default = "full_size")]
    size: PhotoSize,
}

fn full_size() -> PhotoSize {
    PhotoSize::Full
}

/// A photo of one of the household's visits (the browser's `<img>` sends the session cookie).
async fn household_photo(
    State(state): State<AppState>,
    who: SupervisorAuth,
    Path((id, sha)): Path<(String, String)>,
    query: Result<Query<PhotoQuery>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Query(q) = query?;
    let id = HouseholdId::parse(&id).map_err(|_| ApiError::not_found())?;
    let sha = Sha256::parse(&sha).map_err(|_| ApiError::bad_request(error::BAD_HASH))?;
    let photo = photos::household_photo(&state, &who, id, sha, q.size).await?;
    Ok((
        [
            (header::CONTENT_TYPE, photo.content_type),
            // Named by its hash, it never changes; private, so no shared cache keeps it.
            (header::CACHE_CONTROL, "private, max-age=86400"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        photo.bytes,
    ))
}

async fn map_clusters(
    State(state): State<AppState>,
    who: SupervisorAuth,
    query: Result<Query<ClusterQuery>, QueryRejection>,
) -> Result<Json<Clusters>, ApiError> {
    let Query(q) = query?;
    Ok(Json(map::clusters(&state.db, &who, q).await?))
}

async fn map_boundaries(
    State(state): State<AppState>,
    who: SupervisorAuth,
    query: Result<Query<RegionQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(q) = query?;
    Ok(Json(
        map::boundaries(&state.db, &who, q.region.as_deref()).await?,
    ))
}

async fn conflicts(
    State(state): State<AppState>,
    who: SupervisorAuth,
    query: Result<Query<RegionQuery>, QueryRejection>,
) -> Result<Json<Vec<ConflictLine>>, ApiError> {
    let Query(q) = query?;
    let region = region_in_scope(&who, q.region.as_deref())?;
    Ok(Json(queues::conflicts(&state.db, &who, region).await?))
}

async fn duplicates(
    State(state): State<AppState>,
    who: SupervisorAuth,
    query: Result<Query<RegionQuery>, QueryRejection>,
) -> Result<Json<Vec<DuplicatePair>>, ApiError> {
    let Query(q) = query?;
    let region = region_in_scope(&who, q.region.as_deref())?;
    Ok(Json(queues::duplicates(&state.db, &who, region).await?))
}

async fn visits_to_review(
    State(state): State<AppState>,
    who: SupervisorAuth,
    query: Result<Query<VisitQuery>, QueryRejection>,
) -> Result<Json<VisitsToReview>, ApiError> {
    let Query(q) = query?;
    Ok(Json(queues::visits_to_review(&state.db, &who, q).await?))
}

async fn proposals(
    State(state): State<AppState>,
    who: SupervisorAuth,
    query: Result<Query<RegionQuery>, QueryRejection>,
) -> Result<Json<Vec<Proposal>>, ApiError> {
    let Query(q) = query?;
    let region = region_in_scope(&who, q.region.as_deref())?;
    Ok(Json(queues::proposals(&state.db, &who, region).await?))
}

async fn approve_all(
    State(state): State<AppState>,
    who: SupervisorAuth,
    body: Result<Json<BulkApproval>, JsonRejection>,
) -> Result<Json<BulkApprovalResponse>, ApiError> {
    let Json(request) = body?;
    Ok(Json(review::approve_all(&state.db, who, request).await?))
}

async fn decide(
    State(state): State<AppState>,
    who: SupervisorAuth,
    body: Result<Json<ReviewRequest>, JsonRejection>,
) -> Result<Json<ReviewResponse>, ApiError> {
    let Json(request) = body?;
    Ok(Json(review::decide_now(&state.db, who, request).await?))
}

/// A region, or one RW of a village (`rw=001`; `rw=-` for households whose RW is not known).
#[derive(Debug, Deserialize)]
struct PlaceQuery {
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    rw: Option<String>,
}

impl PlaceQuery {
    fn place(&self, who: &SupervisorAuth) -> Result<Place, ApiError> {
        Place::parse(
            region_in_scope(who, self.region.as_deref())?,
            self.rw.as_deref(),
        )
    }
}

async fn progress(
    State(state): State<AppState>,
    who: SupervisorAuth,
    query: Result<Query<PlaceQuery>, QueryRejection>,
) -> Result<Json<Progress>, ApiError> {
    let Query(q) = query?;
    let place = q.place(&who)?;
    let report = state
        .db
        .read(move |conn| reports::progress(conn, &place).map_err(ApiError::from))
        .await?;
    Ok(Json(report))
}

async fn overview(
    State(state): State<AppState>,
    who: SupervisorAuth,
    query: Result<Query<PlaceQuery>, QueryRejection>,
) -> Result<Json<Overview>, ApiError> {
    let Query(q) = query?;
    Ok(Json(
        reports::overview_now(&state.db, q.place(&who)?).await?,
    ))
}

async fn completeness(
    State(state): State<AppState>,
    who: SupervisorAuth,
    query: Result<Query<RegionQuery>, QueryRejection>,
) -> Result<Json<Vec<DeviceCompleteness>>, ApiError> {
    let Query(q) = query?;
    let region = region_in_scope(&who, q.region.as_deref())?;
    Ok(Json(reports::completeness_now(&state.db, region).await?))
}
