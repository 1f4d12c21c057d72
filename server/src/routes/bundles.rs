//! `POST /api/v1/bundles`: a supervisor imports a phone's bundle (DESIGN §7), the file as the
//! body. Only bundles of enumerators working inside the supervisor's region.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::routing::post;
use axum::{Json, Router};

use crate::auth::SupervisorAuth;
use crate::bundles::{self, ImportReport};
use crate::error::ApiError;
use crate::roles;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    let import = post(import).layer(DefaultBodyLimit::max(bundles::MAX_BUNDLE_BYTES));
    Router::new().route("/bundles", import)
}

async fn import(
    State(state): State<AppState>,
    supervisor: SupervisorAuth,
    request: Request,
) -> Result<Json<ImportReport>, ApiError> {
    supervisor.check_role(roles::IMPORT)?;
    // The body is read only at the import's turn, so that bundles sent at once wait unread
    // instead of each taking its size in memory.
    let _turn = state
        .bundle_imports
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    let file = Bytes::from_request(request, &state).await?;
    let report = bundles::import_by(&state.db, &state.config.data_dir, &supervisor, file).await?;
    Ok(Json(report))
}
