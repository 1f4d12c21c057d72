//! The queue of families a newer target list left out (issue 14, item 1): a reviewer removes
//! each from the targets or keeps it ([`crate::removals`]); nothing is deleted.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use verivali_core::model::HouseholdId;

use super::page::{Chrome, OrPage, PageError, Viewer, render};
use crate::error::{self, ApiError};
use crate::removals::{self, Candidate};
use crate::reports::{local_time, utc_offset_hours};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct RemovalsQuery {
    #[serde(default)]
    region: Option<String>,
}

pub struct CandidateRow {
    pub household_id: String,
    pub head_name: String,
    pub address: String,
    pub region: String,
    pub visits: i64,
    pub since: String,
}

#[derive(Template)]
#[template(path = "removals.html")]
struct RemovalsPage {
    chrome: Chrome,
    region: String,
    total: i64,
    rows: Vec<CandidateRow>,
}

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<RemovalsQuery>,
) -> Result<Response, PageError> {
    let (region, candidates, total) =
        removals::waiting(&state.db, &viewer.who, q.region.as_deref())
            .await
            .or_page(&viewer)?;
    let offset = utc_offset_hours(&region);
    let rows = candidates
        .into_iter()
        .map(|c: Candidate| CandidateRow {
            since: local_time(c.listed_at, offset),
            household_id: c.household_id,
            head_name: c.head_name,
            address: c.address,
            region: c.region,
            visits: c.visits,
        })
        .collect();
    let page = RemovalsPage {
        chrome: viewer.chrome(viewer.t().removals_title),
        region: region.to_string(),
        total,
        rows,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    /// `remove` or `keep`.
    #[serde(default)]
    decision: String,
}

pub async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf, &headers)?;
    let household = HouseholdId::parse(&id)
        .map_err(|_| ApiError::bad_request(error::MALFORMED))
        .or_page(&viewer)?;
    let remove = match form.decision.as_str() {
        "remove" => true,
        "keep" => false,
        _ => {
            return Err(PageError::Api(
                ApiError::bad_request(error::MALFORMED),
                viewer.lang,
            ));
        }
    };
    removals::decide(&state.db, &viewer.who, household, remove)
        .await
        .or_page(&viewer)?;
    Ok(Redirect::to("/queues/removals").into_response())
}
