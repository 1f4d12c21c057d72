//! The campaigns page (issue 14, item 5): each verval round of the region with its days and the
//! work done in it; admins create one. Calls [`crate::campaigns`].

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::page::{Chrome, OrPage, PageError, Viewer, render};
use crate::campaigns::{self, NewCampaign};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct CampaignsQuery {
    #[serde(default)]
    region: Option<String>,
}

pub struct CampaignRow {
    pub id: String,
    pub name: String,
    pub region: String,
    pub starts_on: String,
    pub ends_on: String,
    pub under_way: bool,
    pub targets: u64,
    pub visited: u64,
    pub visits: u64,
}

#[derive(Template)]
#[template(path = "campaigns.html")]
struct CampaignsPage {
    chrome: Chrome,
    region: String,
    today: String,
    rows: Vec<CampaignRow>,
}

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<CampaignsQuery>,
) -> Result<Response, PageError> {
    let (region, lines) = campaigns::progress(&state.db, &viewer.who, q.region.as_deref())
        .await
        .or_page(&viewer)?;
    let rows = lines
        .into_iter()
        .map(|p| CampaignRow {
            id: p.campaign.id,
            name: p.campaign.name,
            region: p.campaign.region.to_string(),
            starts_on: p.campaign.starts_on.to_string(),
            ends_on: p.campaign.ends_on.to_string(),
            under_way: p.under_way,
            targets: p.targets,
            visited: p.visited,
            visits: p.visits,
        })
        .collect();
    let page = CampaignsPage {
        chrome: viewer.chrome(viewer.t().campaigns_title),
        today: campaigns::today(&region).to_string(),
        region: region.to_string(),
        rows,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct CampaignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
}

pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<CampaignForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf, &headers)?;
    let new = NewCampaign {
        name: form.name,
        region: form.region,
        starts_on: form.starts_on,
        ends_on: form.ends_on,
    };
    campaigns::create(&state.db, &viewer.who, new)
        .await
        .or_page(&viewer)?;
    Ok(Redirect::to("/campaigns").into_response())
}
