//! What supervisors read: the households of their region and one household with its visits
//! (the review queues are in `queues`). The JSON API (`routes/supervision.rs`) and the
//! pages (`web/`) call these same functions, so that region scope, masking and the audit log
//! apply once. Every read of personal data by a person is recorded in the audit log (UU 27/2022).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use verivali_core::merge::{ExclusionReason, HouseholdState};
use verivali_core::model::{
    Assessment, Code, HouseholdId, Labelled, Nik, Recommendation, RegionCode, Review, Timestamp,
    VerificationStatus, Visit,
};

use crate::auth::SupervisorAuth;
use crate::db::Db;
use crate::error::{self, ApiError};
use crate::reports::code_range;
use crate::roles;
use crate::store::{Conn, household_pages};
use crate::{audit, households, privacy};

/// The region asked for (the supervisor's whole region when none), checked against the scope.
pub fn region_in_scope(who: &SupervisorAuth, asked: Option<&str>) -> Result<RegionCode, ApiError> {
    let region = match asked {
        None | Some("") => who.scope.clone(),
        Some(code) => {
            RegionCode::parse(code).map_err(|_| ApiError::bad_request(error::BAD_REGION))?
        }
    };
    who.check(&region)?;
    Ok(region)
}

/// A filter value as asked (`?status=VISITED`), none when absent or empty.
pub fn code_filter<T: Labelled>(asked: Option<&str>) -> Result<Option<T>, ApiError> {
    match asked {
        None | Some("") => Ok(None),
        Some(s) => T::from_code(s)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(error::BAD_FILTER)),
    }
}

/// Whether `?nik=` asks for whole NIK and KK numbers: `full`, or masked when absent, empty or
/// `masked`; 400 for anything else. The role is checked where the numbers are read.
pub fn whole_numbers_asked(asked: Option<&str>) -> Result<bool, ApiError> {
    match asked {
        None | Some("" | "masked") => Ok(false),
        Some("full") => Ok(true),
        Some(_) => Err(ApiError::bad_request(error::BAD_FILTER)),
    }
}

/// Which households a list shows.
#[derive(Debug, Clone)]
pub struct HouseholdFilter {
    pub region: RegionCode,
    pub status: Option<VerificationStatus>,
    pub assessment: Option<Assessment>,
    pub recommendation: Option<Recommendation>,
    /// Only households with a visit that carries a flag.
    pub flagged: bool,
    pub search: Option<Search>,
    /// Continue after this household id (the previous page's `next_after`).
    pub after: String,
    pub limit: u32,
}

/// The filters of a household list, as a query string or (for a search) a JSON body.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub assessment: Option<String>,
    #[serde(default)]
    pub recommendation: Option<String>,
    #[serde(default)]
    pub flagged: Option<bool>,
    /// Continue after this household id (the previous page's `next_after`).
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

impl ListQuery {
    pub fn filter(
        self,
        who: &SupervisorAuth,
        search: Option<Search>,
    ) -> Result<HouseholdFilter, ApiError> {
        Ok(HouseholdFilter {
            region: region_in_scope(who, self.region.as_deref())?,
            status: code_filter(self.status.as_deref())?,
            assessment: code_filter(self.assessment.as_deref())?,
            recommendation: code_filter(self.recommendation.as_deref())?,
            flagged: self.flagged.unwrap_or(false),
            search,
            after: self.after.unwrap_or_default(),
            limit: self.limit.unwrap_or(100).clamp(1, 1000),
        })
    }
}

/// A search typed by a supervisor: 16 digits are a NIK, anything else part of a head's name.
#[derive(Clone)]
pub enum Search {
    /// Looked up by its digest in the duplicate keys: the NIK itself never reaches SQL or a log.
    Nik(String),
    Name(String),
}

impl std::fmt::Debug for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind())
    }
}

impl Search {
    /// `None` for blank text.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        Some(match Nik::parse(text) {
            Ok(nik) => Self::Nik(households::nik_digest(&nik)),
            Err(_) if text.len() == 16 && text.bytes().all(|b| b.is_ascii_digit()) => {
                // Sixteen digits that fail the NIK rules still mean a NIK, not a name.
                Self::Nik(String::new())
            }
            Err(_) => Self::Name(text.to_lowercase()),
        })
    }

    /// What the audit log records of a search: its kind, never its text.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Nik(_) => "nik",
            Self::Name(_) => "name",
        }
    }
}

pub use crate::store::household_pages::HouseholdLine;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HouseholdList {
    pub households: Vec<HouseholdLine>,
    pub next_after: Option<String>,
}

/// A page of the households a filter selects, in id order; audited, since it lists names.
pub async fn households(
    db: &Db,
    who: &SupervisorAuth,
    filter: HouseholdFilter,
) -> Result<HouseholdList, ApiError> {
    who.check(&filter.region)?;
    let detail = filter
        .search
        .as_ref()
        .map(|s| format!("search:{}", s.kind()));
    let (asked, target) = (filter.region.clone(), filter.region.to_string());
    let list = db.read(move |conn| household_page(conn, &filter)).await?;
    record_read(db, who, &asked, "households:list", target, detail).await?;
    Ok(list)
}

fn household_page(conn: Conn<'_>, f: &HouseholdFilter) -> Result<HouseholdList, ApiError> {
    let (from, to) = code_range(&f.region);
    let (nik, name) = match &f.search {
        Some(Search::Nik(digest)) => (Some(digest.as_str()), None),
        Some(Search::Name(part)) => (None, Some(format!("%{}%", escape_like(part)))),
        None => (None, None),
    };
    let households = household_pages::page(
        conn,
        &household_pages::Listed {
            villages: (&from, &to),
            after: &f.after,
            status: f.status.map(|s| s.code()),
            assessment: f.assessment.map(|s| s.code()),
            recommendation: f.recommendation.map(|s| s.code()),
            flagged: f.flagged,
            nik_key: nik,
            name_like: name.as_deref(),
            limit: i64::from(f.limit),
        },
    )?;
    let next_after = (households.len() == f.limit as usize)
        .then(|| households.last().map(|h| h.household_id.clone()))
        .flatten();
    Ok(HouseholdList {
        households,
        next_after,
    })
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// One stored visit of a household, with what the server noted on receiving it.
#[derive(Debug, Clone)]
pub struct VisitRecord {
    pub visit: Visit,
    pub received_at: Timestamp,
    /// The corrected time the merge orders by.
    pub order_time: Timestamp,
    pub skew_ms: i64,
    pub flags: Vec<String>,
    pub device_seq: u64,
    /// The visit of the same content that the merge counts instead of this one.
    pub duplicate_of: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DuplicateLine {
    pub other_household_id: String,
    pub kind: String,
    pub dismissed: bool,
}

/// One household as a supervisor reads it: unmasked here; what leaves masks it
/// ([`HouseholdRecord::whole_nik`] says whether it may show whole numbers).
#[derive(Debug, Clone)]
pub struct HouseholdRecord {
    pub state: HouseholdState,
    pub state_hash: String,
    pub visits: Vec<VisitRecord>,
    pub reviews: Vec<Review>,
    pub duplicates: Vec<DuplicateLine>,
    pub whole_nik: bool,
}

/// One household of the supervisor's region; `whole_nik` asks for NIK and KK numbers unmasked
/// (403 for a role that may not see them). Audited either way.
pub async fn household(
    db: &Db,
    who: &SupervisorAuth,
    id: HouseholdId,
    whole_nik: bool,
) -> Result<HouseholdRecord, ApiError> {
    if whole_nik {
        who.check_role(roles::WHOLE_NIK)?;
    }
    let scope = who.clone();
    let record = db
        .read(move |conn| household_record(conn, &scope, id, whole_nik))
        .await?;
    let action = if whole_nik {
        "household:read-whole-nik"
    } else {
        "household:read"
    };
    record_read(
        db,
        who,
        &record.state.household.region,
        action,
        id.to_string(),
        None,
    )
    .await?;
    Ok(record)
}

fn household_record(
    conn: Conn<'_>,
    who: &SupervisorAuth,
    id: HouseholdId,
    whole_nik: bool,
) -> Result<HouseholdRecord, ApiError> {
    let me = id.to_string();
    let row = household_pages::placed_state(conn, &me)?;
    let (region, state_json, state_hash) = row.ok_or_else(ApiError::not_found)?;
    who.check_household(&RegionCode::parse(&region).map_err(ApiError::internal)?)?;
    let state: HouseholdState = serde_json::from_str(&state_json)?;
    let duplicate_of: BTreeMap<String, String> = state
        .visits_excluded
        .iter()
        .filter_map(|e| match &e.reason {
            ExclusionReason::DuplicateOf { visit_id } => {
                Some((e.visit_id.to_string(), visit_id.to_string()))
            }
            _ => None,
        })
        .collect();

    // Its own visits and those of the households merged into it.
    let mut visits = Vec::new();
    for row in household_pages::visits_of_group(conn, &me)? {
        let visit: Visit = serde_json::from_str(&row.body)?;
        visits.push(VisitRecord {
            duplicate_of: duplicate_of.get(&visit.visit_id.to_string()).cloned(),
            visit,
            received_at: Timestamp::from_unix_millis(row.received_at),
            order_time: Timestamp::from_unix_millis(row.order_time),
            skew_ms: row.skew_ms,
            flags: serde_json::from_str(&row.flags)?,
            device_seq: u64::try_from(row.device_seq).unwrap_or(0),
        });
    }
    let reviews: Vec<Review> = household_pages::decisions_on(conn, &me)?
        .iter()
        .map(|b| serde_json::from_str(b))
        .collect::<Result<_, _>>()?;
    // Only the other households inside the supervisor's region: a pair across kecamatan is the
    // kabupaten's to see, not each kecamatan's.
    let (from, to) = code_range(&who.scope);
    let duplicates: Vec<DuplicateLine> = household_pages::duplicates_of(conn, &me, (&from, &to))?
        .into_iter()
        .map(|(a, b, kind, dismissed)| DuplicateLine {
            other_household_id: if a == me { b } else { a },
            kind,
            dismissed,
        })
        .collect();
    Ok(HouseholdRecord {
        state,
        state_hash,
        visits,
        reviews,
        duplicates,
        whole_nik,
    })
}

/// `GET /api/v1/households/{id}`: a household as JSON, numbers masked unless asked whole.
#[derive(Debug, Serialize, Deserialize)]
pub struct HouseholdDetail {
    pub state: Value,
    pub state_hash: String,
    pub visits: Vec<VisitLine>,
    pub reviews: Vec<Review>,
    pub duplicates: Vec<DuplicateLine>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct VisitLine {
    pub visit_id: String,
    pub enumerator_id: String,
    pub device_id: String,
    pub device_seq: u64,
    pub received_at: Timestamp,
    pub order_time: Timestamp,
    pub skew_ms: i64,
    pub duplicate_of: Option<String>,
    pub flags: Vec<String>,
    pub outcome: Option<String>,
    pub assessment: Option<String>,
    pub recommendation: Option<String>,
}

impl HouseholdRecord {
    pub fn into_detail(self) -> Result<HouseholdDetail, ApiError> {
        let mut state = serde_json::to_value(&self.state)?;
        if !self.whole_nik {
            privacy::mask_state(&mut state);
        }
        let visits = self
            .visits
            .into_iter()
            .map(|v| VisitLine {
                visit_id: v.visit.visit_id.to_string(),
                enumerator_id: v.visit.enumerator_id.to_string(),
                device_id: v.visit.device_id.to_string(),
                device_seq: v.device_seq,
                received_at: v.received_at,
                order_time: v.order_time,
                skew_ms: v.skew_ms,
                duplicate_of: v.duplicate_of,
                flags: v.flags,
                outcome: v.visit.outcome.map(|c| c.code().to_owned()),
                assessment: v.visit.assessment.map(|c| c.code().to_owned()),
                recommendation: v.visit.recommendation.map(|c| c.code().to_owned()),
            })
            .collect();
        Ok(HouseholdDetail {
            state,
            state_hash: self.state_hash,
            visits,
            reviews: self.reviews,
            duplicates: self.duplicates,
        })
    }
}

/// Records that a person read personal data.
pub(crate) async fn record_read(
    db: &Db,
    who: &SupervisorAuth,
    region: &RegionCode,
    action: &'static str,
    target: String,
    detail: Option<String>,
) -> Result<(), ApiError> {
    let (actor, region) = (who.actor(), region.to_string());
    db.write(move |tx| {
        audit::record_in(
            tx,
            Some(&region),
            &actor,
            action,
            Some(&target),
            detail.as_deref(),
        )
        .map_err(ApiError::from)
    })
    .await
}
