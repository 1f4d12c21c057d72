//! One pair of suspected duplicates side by side: what each household holds, the key that
//! matched, the members the two share, and the decisions on the pair (merge one into the other,
//! or dismiss). Both households are read through `supervision::household`, as the API reads them,
//! and the decisions go through the household page's decision form.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use verivali_core::model::{Code, HouseholdId, Member, ReviewId};

use super::catalogue::Lang;
use super::households::{MemberRow, member_row, place, shown};
use super::page::{Chrome, OrPage, PageError, Viewer, render};
use crate::error::ApiError;
use crate::state::AppState;
use crate::supervision::{self, HouseholdRecord};

/// One household of the pair.
pub struct Side {
    pub id: String,
    pub head_name: String,
    pub address: String,
    pub region: String,
    pub place: String,
    pub source: &'static str,
    pub kk_number: String,
    pub status: &'static str,
    pub outcome: String,
    pub visits: usize,
    /// Each member, and whether the other household lists the same person.
    pub members: Vec<(MemberRow, bool)>,
}

#[derive(Template)]
#[template(path = "duplicate.html")]
struct PairPage {
    chrome: Chrome,
    a: Side,
    b: Side,
    /// What the two share, in the viewer's language.
    keys: Vec<&'static str>,
    /// Fresh ids for the three decisions (merge into A, merge into B, dismiss).
    review_ids: [String; 3],
}

pub async fn pair(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((a, b)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let parse = |id: &str| HouseholdId::parse(id).map_err(|_| ApiError::not_found());
    let (a, b) = (parse(&a).or_page(&viewer)?, parse(&b).or_page(&viewer)?);
    let first = supervision::household(&state.db, &viewer.who, a, false)
        .await
        .or_page(&viewer)?;
    let second = supervision::household(&state.db, &viewer.who, b, false)
        .await
        .or_page(&viewer)?;
    let t = viewer.t();
    let keys = first
        .duplicates
        .iter()
        .filter(|d| d.other_household_id == b.to_string())
        .map(|d| t.matched_by(&d.kind))
        .collect();
    let new_id = || ReviewId(uuid::Uuid::now_v7()).to_string();
    let page = PairPage {
        chrome: viewer.chrome(t.duplicate_pair_title),
        a: side(viewer.lang, &first, &second),
        b: side(viewer.lang, &second, &first),
        keys,
        review_ids: [new_id(), new_id(), new_id()],
    };
    Ok(render(StatusCode::OK, &page))
}

fn side(lang: Lang, this: &HouseholdRecord, other: &HouseholdRecord) -> Side {
    let household = &this.state.household;
    let others = &other.state.household.members;
    Side {
        id: household.household_id.to_string(),
        head_name: household.head_name.clone(),
        address: household.address.clone(),
        region: household.region.to_string(),
        place: place(
            household.rw.as_ref().map(Code::as_str),
            household.rt.as_ref().map(Code::as_str),
        ),
        source: lang.label(household.source),
        kk_number: household
            .kk_number
            .as_ref()
            .map(|k| shown(k, false))
            .unwrap_or_default(),
        status: lang.label(this.state.status),
        outcome: this
            .state
            .outcome
            .map(|o| lang.label(o).to_owned())
            .unwrap_or_default(),
        visits: this.visits.len(),
        members: household
            .members
            .iter()
            .map(|m| {
                (
                    member_row(lang, m, false),
                    others.iter().any(|o| same_person(m, o)),
                )
            })
            .collect(),
    }
}

/// The same person as the duplicate keys see them: one valid NIK, or one name and birth date.
fn same_person(a: &Member, b: &Member) -> bool {
    let nik = |m: &Member| m.nik().cloned();
    let name = |m: &Member| {
        m.name()
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    (nik(a).is_some() && nik(a) == nik(b))
        || (a.details.birth_date.is_some()
            && a.details.birth_date == b.details.birth_date
            && !name(a).is_empty()
            && name(a) == name(b))
}
