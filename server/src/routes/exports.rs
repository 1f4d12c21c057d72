//! `GET /api/v1/exports/households`: a region's households as CSV, XLSX or GeoJSON, for the list
//! sent upward and for maps. NIK and KK numbers come masked unless `nik=full` is asked by a
//! supervisor whose role allows it (403 otherwise); every export goes to the audit log.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;
use verivali_core::model::{Labelled, Timestamp};

use crate::audit;
use crate::auth::SupervisorAuth;
use crate::error::{self, ApiError};
use crate::exports::{self, Format};
use crate::roles;
use crate::state::AppState;
use crate::supervision::{code_filter, region_in_scope, whole_numbers_asked};

pub fn router() -> Router<AppState> {
    Router::new().route("/exports/households", get(households))
}

#[derive(Debug, Deserialize)]
struct ExportQuery {
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    status: Option<String>,
    /// `csv` (default), `xlsx` or `geojson`.
    #[serde(default)]
    format: Option<String>,
    /// `full` for whole NIK and KK numbers; masked otherwise.
    #[serde(default)]
    nik: Option<String>,
}

async fn households(
    State(state): State<AppState>,
    who: SupervisorAuth,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Query(q) = query?;
    who.check_role(roles::EXPORT)?;
    let region = region_in_scope(&who, q.region.as_deref())?;
    let status = code_filter(q.status.as_deref())?;
    let format = Format::parse(q.format.as_deref().unwrap_or("csv"))
        .ok_or_else(|| ApiError::bad_request(error::BAD_FILTER))?;
    let whole_numbers = whole_numbers_asked(q.nik.as_deref())?;
    if whole_numbers {
        who.check_role(roles::WHOLE_NIK)?;
    }
    let asked = region.clone();
    let (count, bytes) = state
        .db
        .read(move |conn| {
            exports::write_region(conn, &asked, status, whole_numbers, format).map_err(
                |e| match e {
                    exports::ExportError::Db(e) => ApiError::from(e),
                    exports::ExportError::TooManyRows => {
                        ApiError::bad_request(error::EXPORT_TOO_MANY_ROWS)
                    }
                    other => ApiError::internal(other),
                },
            )
        })
        .await?;
    let actor = format!("supervisor:{}", who.user_id);
    let detail = format!(
        "{} rows, numbers {}, status {}",
        count,
        if whole_numbers { "whole" } else { "masked" },
        status.map_or("all", |s| s.code()),
    );
    let (action, target) = (format!("export:{}", format.extension()), region.to_string());
    state
        .db
        .write(move |tx| {
            audit::record_in(
                tx,
                Some(&target),
                &actor,
                &action,
                Some(&target),
                Some(&detail),
            )
        })
        .await?;
    let date = Timestamp::now_utc().0.date();
    let file = format!(
        "attachment; filename=\"verivali-keluarga-{region}-{date}.{}\"",
        format.extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, file),
        ],
        bytes,
    ))
}
