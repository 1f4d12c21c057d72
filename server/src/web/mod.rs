//! The supervisors' pages (DESIGN §2, "review UI"): HTML rendered by the server from askama
//! templates (`server/templates`), checked when the server compiles, with htmx for partial
//! updates and every asset served by the binary (`assets`). Reading works with JavaScript off:
//! filters are GET forms, decisions are POST forms answered with a redirect.
//!
//! A page extracts, calls the same function as its API call (`supervision`, `review`,
//! `reports`, `sessions`) and renders, so region scope, masking and the audit log are those of
//! the API. Every form post carries the session's CSRF token (`csrf`).

pub mod assets;
mod audit;
mod bundles;
mod campaigns;
pub mod catalogue;
mod compare;
mod completeness;
mod csrf;
mod dashboard;
mod duplicates;
mod households;
mod imports;
mod minimap;
mod page;
mod people;
mod queues;
mod recap;
mod removals;
mod signin;
mod team;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;
pub use dashboard::BASEMAP_PATH;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::home))
        .route("/signin", get(signin::form).post(signin::submit))
        .route("/signout", post(signin::sign_out))
        .route("/language/{lang}", get(signin::language))
        .route("/dashboard", get(dashboard::page))
        .route("/households", get(households::list))
        .route("/households/search", post(households::search))
        .route("/households/{household_id}", get(households::detail))
        .route(
            "/households/{household_id}/decisions",
            post(households::decide),
        )
        .route("/queues/conflicts", get(queues::conflicts))
        .route("/queues/duplicates", get(queues::duplicates))
        .route("/queues/duplicates/{a}/{b}", get(duplicates::pair))
        .route("/queues/visits", get(queues::visits))
        .route("/queues/visits/approve", post(queues::approve_selected))
        .route("/queues/proposals", get(queues::proposals))
        .route("/queues/removals", get(removals::page))
        .route("/queues/removals/{household_id}", post(removals::decide))
        .route("/completeness", get(completeness::page))
        .route("/campaigns", get(campaigns::page).post(campaigns::create))
        .route("/recap", get(recap::page))
        .route("/audit", get(audit::page))
        .route("/audit.csv", get(audit::download))
        .route("/people", get(people::page).post(people::add))
        .route("/people/{id}/role", post(people::set_role))
        .route("/people/{id}/password", post(people::reset_password))
        .route("/team", get(team::page))
        .route("/team/enumerators", post(team::add_enumerator))
        .route("/team/enumerators/{id}/areas", post(team::change_area))
        .route("/team/enumerators/{id}/code", post(team::enrollment_code))
        .route("/team/areas/move", post(team::move_area))
        .route("/team/codes", post(team::enrollment_sheet))
        .route("/team/devices/{id}/revoke", post(team::revoke_device))
        .route(
            "/imports",
            get(imports::page)
                .post(imports::upload)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::import::jobs::MAX_LIST_BYTES,
                )),
        )
        .route("/imports/{id}", get(imports::import))
        .route(
            "/imports/{id}/columns",
            get(imports::columns).post(imports::start),
        )
        .route("/imports/{id}/progress", get(imports::progress))
        .route("/imports/{id}/report.xlsx", get(imports::workbook))
        .route(
            "/bundles",
            get(bundles::page)
                .post(bundles::upload)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::bundles::MAX_BUNDLE_BYTES,
                )),
        )
        .route("/assets/{name}", get(assets::serve))
}
