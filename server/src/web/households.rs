//! The household pages: a list with filters and paging, a search by NIK or name (posted, so the
//! NIK is never in a URL), one household with its members, visits and reviews, and the forms of
//! the decisions. Each calls `supervision` or `review` as the API does.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use verivali_core::merge::ExclusionReason;
use verivali_core::model::{
    Assessment, Code, Decision, Entered, HouseholdId, Labelled, Member, Outcome, Presence,
    Recommendation, Relation, ReviewId, Sex, Source, VerificationStatus, VisitId,
};

use super::catalogue::Lang;
use super::page::{Chrome, OrPage, PageError, Viewer, local_path, render};
use crate::error::{self, ApiError};
use crate::privacy;
use crate::reports::{local_time, utc_offset_hours};
use crate::review::{self, ReviewRequest};
use crate::state::AppState;
use crate::supervision::{self, HouseholdLine, HouseholdRecord, ListQuery, Search};

/// A choice in a filter's list.
pub struct Choice {
    pub code: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn choices<T: Labelled>(lang: Lang, selected: Option<&str>) -> Vec<Choice> {
    T::ALL
        .iter()
        .map(|v| Choice {
            code: v.code(),
            label: lang.label(*v),
            selected: selected == Some(v.code()),
        })
        .collect()
}

/// A household in a list, with its labels in the viewer's language.
pub struct ListRow {
    pub id: String,
    pub head_name: String,
    pub address: String,
    pub place: String,
    pub status: String,
    pub assessment: String,
    pub recommendation: String,
}

fn list_row(lang: Lang, h: HouseholdLine) -> ListRow {
    let opt = |code: Option<String>, label: fn(Lang, &str) -> String| {
        code.map(|c| label(lang, &c)).unwrap_or_default()
    };
    ListRow {
        place: place(h.rw.as_deref(), h.rt.as_deref()),
        status: lang.label_of::<VerificationStatus>(&h.status),
        assessment: opt(h.assessment, Lang::label_of::<Assessment>),
        recommendation: opt(h.recommendation, Lang::label_of::<Recommendation>),
        id: h.household_id,
        head_name: h.head_name,
        address: h.address,
    }
}

pub fn place(rw: Option<&str>, rt: Option<&str>) -> String {
    match (rw, rt) {
        (None, None) => String::new(),
        (rw, rt) => format!("{}/{}", rw.unwrap_or("–"), rt.unwrap_or("–")),
    }
}

#[derive(Template)]
#[template(path = "households.html")]
struct ListPage {
    chrome: Chrome,
    region: String,
    statuses: Vec<Choice>,
    assessments: Vec<Choice>,
    recommendations: Vec<Choice>,
    flagged: bool,
    rows: Vec<ListRow>,
    /// The next page's address, when there is one.
    next: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let asked = (
        q.status.clone(),
        q.assessment.clone(),
        q.recommendation.clone(),
    );
    let flagged = q.flagged.unwrap_or(false);
    let region_asked = q.region.clone();
    let filter = q.filter(&viewer.who, None).or_page(&viewer)?;
    let region = filter.region.to_string();
    let list = supervision::households(&state.db, &viewer.who, filter)
        .await
        .or_page(&viewer)?;
    let next = list.next_after.map(|after| {
        let mut link = format!("/households?region={region}&after={after}");
        for (name, value) in [
            ("status", &asked.0),
            ("assessment", &asked.1),
            ("recommendation", &asked.2),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                link.push_str(&format!("&{name}={v}"));
            }
        }
        if flagged {
            link.push_str("&flagged=true");
        }
        link
    });
    let lang = viewer.lang;
    let page = ListPage {
        chrome: viewer.chrome(viewer.t().households_title),
        region: region_asked.unwrap_or(region),
        statuses: choices::<VerificationStatus>(lang, asked.0.as_deref()),
        assessments: choices::<Assessment>(lang, asked.1.as_deref()),
        recommendations: choices::<Recommendation>(lang, asked.2.as_deref()),
        flagged,
        rows: list
            .households
            .into_iter()
            .map(|h| list_row(lang, h))
            .collect(),
        next,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    q: String,
}

/// At most this many results: a search that finds more should be narrowed.
const SEARCH_LIMIT: u32 = 200;

pub async fn search(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<SearchForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf, &headers)?;
    let query = ListQuery {
        region: form.region,
        limit: Some(SEARCH_LIMIT),
        ..ListQuery::default()
    };
    let filter = query
        .filter(&viewer.who, Search::parse(&form.q))
        .or_page(&viewer)?;
    let region = filter.region.to_string();
    let list = supervision::households(&state.db, &viewer.who, filter)
        .await
        .or_page(&viewer)?;
    let lang = viewer.lang;
    let page = ListPage {
        chrome: viewer.chrome(viewer.t().search_results),
        region,
        statuses: choices::<VerificationStatus>(lang, None),
        assessments: choices::<Assessment>(lang, None),
        recommendations: choices::<Recommendation>(lang, None),
        flagged: false,
        rows: list
            .households
            .into_iter()
            .map(|h| list_row(lang, h))
            .collect(),
        next: None,
    };
    Ok(render(StatusCode::OK, &page))
}

/// A member as the page shows it: the NIK masked unless the viewer asked for whole numbers.
pub struct MemberRow {
    pub name: String,
    pub nik: String,
    pub relation: String,
    pub sex: String,
    pub birth_date: String,
    pub presence: String,
}

/// A visit as the page shows it, with what can be decided on it.
pub struct VisitRow {
    pub id: String,
    pub enumerator: String,
    pub device: String,
    pub device_seq: u64,
    pub finished: String,
    pub received: String,
    pub skew: Option<String>,
    pub flags: Vec<String>,
    pub duplicate_of: Option<String>,
    pub excluded: Option<String>,
    pub outcome: String,
    pub assessment: String,
    pub recommendation: String,
    pub location: Option<String>,
    pub in_conflict: bool,
    /// The household merged into this one that the visit was made for.
    pub merged_from: Option<String>,
    pub photos: Vec<PhotoRow>,
    /// Where it was made, among the household's other visits.
    pub minimap: Option<super::minimap::MiniMap>,
}

pub struct PhotoRow {
    pub sha256: String,
    pub kind: &'static str,
}

pub struct ReviewRow {
    pub decision: &'static str,
    pub visit: Option<String>,
    pub comment: String,
    pub decided_at: String,
}

pub struct ConflictRow {
    pub field: String,
    pub visits: Vec<String>,
}

#[derive(Template)]
#[template(path = "household.html")]
struct HouseholdPage {
    chrome: Chrome,
    id: String,
    head_name: String,
    address: String,
    region: String,
    place: String,
    source: &'static str,
    kk_number: String,
    status: &'static str,
    outcome: String,
    assessment: String,
    recommendation: String,
    last_visit: String,
    members: Vec<MemberRow>,
    visits: Vec<VisitRow>,
    conflicts: Vec<ConflictRow>,
    reviews: Vec<ReviewRow>,
    duplicates: Vec<(String, String, bool)>,
    whole_nik: bool,
    may_see_nik: bool,
    saved: bool,
    merged_into: Option<String>,
    /// The visits in conflict side by side.
    comparison: Option<super::compare::Comparison>,
    /// A fresh id for each decision form: a double click is stored once.
    review_ids: [String; 4],
}

#[derive(Debug, Deserialize)]
pub struct DetailQuery {
    #[serde(default)]
    nik: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

pub async fn detail(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, PageError> {
    let id = HouseholdId::parse(&id)
        .map_err(|_| ApiError::not_found())
        .or_page(&viewer)?;
    let whole = q.nik.as_deref() == Some("full");
    let record = supervision::household(&state.db, &viewer.who, id, whole)
        .await
        .or_page(&viewer)?;
    let page = household_page(&viewer, record, q.saved.is_some());
    Ok(render(StatusCode::OK, &page))
}

fn household_page(viewer: &Viewer, record: HouseholdRecord, saved: bool) -> HouseholdPage {
    let lang = viewer.lang;
    let whole = record.whole_nik;
    let state = &record.state;
    let household = &state.household;
    let offset = utc_offset_hours(&household.region);
    let members = household
        .members
        .iter()
        .map(|m| member_row(lang, m, whole))
        .collect();
    let in_conflict: std::collections::BTreeSet<VisitId> = state
        .conflicts
        .iter()
        .flat_map(|c| c.visits.iter().copied())
        .collect();
    let in_conflict_ids: Vec<VisitId> = in_conflict.iter().copied().collect();
    let excluded: std::collections::BTreeMap<VisitId, &ExclusionReason> = state
        .visits_excluded
        .iter()
        .map(|e| (e.visit_id, &e.reason))
        .collect();
    let points: Vec<Option<super::minimap::Point>> = record
        .visits
        .iter()
        .map(|v| {
            v.visit
                .location
                .as_ref()
                .map(|l| (l.lat, l.lon, l.accuracy_m))
        })
        .collect();
    let visits = record
        .visits
        .iter()
        .enumerate()
        .map(|(n, v)| {
            let visit = &v.visit;
            VisitRow {
                id: visit.visit_id.to_string(),
                enumerator: visit.enumerator_id.to_string(),
                device: visit.device_id.to_string(),
                device_seq: v.device_seq,
                finished: local_time(v.order_time, offset),
                received: local_time(v.received_at, offset),
                skew: (v.skew_ms != 0).then(|| format!("{:+} min", v.skew_ms / 60_000)),
                flags: v.flags.iter().map(|f| flag_text(lang, f)).collect(),
                duplicate_of: v.duplicate_of.clone(),
                excluded: excluded.get(&visit.visit_id).map(|r| exclusion_text(r)),
                outcome: visit
                    .outcome
                    .map(|o: Outcome| lang.label(o).to_owned())
                    .unwrap_or_default(),
                assessment: visit
                    .assessment
                    .map(|a| lang.label(a).to_owned())
                    .unwrap_or_default(),
                recommendation: visit
                    .recommendation
                    .map(|r| lang.label(r).to_owned())
                    .unwrap_or_default(),
                location: visit
                    .location
                    .as_ref()
                    .map(|l| format!("{:.5}, {:.5} (±{:.0} m)", l.lat, l.lon, l.accuracy_m)),
                in_conflict: in_conflict.contains(&visit.visit_id),
                merged_from: visit
                    .household_id
                    .filter(|h| *h != household.household_id)
                    .map(|h| h.to_string()),
                photos: visit
                    .photos
                    .iter()
                    .map(|p| PhotoRow {
                        sha256: p.sha256.to_string(),
                        kind: lang.label(p.kind),
                    })
                    .collect(),
                minimap: super::minimap::draw(&points, n),
            }
        })
        .collect();
    let conflicts = state
        .conflicts
        .iter()
        .map(|c| ConflictRow {
            field: serde_json::to_value(c.field)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            visits: c.visits.iter().map(ToString::to_string).collect(),
        })
        .collect();
    let reviews = record
        .reviews
        .iter()
        .map(|r| ReviewRow {
            decision: lang.label(r.decision),
            visit: r.visit_id.map(|v| v.to_string()),
            comment: r.comment.clone().unwrap_or_default(),
            decided_at: local_time(r.decided_at, offset),
        })
        .collect();
    let new_id = || ReviewId(uuid::Uuid::now_v7()).to_string();
    HouseholdPage {
        chrome: viewer.chrome(&household.head_name),
        id: household.household_id.to_string(),
        head_name: household.head_name.clone(),
        address: household.address.clone(),
        region: household.region.to_string(),
        place: place(
            household.rw.as_ref().map(Code::as_str),
            household.rt.as_ref().map(Code::as_str),
        ),
        source: lang.label::<Source>(household.source),
        kk_number: household
            .kk_number
            .as_ref()
            .map(|k| shown(k, whole))
            .unwrap_or_default(),
        status: lang.label(state.status),
        outcome: state
            .outcome
            .map(|o| lang.label(o).to_owned())
            .unwrap_or_default(),
        assessment: state
            .assessment
            .map(|a| lang.label(a).to_owned())
            .unwrap_or_default(),
        recommendation: state
            .recommendation
            .map(|r| lang.label(r).to_owned())
            .unwrap_or_default(),
        last_visit: state
            .last_visit_at
            .map(|t| local_time(t, offset))
            .unwrap_or_default(),
        members,
        visits,
        conflicts,
        reviews,
        duplicates: record
            .duplicates
            .iter()
            .map(|d| (d.other_household_id.clone(), d.kind.clone(), d.dismissed))
            .collect(),
        whole_nik: whole,
        may_see_nik: viewer.who.may(crate::roles::WHOLE_NIK),
        merged_into: state.merged_into.map(|h| h.to_string()),
        comparison: super::compare::of(lang, &record.visits, &in_conflict_ids, offset),
        saved,
        review_ids: [new_id(), new_id(), new_id(), new_id()],
    }
}

/// A member as pages show them, the NIK masked unless `whole`.
pub fn member_row(lang: Lang, m: &Member, whole: bool) -> MemberRow {
    MemberRow {
        name: m.name().to_owned(),
        nik: m
            .details
            .nik
            .as_ref()
            .map(|n| shown(n, whole))
            .unwrap_or_default(),
        relation: m
            .details
            .relation
            .map(|r: Relation| lang.label(r).to_owned())
            .unwrap_or_default(),
        sex: m
            .details
            .sex
            .map(|s: Sex| lang.label(s).to_owned())
            .unwrap_or_default(),
        birth_date: m
            .details
            .birth_date
            .map(|d| d.to_string())
            .unwrap_or_default(),
        presence: lang.label::<Presence>(m.presence).to_owned(),
    }
}

/// A NIK or KK number as entered, masked unless the viewer asked for whole numbers.
pub fn shown<T: Code>(number: &Entered<T>, whole: bool) -> String {
    let text = match number {
        Entered::Valid(v) => v.as_str(),
        Entered::Invalid(raw) => raw.as_str(),
    };
    if whole {
        text.to_owned()
    } else {
        privacy::mask_number(text)
    }
}

pub fn flag_text(lang: Lang, flag: &str) -> String {
    match lang.texts().flag(flag) {
        Some(text) => format!("{flag}: {text}"),
        // A validation warning the phone could not see: `CODE@field`.
        None => {
            let code = flag.split('@').next().unwrap_or(flag);
            match verivali_core::validate::rules::ALL
                .iter()
                .find(|r| r.code == code)
            {
                Some(rule) => format!("{flag}: {}", lang.message(rule.message_id, rule.message_en)),
                None => flag.to_owned(),
            }
        }
    }
}

fn exclusion_text(reason: &ExclusionReason) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    decision: String,
    #[serde(default)]
    visit_id: Option<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    review_id: Option<String>,
    /// The other household of a merge or a dismissed duplicate.
    #[serde(default)]
    other_household_id: Option<String>,
    /// The page to come back to (a queue); the household by default.
    #[serde(default)]
    back: Option<String>,
}

/// A decision from the household page, through the same function as `POST /api/v1/reviews`;
/// answered with a redirect back to the household.
pub async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf, &headers)?;
    let bad = || ApiError::bad_request(error::MALFORMED);
    let household_id = HouseholdId::parse(&id)
        .map_err(|_| bad())
        .or_page(&viewer)?;
    let parse_visit = |v: &str| VisitId::parse(v).map_err(|_| bad());
    let request = ReviewRequest {
        review_id: form
            .review_id
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(|r| ReviewId::parse(r).map_err(|_| bad()))
            .transpose()
            .or_page(&viewer)?,
        household_id,
        visit_id: form
            .visit_id
            .as_deref()
            .filter(|v| !v.is_empty())
            .map(parse_visit)
            .transpose()
            .or_page(&viewer)?,
        decision: Decision::from_code(&form.decision)
            .ok_or_else(bad)
            .or_page(&viewer)?,
        other_household_id: form
            .other_household_id
            .as_deref()
            .filter(|o| !o.is_empty())
            .map(|o| HouseholdId::parse(o).map_err(|_| bad()))
            .transpose()
            .or_page(&viewer)?,
        comment: form.comment.filter(|c| !c.trim().is_empty()),
    };
    review::decide_now(&state.db, viewer.who.clone(), request)
        .await
        .or_page(&viewer)?;
    let back = local_path(form.back)
        .unwrap_or_else(|| format!("/households/{household_id}?saved=1#reviews"));
    Ok(Redirect::to(&back).into_response())
}
