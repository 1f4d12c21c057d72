//! The HTTP API, one router per resource, merged under `/api/v1`.

mod attachments;
mod bundles;
mod devices;
mod exports;
mod health;
mod openapi;
mod session;
mod supervision;
mod sync;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(crate::web::router())
        .nest(
            "/api/v1",
            Router::new()
                .merge(attachments::router())
                .merge(bundles::router())
                .merge(devices::router())
                .merge(exports::router())
                .merge(openapi::router())
                .merge(session::router())
                .merge(sync::router())
                .merge(supervision::router()),
        )
        .fallback(crate::error::not_found)
}
