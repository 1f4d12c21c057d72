//! The phone's sync calls: push finished visits, pull what changed in its areas.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use verivali_core::model::{Code, RegionCode, Review, Rt, Rw, Timestamp};
use verivali_core::protocol::{MAX_PUSH_ITEMS, PushRequest, PushResponse};

use crate::auth::DeviceAuth;
use crate::error::{self, ApiError};
use crate::ingest;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sync/push", post(push))
        .route("/sync/pull", get(pull))
}

async fn push(
    State(state): State<AppState>,
    device: DeviceAuth,
    body: Result<Json<PushRequest<Value>>, JsonRejection>,
) -> Result<Json<PushResponse>, ApiError> {
    let Json(request) = body?;
    if request.items.len() > MAX_PUSH_ITEMS {
        return Err(ApiError::bad_request(error::TOO_MANY_ITEMS));
    }
    let received_at = Timestamp::now_utc();
    let items = request.items.len();
    let sent_at = request.sent_at;
    let slots = state
        .db
        .read(move |conn| {
            let mut slots = ingest::decode(request.items);
            ingest::answer_known(conn, &mut slots)?;
            Ok::<_, ApiError>(slots)
        })
        .await?;
    let response = if slots.iter().all(|s| matches!(s, ingest::Slot::Answered(_))) {
        PushResponse {
            results: slots
                .into_iter()
                .filter_map(|s| match s {
                    ingest::Slot::Answered(r) => Some(r),
                    ingest::Slot::Pending { .. } => None,
                })
                .collect(),
        }
    } else {
        state
            .db
            .write(move |tx| {
                ingest::store(tx, &device, slots, sent_at, received_at).map_err(ApiError::from)
            })
            .await?
    };
    tracing::debug!(items, "push ingested");
    Ok(Json(response))
}

#[derive(Debug, Deserialize)]
struct PullQuery {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
}

async fn pull(
    State(state): State<AppState>,
    device: DeviceAuth,
    Query(query): Query<PullQuery>,
) -> Result<Json<PullPage>, ApiError> {
    let after: i64 = match query.cursor.as_deref() {
        None | Some("") => 0,
        Some(c) => c
            .parse()
            .map_err(|_| ApiError::bad_request(error::BAD_CURSOR))?,
    };
    let limit = query
        .limit
        .unwrap_or(state.config.max_pull_page)
        .clamp(1, state.config.max_pull_page);
    let response = state
        .db
        .read(move |conn| pull_page(conn, &device, after, limit))
        .await?;
    Ok(Json(response))
}

/// A [`verivali_core::protocol::PullResponse`] whose states go out as stored: the JSON text written at merge time is sent
/// without being parsed and written again (the same wire form; the phone reads a `PullResponse`).
#[derive(Debug, Serialize)]
struct PullPage {
    households: Vec<StoredState>,
    reviews: Vec<Review>,
    removed: Vec<verivali_core::model::HouseholdId>,
    next_cursor: String,
    more: bool,
}

#[derive(Debug, Serialize)]
struct StoredState {
    state: Box<RawValue>,
    state_hash: String,
}

/// A household row changed after the cursor.
struct ChangedRow {
    seq: i64,
    state: String,
    hash: String,
    region: String,
    rw: Option<String>,
    rt: Option<String>,
}

/// One page of changes after `after`: households of the device's areas, and reviews of its
/// enumerator's visits, in change order. Served from the (region, change_seq) index.
fn pull_page(
    conn: &rusqlite::Connection,
    device: &DeviceAuth,
    after: i64,
    limit: u32,
) -> Result<PullPage, ApiError> {
    let mut regions: Vec<String> = device.areas.iter().map(|a| a.region.to_string()).collect();
    regions.sort();
    regions.dedup();
    let mut rows: Vec<ChangedRow> = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT change_seq, state, state_hash, region, rw, rt FROM households
         WHERE region = ?1 AND change_seq > ?2 ORDER BY change_seq LIMIT ?3",
    )?;
    // One more than a page per region tells whether another page follows.
    let fetch = i64::from(limit) + 1;
    for region in &regions {
        let found = stmt.query_map(rusqlite::params![region, after, fetch], |r| {
            Ok(ChangedRow {
                seq: r.get(0)?,
                state: r.get(1)?,
                hash: r.get(2)?,
                region: r.get(3)?,
                rw: r.get(4)?,
                rt: r.get(5)?,
            })
        })?;
        for row in found {
            rows.push(row?);
        }
    }
    rows.sort_by_key(|r| r.seq);
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let last_seq = rows.last().map(|r| r.seq);

    let mut households = Vec::with_capacity(rows.len());
    for ChangedRow {
        state,
        hash,
        region,
        rw,
        rt,
        ..
    } in rows
    {
        let region = RegionCode::parse(&region).map_err(ApiError::internal)?;
        let rw = rw
            .map(|x| Rw::parse(&x))
            .transpose()
            .map_err(ApiError::internal)?;
        let rt = rt
            .map(|x| Rt::parse(&x))
            .transpose()
            .map_err(ApiError::internal)?;
        if device
            .areas
            .iter()
            .any(|a| a.covers(&region, rw.as_ref(), rt.as_ref()))
        {
            households.push(StoredState {
                state: RawValue::from_string(state)?,
                state_hash: hash,
            });
        }
    }

    // Reviews up to the same point, so that a page never skips what a later page would miss.
    let upto = if more {
        last_seq.unwrap_or(after)
    } else {
        i64::MAX
    };
    let mut reviews = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT body, change_seq FROM reviews WHERE enumerator_id = ?1 AND change_seq > ?2 AND change_seq <= ?3
         ORDER BY change_seq",
    )?;
    let mut review_seq = None;
    for row in stmt.query_map(
        rusqlite::params![device.enumerator_id.to_string(), after, upto],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
    )? {
        let (body, seq) = row?;
        reviews.push(serde_json::from_str::<Review>(&body)?);
        review_seq = Some(seq);
    }
    let next = [Some(after), last_seq, review_seq]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(after);
    Ok(PullPage {
        households,
        reviews,
        removed: Vec::new(),
        next_cursor: next.to_string(),
        more,
    })
}
