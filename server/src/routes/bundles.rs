//! `POST /api/v1/bundles`: a supervisor imports a phone's bundle (DESIGN §7), the file as the
//! body. Only bundles of enumerators working inside the supervisor's region.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::routing::post;
use axum::{Json, Router};

use crate::attachments::Attachments;
use crate::auth::SupervisorAuth;
use crate::bundles::{self, ImportReport};
use crate::error::ApiError;
use crate::roles;
use crate::state::AppState;

/// A bundle is larger than a push: days of visits and their photos.
pub const MAX_BUNDLE_BYTES: usize = 256 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    let import = post(import).layer(DefaultBodyLimit::max(MAX_BUNDLE_BYTES));
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
    let db = state.db.clone();
    let attachments = Attachments::new(&state.config.data_dir);
    let report = tokio::task::spawn_blocking(move || {
        let (device, bundle) = bundles::open(&db, &file, |device| {
            device
                .areas
                .iter()
                .chain(&device.former_areas)
                .try_for_each(|area| supervisor.check(&area.region))
        })?;
        let actor = format!("supervisor:{}", supervisor.user_id);
        bundles::import(&db, &attachments, &device, bundle, &actor)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(report))
}
