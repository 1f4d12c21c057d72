//! The review queues: households whose enumerators disagree, suspected duplicates, visits that
//! wait for a decision (the flagged ones apart), and households enumerators proposed. The JSON
//! API and the pages read them here; each read is audited as a read of personal data.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use verivali_core::model::RegionCode;

use crate::auth::SupervisorAuth;
use crate::db::Db;
use crate::error::ApiError;
use crate::reports::code_range;
use crate::store::{self, Conn};
use crate::supervision::{record_read, region_in_scope};

#[derive(Debug, Serialize, Deserialize)]
pub struct ConflictLine {
    pub household_id: String,
    pub region: String,
    pub head_name: String,
    pub conflicts: Value,
}

/// Reads one queue of `region` on a read connection, and audits the read as `action`: the
/// queues list names.
async fn audited_read<T: Send + 'static>(
    db: &Db,
    who: &SupervisorAuth,
    region: RegionCode,
    action: &'static str,
    read: impl FnOnce(Conn<'_>, (&str, &str)) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    who.check(&region)?;
    let target = region.to_string();
    let asked = region.clone();
    let found = db
        .read(move |conn| {
            let (from, to) = code_range(&region);
            read(conn, (&from, &to))
        })
        .await?;
    record_read(db, who, &asked, action, target, None).await?;
    Ok(found)
}

/// Households whose enumerators disagree, oldest change first.
pub async fn conflicts(
    db: &Db,
    who: &SupervisorAuth,
    region: RegionCode,
) -> Result<Vec<ConflictLine>, ApiError> {
    audited_read(db, who, region, "queue:conflicts", read_conflicts).await
}

fn read_conflicts(conn: Conn<'_>, villages: (&str, &str)) -> Result<Vec<ConflictLine>, ApiError> {
    store::queues::conflicts(conn, villages)?
        .into_iter()
        .map(|(household_id, region, head_name, state)| {
            let state: Value = serde_json::from_str(&state)?;
            Ok(ConflictLine {
                household_id,
                region,
                head_name,
                conflicts: state["conflicts"].clone(),
            })
        })
        .collect()
}

pub use crate::store::queues::{DuplicatePair, Proposal, VisitToReview};

/// Suspected duplicates (data ganda) not yet dismissed or merged, both households inside the
/// region.
pub async fn duplicates(
    db: &Db,
    who: &SupervisorAuth,
    region: RegionCode,
) -> Result<Vec<DuplicatePair>, ApiError> {
    audited_read(db, who, region, "queue:duplicates", |conn, villages| {
        Ok(store::queues::duplicates(conn, villages)?)
    })
    .await
}

/// `GET /api/v1/queues/visits`: which visits to list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct VisitQuery {
    #[serde(default)]
    pub region: Option<String>,
    /// Only visits that carry a flag (LEFT_AREA, CLOCK_SKEW, FUTURE_TIME, a warning).
    #[serde(default)]
    pub flagged: Option<bool>,
    /// The last visit id of the previous page.
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VisitsToReview {
    pub visits: Vec<VisitToReview>,
    /// Give as `after` for the next page; absent on the last one.
    pub next_after: Option<String>,
}

pub const MAX_PAGE: u32 = 200;

/// Visits inside the region with no decision yet (approve or return), in the order they were
/// made (visit ids are UUIDv7), paged.
pub async fn visits_to_review(
    db: &Db,
    who: &SupervisorAuth,
    query: VisitQuery,
) -> Result<VisitsToReview, ApiError> {
    let region = region_in_scope(who, query.region.as_deref())?;
    let flagged = query.flagged.unwrap_or(false);
    let limit = query.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let after = query.after.unwrap_or_default();
    let action = if flagged {
        "queue:flagged-visits"
    } else {
        "queue:visits"
    };
    audited_read(db, who, region, action, move |conn, villages| {
        let mut visits =
            store::queues::undecided_visits(conn, villages, flagged, &after, i64::from(limit) + 1)?;
        let next_after = (visits.len() > limit as usize).then(|| {
            visits.truncate(limit as usize);
            visits
                .last()
                .map(|v| v.visit_id.clone())
                .unwrap_or_default()
        });
        Ok(VisitsToReview { visits, next_after })
    })
    .await
}

pub async fn proposals(
    db: &Db,
    who: &SupervisorAuth,
    region: RegionCode,
) -> Result<Vec<Proposal>, ApiError> {
    audited_read(db, who, region, "queue:proposals", |conn, villages| {
        Ok(store::queues::proposals(conn, villages)?)
    })
    .await
}
