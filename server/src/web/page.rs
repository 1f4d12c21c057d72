//! What every page shares: who is viewing (signed in by the session cookie, in which language,
//! with which CSRF token), the frame around the page, rendering, and errors shown as pages.

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::catalogue::{self, Lang, Texts};
use super::{assets, csrf};
use crate::auth::SupervisorAuth;
use crate::error::ApiError;
use crate::roles;
use crate::sessions;
use crate::state::AppState;

/// The language a request's cookie chose; Indonesian without one.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    sessions::cookie_value(headers, catalogue::COOKIE)
        .and_then(Lang::from_code)
        .unwrap_or_default()
}

/// A signed-in supervisor looking at a page.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub who: SupervisorAuth,
    pub lang: Lang,
    /// The token this session's forms carry.
    pub csrf: String,
    /// The path and query of the page, for the language switch to come back to.
    pub here: String,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let lang = lang_of(&parts.headers);
        let Some(token) = sessions::token_in(&parts.headers) else {
            return Err(PageError::SignIn);
        };
        let csrf = csrf::token(token);
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        match SupervisorAuth::from_request_parts(parts, state).await {
            Ok(who) => Ok(Self {
                who,
                lang,
                csrf,
                here,
            }),
            Err(e) if e.status == StatusCode::UNAUTHORIZED => Err(PageError::SignIn),
            Err(e) => Err(PageError::Api(e, lang)),
        }
    }
}

impl Viewer {
    pub fn t(&self) -> &'static Texts {
        self.lang.texts()
    }

    /// The frame of a page this viewer sees.
    pub fn chrome(&self, title: &str) -> Chrome {
        Chrome {
            t: self.t(),
            lang: self.lang,
            title: title.to_owned(),
            user: Some(self.who.name.clone()),
            role: self.lang.label(self.who.role),
            may_decide: self.who.may(roles::DECIDE),
            may_export: self.who.may(roles::EXPORT),
            may_audit: self.who.may(roles::AUDIT),
            may_manage: self.who.may(roles::MANAGE),
            may_import: self.who.may(roles::IMPORT),
            csrf: self.csrf.clone(),
            here: self.here.clone(),
            other_code: self.lang.other().code(),
            other_language: self.lang.other().texts().language_name,
            css: assets::url("verivali.css"),
            htmx: assets::url("htmx-2.0.11.min.js"),
        }
    }

    /// The token part of a multipart form (a file upload), checked as [`Viewer::check_csrf`]
    /// does. Upload forms send it first, so that no file is read before it is checked.
    pub async fn check_csrf_part(
        &self,
        field: axum::extract::multipart::Field<'_>,
        headers: &HeaderMap,
    ) -> Result<(), PageError> {
        let sent = field.text().await.map_err(unreadable_part).or_page(self)?;
        self.check_csrf(&sent, headers)
    }

    /// A form post's token, checked: 403 when it is not this session's.
    pub fn check_csrf(&self, sent: &str, headers: &HeaderMap) -> Result<(), PageError> {
        if csrf::same_origin(headers) && !sent.is_empty() && sent == self.csrf {
            Ok(())
        } else {
            Err(PageError::Api(ApiError::forbidden(), self.lang))
        }
    }
}

/// A part of a multipart form that cannot be read: 400.
pub fn unreadable_part(_: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::bad_request(crate::error::MALFORMED)
}

/// The frame around every page: header, navigation, language switch, sign-out form.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub t: &'static Texts,
    pub lang: Lang,
    pub title: String,
    /// The signed-in supervisor's name; none on the sign-in page.
    pub user: Option<String>,
    /// Their role's label, shown beside the name.
    pub role: &'static str,
    /// Their role lets them decide: pages show decision forms only then (the server refuses
    /// a decision of any other role all the same).
    pub may_decide: bool,
    /// Their role lets them download the region's households.
    pub may_export: bool,
    /// Their role lets them read the audit log.
    pub may_audit: bool,
    /// Their role lets them manage enumerators, areas and phones.
    pub may_manage: bool,
    /// Their role lets them import target lists and bundles.
    pub may_import: bool,
    pub csrf: String,
    /// The page to come back to after switching language.
    pub here: String,
    pub other_code: &'static str,
    pub other_language: &'static str,
    pub css: String,
    pub htmx: String,
}

impl Chrome {
    /// The frame of a page shown before signing in.
    pub fn anonymous(lang: Lang, title: &str, back: &str) -> Self {
        Self {
            t: lang.texts(),
            lang,
            title: title.to_owned(),
            user: None,
            role: "",
            may_decide: false,
            may_export: false,
            may_audit: false,
            may_import: false,
            may_manage: false,
            csrf: String::new(),
            here: back.to_owned(),
            other_code: lang.other().code(),
            other_language: lang.other().texts().language_name,
            css: assets::url("verivali.css"),
            htmx: assets::url("htmx-2.0.11.min.js"),
        }
    }
}

/// Renders a page with the headers every page has: personal data is never cached, and the page
/// runs only the server's own scripts.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = (status, axum::response::Html(html)).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                     frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
                ),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            );
            response
        }
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// A page that cannot be shown: sign in first, or an API error shown as a page in the viewer's
/// language (its stable code beside the message).
#[derive(Debug)]
pub enum PageError {
    SignIn,
    Api(ApiError, Lang),
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    code: String,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn => Redirect::to("/signin").into_response(),
            Self::Api(error, lang) => {
                let t = lang.texts();
                let page = ErrorPage {
                    chrome: Chrome::anonymous(lang, t.error_title, "/"),
                    message: lang
                        .message(&error.body.message_id, &error.body.message_en)
                        .to_owned(),
                    code: error.body.code,
                };
                let mut response = render(error.status, &page);
                if let Some(denied) = error.denied {
                    response.extensions_mut().insert(*denied);
                }
                response
            }
        }
    }
}

/// An API error met while making a page, shown in the viewer's language.
pub trait OrPage<T> {
    fn or_page(self, viewer: &Viewer) -> Result<T, PageError>;
}

impl<T> OrPage<T> for Result<T, ApiError> {
    fn or_page(self, viewer: &Viewer) -> Result<T, PageError> {
        self.map_err(|e| PageError::Api(e, viewer.lang))
    }
}

/// A path of this server to go back to (never a redirect elsewhere).
pub fn local_path(back: Option<String>) -> Option<String> {
    back.filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\'))
}
