//! A phone's bundle imported from the browser (issue 14, item 2): the file a phone exported
//! without a signal, uploaded by an admin; the page lists what was stored, already held and
//! rejected, and the photos. The same import as `POST /api/v1/bundles` ([`crate::bundles`]).

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::page::{Chrome, OrPage, PageError, Viewer, render, unreadable_part};
use crate::bundles::{self, ImportReport};
use crate::error::{self, ApiError};
use crate::roles;
use crate::state::AppState;

pub struct RejectedRow {
    pub visit: String,
    pub code: String,
    pub field: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "bundles.html")]
struct BundlesPage {
    chrome: Chrome,
    report: Option<ImportReport>,
    rejected: Vec<RejectedRow>,
}

pub async fn page(viewer: Viewer) -> Result<Response, PageError> {
    viewer.who.check_role(roles::IMPORT).or_page(&viewer)?;
    let page = BundlesPage {
        chrome: viewer.chrome(viewer.t().bundles_title),
        report: None,
        rejected: Vec::new(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// Imports the uploaded bundle and shows its report. The file is read whole (its signature
/// covers all of it), at the import's turn, as the API's import does.
pub async fn upload(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    mut form: Multipart,
) -> Result<Response, PageError> {
    let mut csrf_checked = false;
    let mut file = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(unreadable_part)
        .or_page(&viewer)?
    {
        match field.name() {
            Some("csrf") => {
                viewer.check_csrf_part(field, &headers).await?;
                csrf_checked = true;
            }
            Some("bundle") if csrf_checked => {
                let _turn = state
                    .bundle_imports
                    .acquire()
                    .await
                    .map_err(ApiError::internal)
                    .or_page(&viewer)?;
                let bytes = field
                    .bytes()
                    .await
                    .map_err(unreadable_part)
                    .or_page(&viewer)?;
                file = Some(
                    bundles::import_by(&state.db, &state.config.data_dir, &viewer.who, bytes)
                        .await
                        .or_page(&viewer)?,
                );
            }
            Some("bundle") => return Err(PageError::Api(ApiError::forbidden(), viewer.lang)),
            _ => {}
        }
    }
    let report = file
        .ok_or_else(|| ApiError::bad_request(error::MALFORMED))
        .or_page(&viewer)?;
    let rejected = report
        .rejected
        .iter()
        .flat_map(|r| {
            let visit = r.visit_id.map(|v| v.to_string()).unwrap_or_default();
            r.issues.iter().map(move |i| RejectedRow {
                visit: visit.clone(),
                code: i.code.clone(),
                field: i.field.clone(),
                message: viewer.lang.message(&i.message_id, &i.message_en).to_owned(),
            })
        })
        .collect();
    let page = BundlesPage {
        chrome: viewer.chrome(viewer.t().bundles_title),
        report: Some(report),
        rejected,
    };
    Ok(render(StatusCode::OK, &page))
}
