//! The data team's page of supervisors (issue 14, item 4): who may read, decide, see whole NIKs
//! or manage, in which region; add one with a first password, change a role, reset a password.
//! Each form calls one function of [`crate::people`].

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use verivali_core::model::{Labelled, UserId};

use super::page::{Chrome, OrPage, PageError, Viewer, render};
use crate::error::{self, ApiError};
use crate::people::{self, NewPerson};
use crate::roles::Role;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct PeopleQuery {
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    saved: Option<u8>,
}

pub struct PersonRow {
    pub id: String,
    pub name: String,
    pub login: String,
    pub region: String,
    pub role: &'static str,
    pub role_label: &'static str,
    pub is_me: bool,
}

#[derive(Template)]
#[template(path = "people.html")]
struct PeoplePage {
    chrome: Chrome,
    region: String,
    saved: bool,
    roles: Vec<(&'static str, &'static str)>,
    people: Vec<PersonRow>,
}

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<PeopleQuery>,
) -> Result<Response, PageError> {
    let (region, people) = people::people(&state.db, &viewer.who, q.region.as_deref())
        .await
        .or_page(&viewer)?;
    let me = viewer.who.user_id.to_string();
    let people = people
        .into_iter()
        .map(|p| PersonRow {
            is_me: p.id == me,
            id: p.id,
            name: p.name,
            login: p.login.unwrap_or_default(),
            region: p.region,
            role: p.role.code(),
            role_label: viewer.lang.label(p.role),
        })
        .collect();
    let roles = [Role::Viewer, Role::Reviewer, Role::DataOfficer, Role::Admin]
        .into_iter()
        .map(|r| (r.code(), viewer.lang.label(r)))
        .collect();
    let page = PeoplePage {
        chrome: viewer.chrome(viewer.t().people_title),
        region: region.to_string(),
        saved: q.saved.is_some(),
        roles,
        people,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct PersonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

pub async fn add(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<PersonForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf, &headers)?;
    let new = NewPerson {
        name: form.name,
        login: form.login,
        region: form.region,
        role: form.role,
        password: form.password,
    };
    people::add(&state.db, &viewer.who, new)
        .await
        .or_page(&viewer)?;
    Ok(saved())
}

pub async fn set_role(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<PersonForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf, &headers)?;
    let id = person(&id).or_page(&viewer)?;
    people::set_role(&state.db, &viewer.who, id, &form.role)
        .await
        .or_page(&viewer)?;
    Ok(saved())
}

pub async fn reset_password(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<PersonForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf, &headers)?;
    let id = person(&id).or_page(&viewer)?;
    people::reset_password(&state.db, &viewer.who, id, form.password)
        .await
        .or_page(&viewer)?;
    Ok(saved())
}

fn person(id: &str) -> Result<UserId, ApiError> {
    UserId::parse(id).map_err(|_| ApiError::bad_request(error::MALFORMED))
}

fn saved() -> Response {
    Redirect::to("/people?saved=1").into_response()
}
