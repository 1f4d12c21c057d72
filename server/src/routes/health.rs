use axum::Router;
use axum::extract::State;
use axum::routing::get;

use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

/// Answers `ok` when the database answers.
async fn healthz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state
        .db
        .read(|c| Ok::<_, ApiError>(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
        .await?;
    Ok("ok")
}
