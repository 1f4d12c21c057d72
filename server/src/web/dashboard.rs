//! The dashboard: a region's progress per child region with drill-down (kabupaten → kecamatan →
//! desa → RW), today's and this week's visits, and the queues. Its figures are those of
//! `GET /api/v1/reports/overview` (`reports::overview_now`).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use serde::Deserialize;
use verivali_core::model::{RegionCode, RegionLevel};

use super::assets;
use super::page::{Chrome, OrPage, PageError, Viewer, render};
use crate::reports::{self, Overview, Place, ProgressRow};
use crate::state::AppState;
use crate::supervision::region_in_scope;

pub async fn home() -> Redirect {
    Redirect::to("/dashboard")
}

#[derive(Debug, Deserialize)]
pub struct RegionQuery {
    #[serde(default)]
    region: Option<String>,
    /// On the dashboard: one RW of a village, whose rows are its RTs.
    #[serde(default)]
    rw: Option<String>,
}

impl RegionQuery {
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    pub fn rw(&self) -> Option<&str> {
        self.rw.as_deref()
    }
}

/// A row of the progress table, ready to show.
pub struct Row {
    pub label: String,
    /// Where a click drills down: the child region's dashboard.
    pub link: Option<String>,
    pub line: ProgressRow,
    pub percent: String,
}

/// A region above the one shown, for the trail back up.
pub struct Crumb {
    pub code: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    /// This dashboard's query (region, and RW), for its own refresh.
    query: String,
    /// Whether the viewer's role may export whole NIKs.
    may_see_nik: bool,
    region: String,
    region_name: String,
    crumbs: Vec<Crumb>,
    overview: Overview,
    rows: Vec<Row>,
    total: Row,
    time_zone: &'static str,
    map: MapSetup,
    /// The server's free disk in MiB, when it is nearly full.
    disk_low_mib: Option<u64>,
}

/// What the map's script needs, as the page's data attributes.
pub struct MapSetup {
    pub leaflet_js: String,
    pub leaflet_css: String,
    pub pmtiles_js: Option<String>,
    pub script: String,
    pub tiles: String,
    pub pmtiles: String,
    pub attribution: String,
    /// The script's words in the viewer's language, as JSON.
    pub text: String,
}

fn map_setup(state: &AppState, viewer: &Viewer) -> MapSetup {
    let config = &state.config;
    let t = viewer.t();
    MapSetup {
        leaflet_js: assets::url("leaflet-1.9.4.js"),
        leaflet_css: assets::url("leaflet-1.9.4.css"),
        pmtiles_js: config
            .basemap_pmtiles
            .is_some()
            .then(|| assets::url("pmtiles-4.5.0.js")),
        script: assets::url("map.js"),
        tiles: config.basemap_tiles.clone().unwrap_or_default(),
        pmtiles: if config.basemap_pmtiles.is_some() {
            BASEMAP_PATH.to_owned()
        } else {
            String::new()
        },
        attribution: config.basemap_attribution.clone(),
        text: serde_json::json!({
            "visits": t.map_visits,
            "flagged": t.map_flagged,
            "visited": t.visited,
        })
        .to_string(),
    }
}

/// Where the configured PMTiles basemap is served.
pub const BASEMAP_PATH: &str = "/basemap.pmtiles";

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<RegionQuery>,
) -> Result<Response, PageError> {
    let region = region_in_scope(&viewer.who, q.region()).or_page(&viewer)?;
    let place = Place::parse(region.clone(), q.rw()).or_page(&viewer)?;
    let rw = place.rw.clone();
    let overview = reports::overview_now(&state.db, place)
        .await
        .or_page(&viewer)?;
    let mut names = region_names(&state, &viewer, &region).await?;
    // kabupaten → kecamatan → desa → RW → RT: a row links one level down, an RT's does not.
    let link = |key: &str| match (region.level(), &rw) {
        (RegionLevel::Village, None) => key
            .strip_prefix("RW ")
            .map(|r| format!("/dashboard?region={region}&rw={r}")),
        (RegionLevel::Village, Some(_)) => None,
        _ => Some(format!("/dashboard?region={key}")),
    };
    let rows = overview
        .progress
        .rows
        .iter()
        .map(|line| Row {
            label: line
                .name
                .clone()
                .map_or_else(|| line.key.clone(), |n| format!("{n} ({})", line.key)),
            link: link(&line.key),
            percent: percent(line),
            line: line.clone(),
        })
        .collect();
    let total = Row {
        label: viewer.t().total.to_owned(),
        link: None,
        percent: percent(&overview.progress.total),
        line: overview.progress.total.clone(),
    };
    let mut region_name = overview
        .progress
        .total
        .name
        .clone()
        .unwrap_or_else(|| region.to_string());
    let mut query = format!("region={region}");
    if let Some(rw) = &rw {
        names.push(Crumb {
            code: region.to_string(),
            name: region_name.clone(),
        });
        region_name = format!("{region_name} · RW {rw}");
        query.push_str(&format!("&rw={rw}"));
    }
    let page = DashboardPage {
        chrome: viewer.chrome(&region_name),
        query,
        may_see_nik: viewer.who.may(crate::roles::WHOLE_NIK),
        region: region.to_string(),
        region_name,
        crumbs: names,
        time_zone: reports::zone_name(overview.utc_offset_hours),
        overview,
        rows,
        total,
        map: map_setup(&state, &viewer),
        disk_low_mib: crate::disk::low(&state.config.data_dir, state.config.disk_warn_mib)
            .map(|free| free >> 20),
    };
    Ok(render(StatusCode::OK, &page))
}

/// The share of targets visited, to one decimal.
pub fn percent(row: &ProgressRow) -> String {
    if row.targets == 0 {
        return "–".to_owned();
    }
    format!("{:.1}", row.visited as f64 * 100.0 / row.targets as f64)
}

/// The regions between the supervisor's scope and the one shown, with their names.
async fn region_names(
    state: &AppState,
    viewer: &Viewer,
    region: &RegionCode,
) -> Result<Vec<Crumb>, PageError> {
    let levels = [
        RegionLevel::Province,
        RegionLevel::Regency,
        RegionLevel::District,
    ];
    let above: Vec<RegionCode> = levels
        .iter()
        .filter_map(|l| region.ancestor(*l))
        .filter(|a| a != region && viewer.who.scope.contains(a))
        .collect();
    state
        .db
        .read(move |conn| reports::region_names(conn, &above))
        .await
        .map_err(crate::error::ApiError::from)
        .or_page(viewer)
        .map(|names| {
            names
                .into_iter()
                .map(|(code, name)| Crumb { code, name })
                .collect()
        })
}
