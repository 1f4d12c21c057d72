//! The data team's page of enumerators, their areas and phones (issue 14, item 3), and the
//! enrollment code with its QR code. Each form calls one function of [`crate::team`], which
//! checks the role and the region; the page then shows the list again.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use verivali_core::model::{DeviceId, EnumeratorId};

use super::page::{Chrome, OrPage, PageError, Viewer, render};
use crate::error::{self, ApiError};
use crate::reports::{local_time, utc_offset_hours};
use crate::state::AppState;
use crate::team::{self, DeviceLine, EnumeratorLine, Kecamatan};

#[derive(Deserialize)]
pub struct TeamQuery {
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    saved: Option<u8>,
    /// Narrows the area picker's villages by code or name.
    #[serde(default)]
    find: String,
}

pub struct DeviceRow {
    pub id: String,
    pub name: String,
    pub enrolled: String,
    pub last_seen: String,
    pub revoked: bool,
    /// The app's version and what the phone held unsent at its last sync.
    pub app: String,
    pub unsent: String,
    /// The phone holds finished visits or photos it has not sent.
    pub holds_work: bool,
}

pub struct EnumeratorRow {
    pub id: String,
    pub name: String,
    pub areas: Vec<String>,
    pub devices: Vec<DeviceRow>,
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    chrome: Chrome,
    region: String,
    saved: bool,
    find: String,
    tree: Vec<Kecamatan>,
    enumerators: Vec<EnumeratorRow>,
}

#[derive(Template)]
#[template(path = "enrollment_code.html")]
struct CodePage {
    chrome: Chrome,
    name: String,
    code: String,
    valid_until: String,
    payload: String,
    qr_svg: String,
}

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<TeamQuery>,
) -> Result<Response, PageError> {
    let team = team::team(&state.db, &viewer.who, q.region.as_deref(), &q.find)
        .await
        .or_page(&viewer)?;
    let offset = utc_offset_hours(&team.region);
    let t = viewer.t();
    let device = |d: DeviceLine| DeviceRow {
        id: d.id,
        name: d.name,
        enrolled: local_time(d.enrolled_at, offset),
        last_seen: d
            .last_seen_at
            .map_or_else(|| t.team_never.to_owned(), |at| local_time(at, offset)),
        revoked: d.revoked,
        app: d
            .report
            .as_ref()
            .map_or_else(String::new, |r| r.app_version.clone()),
        unsent: d.report.as_ref().map_or_else(String::new, |r| {
            format!(
                "{} {} · {} {} · {} {} ({})",
                r.unsent_visits,
                t.team_unsent_visits,
                r.unsent_photos,
                t.team_unsent_photos,
                r.drafts,
                t.team_drafts,
                local_time(r.at, offset)
            )
        }),
        holds_work: d
            .report
            .as_ref()
            .is_some_and(|r| r.unsent_visits > 0 || r.unsent_photos > 0),
    };
    let enumerators = team
        .enumerators
        .into_iter()
        .map(|e: EnumeratorLine| EnumeratorRow {
            id: e.id,
            name: e.name,
            areas: e.areas,
            devices: e.devices.into_iter().map(device).collect(),
        })
        .collect();
    let page = TeamPage {
        chrome: viewer.chrome(t.team_title),
        region: team.region.to_string(),
        saved: q.saved.is_some(),
        find: q.find,
        tree: team.tree,
        enumerators,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct TeamForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    area: String,
    /// Picked from the tree: a village, and optionally its RW and RT (instead of `area`).
    #[serde(default)]
    village: String,
    #[serde(default)]
    rw: String,
    #[serde(default)]
    rt: String,
    /// Present when the area is taken away rather than given.
    #[serde(default)]
    remove: Option<String>,
    /// A move's enumerators.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

pub async fn add_enumerator(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<TeamForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf, &headers)?;
    team::add_enumerator(&state.db, &viewer.who, &form.name, &form.area())
        .await
        .or_page(&viewer)?;
    Ok(saved())
}

/// Gives an area, or takes it away when the form's `remove` button was pressed.
pub async fn change_area(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<TeamForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf, &headers)?;
    let id = enumerator(&id).or_page(&viewer)?;
    let area = form.area();
    let changed = if form.remove.is_some() {
        team::remove_area(&state.db, &viewer.who, id, &area).await
    } else {
        team::add_area(&state.db, &viewer.who, id, &area).await
    };
    changed.or_page(&viewer)?;
    Ok(saved())
}

pub async fn move_area(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<TeamForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf, &headers)?;
    let (from, to) = (
        enumerator(&form.from).or_page(&viewer)?,
        enumerator(&form.to).or_page(&viewer)?,
    );
    team::move_area(&state.db, &viewer.who, from, to, &form.area)
        .await
        .or_page(&viewer)?;
    Ok(saved())
}

/// Issues a code and shows it once, with its QR code: the page is not kept anywhere.
pub async fn enrollment_code(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<TeamForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf, &headers)?;
    let id = enumerator(&id).or_page(&viewer)?;
    let (code, until) = team::enrollment_code(&state.db, &viewer.who, id)
        .await
        .or_page(&viewer)?;
    let payload = team::enrollment_payload(&server_address(&headers), &code);
    let qr_svg = team::qr_svg(&payload).or_page(&viewer)?;
    let name = form.name;
    let page = CodePage {
        chrome: viewer.chrome(viewer.t().code_title),
        name,
        code,
        valid_until: local_time(until, utc_offset_hours(&viewer.who.scope)),
        payload,
        qr_svg,
    };
    Ok(render(StatusCode::OK, &page))
}

pub struct SheetCard {
    pub name: String,
    pub areas: String,
    pub code: String,
    pub payload: String,
    pub qr_svg: String,
}

#[derive(Template)]
#[template(path = "enrollment_sheet.html")]
struct SheetPage {
    chrome: Chrome,
    valid_until: String,
    cards: Vec<SheetCard>,
    print_js: String,
}

/// The printable sheet of codes for a training day: one card with a QR code for each enumerator
/// of the region without a phone yet. Like a single code, it is shown once.
pub async fn enrollment_sheet(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<TeamForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf, &headers)?;
    let (cards, until) = team::enrollment_sheet(&state.db, &viewer.who)
        .await
        .or_page(&viewer)?;
    let server = server_address(&headers);
    let cards = cards
        .into_iter()
        .map(|c| {
            let payload = team::enrollment_payload(&server, &c.code);
            let qr_svg = team::qr_svg(&payload)?;
            Ok(SheetCard {
                name: c.name,
                areas: c.areas.join(", "),
                code: c.code,
                payload,
                qr_svg,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()
        .or_page(&viewer)?;
    let page = SheetPage {
        chrome: viewer.chrome(viewer.t().sheet_title),
        valid_until: local_time(until, utc_offset_hours(&viewer.who.scope)),
        cards,
        print_js: super::assets::url("print.js"),
    };
    Ok(render(StatusCode::OK, &page))
}

/// The address the admin reached the server at is the one the phones will reach too (a
/// district's server behind a proxy that rewrites the host is for the TLS issue to configure).
fn server_address(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

pub async fn revoke_device(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<TeamForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf, &headers)?;
    let id = DeviceId::parse(&id)
        .map_err(|_| ApiError::bad_request(error::MALFORMED))
        .or_page(&viewer)?;
    team::revoke_device(&state.db, &viewer.who, id)
        .await
        .or_page(&viewer)?;
    Ok(saved())
}

impl TeamForm {
    /// The area as the CLI writes it: typed, or picked as a village with its RW and RT.
    fn area(&self) -> String {
        if self.village.trim().is_empty() {
            return self.area.clone();
        }
        [self.village.trim(), self.rw.trim(), self.rt.trim()]
            .into_iter()
            .take_while(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("/")
    }
}

fn enumerator(id: &str) -> Result<EnumeratorId, ApiError> {
    EnumeratorId::parse(id).map_err(|_| ApiError::bad_request(error::MALFORMED))
}

fn saved() -> Response {
    Redirect::to("/team?saved=1").into_response()
}
