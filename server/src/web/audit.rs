//! The audit log page for a region's admins (issue 14): who did what and when, newest first,
//! filtered by person, action and region, and downloadable as CSV. The same reads as
//! [`crate::audit::read_log`]; both are audited themselves.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::page::{Chrome, OrPage, PageError, Viewer, render};
use crate::audit::{self, AuditQuery};
use crate::reports::{local_time, utc_offset_hours};
use crate::state::AppState;

pub struct EntryRow {
    pub seq: i64,
    pub at: String,
    pub who: String,
    pub action: String,
    pub region: String,
    pub target: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditLogPage {
    chrome: Chrome,
    region: String,
    who: String,
    action: String,
    actions: Vec<String>,
    rows: Vec<EntryRow>,
    /// The query of this page without its place in the log, for the download and the next page.
    query: String,
    next: Option<i64>,
}

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let (who, action) = (
        q.who.clone().unwrap_or_default(),
        q.action.clone().unwrap_or_default(),
    );
    let log = audit::read_log(&state.db, &viewer.who, q)
        .await
        .or_page(&viewer)?;
    let offset = utc_offset_hours(&log.region);
    let rows = log
        .entries
        .into_iter()
        .map(|e| EntryRow {
            seq: e.seq,
            at: local_time(e.at, offset),
            who: e.actor_name.unwrap_or(e.actor),
            action: e.action,
            region: e.region.unwrap_or_default(),
            target: e.target.unwrap_or_default(),
            detail: e.detail.unwrap_or_default(),
        })
        .collect();
    let query = serde_urlencoded::to_string([
        ("region", log.region.to_string()),
        ("who", who.clone()),
        ("action", action.clone()),
    ])
    .unwrap_or_default();
    let page = AuditLogPage {
        chrome: viewer.chrome(viewer.t().audit_title),
        region: log.region.to_string(),
        who,
        action,
        actions: log.actions,
        rows,
        query,
        next: log.next,
    };
    Ok(render(StatusCode::OK, &page))
}

pub async fn download(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let csv = audit::download_log(&state.db, &viewer.who, q)
        .await
        .or_page(&viewer)?;
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"verivali-log-audit.csv\"",
        ),
        (header::CACHE_CONTROL, "no-store"),
    ];
    Ok((headers, csv).into_response())
}
