//! The review queues as pages: conflicts between enumerators and suspected duplicates, from the
//! same functions as `GET /api/v1/queues/…`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use verivali_core::merge::Conflict;

use super::dashboard::RegionQuery;
use super::page::{Chrome, OrPage, PageError, Viewer, render};
use crate::state::AppState;
use crate::supervision::{self, region_in_scope};

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
    let lines = supervision::conflicts(&state.db, &viewer.who, region)
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
    let pairs = supervision::duplicates(&state.db, &viewer.who, region)
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
