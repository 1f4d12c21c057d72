//! The printable recap (rekapitulasi) of a region for the level above it: desa → kecamatan →
//! kabupaten → provinsi → pusat. One page: the totals, a row per child region (or RW, or RT),
//! and a signature block, styled for paper (`@media print` in verivali.css). Its figures are the
//! dashboard's (`reports::overview_now`).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use verivali_core::model::{RegionCode, RegionLevel, Timestamp};

use super::assets;
use super::dashboard::{RegionQuery, percent};
use super::page::{Chrome, OrPage, PageError, Viewer, render};
use crate::error::ApiError;
use crate::reports::{self, Place, ProgressRow, local_time};
use crate::state::AppState;
use crate::supervision::region_in_scope;

pub struct RecapRow {
    pub label: String,
    pub line: ProgressRow,
    pub percent: String,
    pub not_found: u64,
    pub not_assessed: u64,
}

fn recap_row(label: String, line: &ProgressRow) -> RecapRow {
    let assessed = line.extreme_poor + line.poor + line.vulnerable + line.not_poor;
    RecapRow {
        label,
        percent: percent(line),
        not_found: line.visited.saturating_sub(line.found),
        not_assessed: line.found.saturating_sub(assessed),
        line: line.clone(),
    }
}

#[derive(Template)]
#[template(path = "recap.html")]
struct RecapPage {
    chrome: Chrome,
    print_js: String,
    /// "Desa Sukamaju, Kecamatan …, Kabupaten …": the region and those above it.
    lineage: String,
    region_name: String,
    /// Whom the recap goes to, and who signs it.
    addressee: &'static str,
    signatory: &'static str,
    made_at: String,
    rows: Vec<RecapRow>,
    total: RecapRow,
}

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
    let lineage_codes: Vec<RegionCode> = [
        RegionLevel::Village,
        RegionLevel::District,
        RegionLevel::Regency,
        RegionLevel::Province,
    ]
    .iter()
    .filter_map(|l| region.ancestor(*l))
    .collect();
    let names = state
        .db
        .read(move |conn| reports::region_names(conn, &lineage_codes).map_err(ApiError::from))
        .await
        .or_page(&viewer)?;
    let mut lineage: Vec<String> = names.into_iter().map(|(_, name)| name).collect();
    if let Some(rw) = &rw {
        lineage.insert(0, format!("RW {rw}"));
    }
    let t = viewer.t();
    // An RW's recap goes to its village's level above too: the desa signs it.
    let (addressee, signatory) = match region.level() {
        RegionLevel::Village => (t.recap_to_district, t.recap_signed_village),
        RegionLevel::District => (t.recap_to_regency, t.recap_signed_district),
        RegionLevel::Regency => (t.recap_to_province, t.recap_signed_regency),
        RegionLevel::Province => (t.recap_to_nation, t.recap_signed_province),
    };
    let rows = overview
        .progress
        .rows
        .iter()
        .map(|line| {
            let label = line
                .name
                .clone()
                .map_or_else(|| line.key.clone(), |n| format!("{n} ({})", line.key));
            recap_row(label, line)
        })
        .collect();
    let page = RecapPage {
        chrome: viewer.chrome(t.recap_title),
        print_js: assets::url("print.js"),
        region_name: lineage.first().cloned().unwrap_or_default(),
        lineage: lineage.join(", "),
        addressee,
        signatory,
        made_at: local_time(Timestamp::now_utc(), overview.utc_offset_hours),
        total: recap_row(t.total.to_owned(), &overview.progress.total),
        rows,
    };
    Ok(render(StatusCode::OK, &page))
}
