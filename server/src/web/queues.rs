//! The review queues as pages: conflicts between enumerators, suspected duplicates, visits
//! waiting for a decision (flagged ones apart, a selection approved at once) and proposed
//! households, from the same functions as `GET /api/v1/queues/…`.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use verivali_core::merge::Conflict;
use verivali_core::model::{Assessment, HouseholdId, Outcome, ReviewId, VisitId};

use super::dashboard::RegionQuery;
use super::households::{flag_text, place};
use super::page::{Chrome, OrPage, PageError, Viewer, local_path, render};
use crate::error::{self, ApiError};
use crate::queues;
use crate::queues::VisitQuery;
use crate::reports::{local_time, utc_offset_hours};
use crate::review::{self, BulkApproval, VisitRef};
use crate::state::AppState;
use crate::supervision::region_in_scope;

pub struct ConflictRow {
    pub household_id: String,
    pub head_name: String,
    pub region: String,
    /// The fields the enumerators disagree on.
    pub fields: String,
}

#[derive(Template)]
#[template(path = "conflicts.html")]
struct ConflictsPage {
    chrome: Chrome,
    rows: Vec<ConflictRow>,
}

pub async fn conflicts(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<RegionQuery>,
) -> Result<Response, PageError> {
    let region = region_in_scope(&viewer.who, q.region()).or_page(&viewer)?;
    let lines = queues::conflicts(&state.db, &viewer.who, region)
        .await
        .or_page(&viewer)?;
    let rows = lines
        .into_iter()
        .map(|l| {
            let conflicts: Vec<Conflict> = serde_json::from_value(l.conflicts).unwrap_or_default();
            let fields: Vec<String> = conflicts
                .iter()
                .filter_map(|c| serde_json::to_value(c.field).ok())
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            ConflictRow {
                household_id: l.household_id,
                head_name: l.head_name,
                region: l.region,
                fields: fields.join(", "),
            }
        })
        .collect();
    let page = ConflictsPage {
        chrome: viewer.chrome(viewer.t().conflicts_title),
        rows,
    };
    Ok(render(StatusCode::OK, &page))
}

pub struct DuplicateRow {
    pub a: String,
    pub b: String,
    pub name_a: String,
    pub name_b: String,
    pub kind: String,
}

#[derive(Template)]
#[template(path = "duplicates.html")]
struct DuplicatesPage {
    chrome: Chrome,
    rows: Vec<DuplicateRow>,
}

pub async fn duplicates(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<RegionQuery>,
) -> Result<Response, PageError> {
    let region = region_in_scope(&viewer.who, q.region()).or_page(&viewer)?;
    let pairs = queues::duplicates(&state.db, &viewer.who, region)
        .await
        .or_page(&viewer)?;
    // One row per pair, with everything it shares.
    let t = viewer.t();
    let mut rows: Vec<DuplicateRow> = Vec::new();
    for p in pairs {
        match rows
            .iter_mut()
            .find(|r| r.a == p.household_a && r.b == p.household_b)
        {
            Some(row) => row.kind = format!("{}, {}", row.kind, t.matched_by(&p.kind)),
            None => rows.push(DuplicateRow {
                a: p.household_a,
                b: p.household_b,
                name_a: p.head_name_a,
                name_b: p.head_name_b,
                kind: t.matched_by(&p.kind).to_owned(),
            }),
        }
    }
    let page = DuplicatesPage {
        chrome: viewer.chrome(viewer.t().duplicates_title),
        rows,
    };
    Ok(render(StatusCode::OK, &page))
}

/// A visit waiting for a decision, as the visits queue lists it.
pub struct VisitLine {
    pub visit_id: String,
    pub household_id: String,
    pub head_name: String,
    pub region: String,
    pub enumerator: String,
    pub finished: String,
    pub outcome: String,
    pub assessment: String,
    pub flags: Vec<String>,
}

#[derive(Template)]
#[template(path = "visits.html")]
struct VisitsPage {
    chrome: Chrome,
    region: String,
    flagged: bool,
    rows: Vec<VisitLine>,
    next: Option<String>,
    /// After a bulk approval: how many were approved and refused.
    done: Option<(usize, usize)>,
}

#[derive(Debug, Deserialize)]
pub struct VisitsQuery {
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    flagged: Option<bool>,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    approved: Option<usize>,
    #[serde(default)]
    refused: Option<usize>,
}

/// Visits no one has decided on yet, or only the flagged ones (`?flagged=true`), with boxes to
/// approve a selection at once.
pub async fn visits(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<VisitsQuery>,
) -> Result<Response, PageError> {
    let flagged = q.flagged.unwrap_or(false);
    let region = region_in_scope(&viewer.who, q.region.as_deref())
        .or_page(&viewer)?
        .to_string();
    let list = VisitQuery {
        region: Some(region.clone()),
        flagged: Some(flagged),
        after: q.after,
        limit: None,
    };
    let page = queues::visits_to_review(&state.db, &viewer.who, list)
        .await
        .or_page(&viewer)?;
    let lang = viewer.lang;
    let offset = utc_offset_hours(&viewer.who.scope);
    let rows = page
        .visits
        .into_iter()
        .map(|v| VisitLine {
            finished: local_time(v.order_time, offset),
            outcome: v
                .outcome
                .map(|o| lang.label_of::<Outcome>(&o))
                .unwrap_or_default(),
            assessment: v
                .assessment
                .map(|a| lang.label_of::<Assessment>(&a))
                .unwrap_or_default(),
            flags: v.flags.iter().map(|f| flag_text(lang, f)).collect(),
            visit_id: v.visit_id,
            household_id: v.household_id,
            head_name: v.head_name,
            region: v.region,
            enumerator: v.enumerator_name,
        })
        .collect();
    let next = page
        .next_after
        .map(|after| format!("/queues/visits?region={region}&flagged={flagged}&after={after}"));
    let title = if flagged {
        viewer.t().flagged_title
    } else {
        viewer.t().visits_title
    };
    let page = VisitsPage {
        chrome: viewer.chrome(title),
        region,
        flagged,
        rows,
        next,
        done: q.approved.map(|a| (a, q.refused.unwrap_or(0))),
    };
    Ok(render(StatusCode::OK, &page))
}

/// Approves the visits ticked on the visits queue, through the same function as
/// `POST /api/v1/reviews/approve`. Each box is `visit.<visit id>` = its household id (a form
/// field name is unique, so the selection needs no repeated keys).
pub async fn approve_selected(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    viewer.check_csrf(form.get("csrf").map_or("", String::as_str), &headers)?;
    let bad = || ApiError::bad_request(error::MALFORMED);
    let visits = form
        .iter()
        .filter_map(|(name, household)| Some((name.strip_prefix("visit.")?, household)))
        .map(|(visit, household)| {
            Ok(VisitRef {
                household_id: HouseholdId::parse(household).map_err(|_| bad())?,
                visit_id: VisitId::parse(visit).map_err(|_| bad())?,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()
        .or_page(&viewer)?;
    let answer = review::approve_all(&state.db, viewer.who.clone(), BulkApproval { visits })
        .await
        .or_page(&viewer)?;
    let back = local_path(form.get("back").cloned()).unwrap_or_else(|| "/queues/visits".into());
    let sep = if back.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!(
        "{back}{sep}approved={}&refused={}",
        answer.approved.len(),
        answer.refused.len()
    ))
    .into_response())
}

pub struct ProposalLine {
    pub household_id: String,
    pub head_name: String,
    pub address: String,
    pub region: String,
    pub place: String,
    pub visit_id: String,
    pub enumerator: String,
    pub finished: String,
    pub review_ids: [String; 2],
}

#[derive(Template)]
#[template(path = "proposals.html")]
struct ProposalsPage {
    chrome: Chrome,
    rows: Vec<ProposalLine>,
}

/// Households enumerators proposed, each with accept (approve its visit) and reject (return it
/// with a reason, which reaches the phone).
pub async fn proposals(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<RegionQuery>,
) -> Result<Response, PageError> {
    let region = region_in_scope(&viewer.who, q.region()).or_page(&viewer)?;
    let offset = utc_offset_hours(&region);
    let lines = queues::proposals(&state.db, &viewer.who, region)
        .await
        .or_page(&viewer)?;
    let new_id = || ReviewId(uuid::Uuid::now_v7()).to_string();
    let rows = lines
        .into_iter()
        .map(|p| ProposalLine {
            place: place(p.rw.as_deref(), p.rt.as_deref()),
            finished: local_time(p.order_time, offset),
            household_id: p.household_id,
            head_name: p.head_name,
            address: p.address,
            region: p.region,
            visit_id: p.visit_id,
            enumerator: p.enumerator_name,
            review_ids: [new_id(), new_id()],
        })
        .collect();
    let page = ProposalsPage {
        chrome: viewer.chrome(viewer.t().proposals_title),
        rows,
    };
    Ok(render(StatusCode::OK, &page))
}
