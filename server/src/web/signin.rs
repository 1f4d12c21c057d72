//! Signing in and out, and choosing the language. The form posts to the same sign-in function as
//! `POST /api/v1/session`, with its rate limit and audit.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::catalogue::{self, Lang};
use super::csrf;
use super::page::{Chrome, PageError, Viewer, lang_of, local_path, render};
use crate::client_addr::ClientAddr;
use crate::sessions;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    chrome: Chrome,
    login: String,
    problem: Option<&'static str>,
}

pub async fn form(headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let page = SignInPage {
        chrome: Chrome::anonymous(lang, lang.texts().sign_in_title, "/signin"),
        login: String::new(),
        problem: None,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct SignInForm {
    login: String,
    password: String,
}

pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    let lang = lang_of(&headers);
    if !csrf::same_origin(&headers) {
        return Err(PageError::Api(crate::error::ApiError::forbidden(), lang));
    }
    let login = form.login.clone();
    match sessions::sign_in(
        &state.db,
        &state.sign_in_limits,
        client,
        form.login,
        form.password,
    )
    .await
    {
        Ok(session) => Ok((
            [(header::SET_COOKIE, sessions::cookie(&session.token))],
            Redirect::to("/dashboard"),
        )
            .into_response()),
        Err(e)
            if matches!(
                e.status,
                StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS
            ) =>
        {
            let t = lang.texts();
            let problem = if e.status == StatusCode::UNAUTHORIZED {
                t.bad_login
            } else {
                t.too_many_attempts
            };
            let page = SignInPage {
                chrome: Chrome::anonymous(lang, t.sign_in_title, "/signin"),
                login,
                problem: Some(problem),
            };
            Ok(render(e.status, &page))
        }
        Err(e) => Err(PageError::Api(e, lang)),
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub async fn sign_out(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf, &headers)?;
    if let Some(token) = sessions::token_in(&headers).map(str::to_owned) {
        state
            .db
            .write(move |tx| sessions::end(tx, &token).map_err(crate::error::ApiError::from))
            .await
            .map_err(|e| PageError::Api(e, viewer.lang))?;
    }
    Ok((
        [(header::SET_COOKIE, sessions::removed_cookie())],
        Redirect::to("/signin"),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct Back {
    #[serde(default)]
    back: Option<String>,
}

/// Keeps the language in a cookie for a year and goes back to the page (only a path of this
/// server: never a redirect elsewhere).
pub async fn language(Path(code): Path<String>, Query(q): Query<Back>) -> Response {
    let lang = Lang::from_code(&code).unwrap_or_default();
    let back = local_path(q.back).unwrap_or_else(|| "/".to_owned());
    (
        [(
            header::SET_COOKIE,
            format!(
                "{}={}; Path=/; SameSite=Lax; Max-Age=31536000",
                catalogue::COOKIE,
                lang.code()
            ),
        )],
        Redirect::to(&back),
    )
        .into_response()
}
