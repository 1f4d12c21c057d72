//! Completeness per enumerator and phone: when each phone last called, how many visits arrived,
//! and which of its numbered visits never did (finished on the phone, not on the server) or were
//! rejected. The same report as `GET /api/v1/reports/completeness`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::dashboard::RegionQuery;
use super::page::{Chrome, OrPage, PageError, Viewer, render};
use crate::reports::{self, local_time, utc_offset_hours};
use crate::state::AppState;
use crate::supervision::region_in_scope;

pub struct DeviceRow {
    pub enumerator: String,
    pub device: String,
    pub revoked: bool,
    pub last_sync: String,
    pub received: u64,
    pub highest_seq: u64,
    pub missing_count: u64,
    /// The first missing numbers, and "…" when there are more.
    pub missing: String,
    pub rejected_count: u64,
    pub rejected: String,
}

#[derive(Template)]
#[template(path = "completeness.html")]
struct CompletenessPage {
    chrome: Chrome,
    region: String,
    rows: Vec<DeviceRow>,
}

/// Numbers as a short list: the first ten, then how many more.
fn numbers(list: &[u64], count: u64) -> String {
    let shown: Vec<String> = list.iter().take(10).map(u64::to_string).collect();
    match count.saturating_sub(shown.len() as u64) {
        0 => shown.join(", "),
        more => format!("{} … (+{more})", shown.join(", ")),
    }
}

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<RegionQuery>,
) -> Result<Response, PageError> {
    let region = region_in_scope(&viewer.who, q.region()).or_page(&viewer)?;
    let offset = utc_offset_hours(&region);
    let report = reports::completeness_now(&state.db, region.clone())
        .await
        .or_page(&viewer)?;
    let rows = report
        .into_iter()
        .map(|d| DeviceRow {
            enumerator: d.enumerator_name,
            device: d.device_name,
            revoked: d.revoked,
            last_sync: d
                .last_sync_at
                .map(|t| local_time(t, offset))
                .unwrap_or_else(|| "–".to_owned()),
            received: d.received,
            highest_seq: d.highest_seq,
            missing: numbers(&d.missing, d.missing_count),
            missing_count: d.missing_count,
            rejected: numbers(&d.rejected, d.rejected_count),
            rejected_count: d.rejected_count,
        })
        .collect();
    let page = CompletenessPage {
        chrome: viewer.chrome(viewer.t().completeness_title),
        region: region.to_string(),
        rows,
    };
    Ok(render(StatusCode::OK, &page))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_long_list_of_numbers_is_cut_short() {
        assert_eq!(super::numbers(&[3, 4], 2), "3, 4");
        let many: Vec<u64> = (1..=100).collect();
        assert_eq!(
            super::numbers(&many, 250),
            "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 … (+240)"
        );
        assert_eq!(super::numbers(&[], 0), "");
    }
}
