//! The phone's sync calls: push finished visits, pull what changed in its areas.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::value::RawValue;
use verivali_core::model::{Review, Timestamp};
use verivali_core::protocol::{MAX_PUSH_ITEMS, PhoneReport, PushRequest, PushResponse, PushStatus};

use crate::auth::{DeviceAuth, stored_place};
use crate::error::{self, ApiError};
use crate::state::AppState;
use crate::{ingest, phones};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sync/push", post(push))
        .route("/sync/pull", get(pull))
}

async fn push(
    State(state): State<AppState>,
    device: DeviceAuth,
    body: Result<Json<PushRequest<Box<RawValue>>>, JsonRejection>,
) -> Result<Json<PushResponse>, ApiError> {
    let Json(request) = body?;
    if request.items.len() > MAX_PUSH_ITEMS {
        return Err(ApiError::bad_request(error::TOO_MANY_ITEMS));
    }
    let received_at = Timestamp::now_utc();
    let items = request.items.len();
    let (sent_at, finished_up_to) = (request.sent_at, request.finished_up_to);
    let read_device = device.clone();
    let (slots, plan) = state
        .db
        .read(move |conn| {
            // One snapshot for all that is read here; its pages stay cached in between.
            let snapshot = conn.unchecked_transaction()?;
            let mut slots = ingest::decode(request.items);
            ingest::answer_known(&snapshot, &mut slots)?;
            // A retried push (every item already here) is answered without the writer; a
            // rejection goes through it, to be remembered for completeness.
            let nothing_to_write = slots.iter().all(
                |s| matches!(s, ingest::Slot::Answered(r) if r.status != PushStatus::Rejected),
            );
            if nothing_to_write {
                return Ok::<_, ApiError>((slots, None));
            }
            // Planned here, off the writer.
            let plan = ingest::plan(&snapshot, &read_device, &slots, sent_at, received_at)?;
            Ok((slots, Some(plan)))
        })
        .await?;
    let response = match plan {
        None => PushResponse {
            results: slots
                .into_iter()
                .filter_map(|s| match s {
                    ingest::Slot::Answered(r) => Some(r),
                    ingest::Slot::Pending { .. } => None,
                })
                .collect(),
        },
        Some(plan) => {
            state
                .db
                .write(move |tx| {
                    let answer =
                        ingest::store(tx, &device, &slots, Some(plan), sent_at, received_at)?;
                    if let Some(finished) = finished_up_to {
                        phones::record_finished(tx, device.device_id, finished)?;
                    }
                    Ok::<_, ApiError>(answer)
                })
                .await?
        }
    };
    tracing::debug!(items, "push ingested");
    crate::metrics::count_push(&response);
    Ok(Json(response))
}

#[derive(Debug, Deserialize)]
struct PullQuery {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
    /// The phone's report of itself (`protocol::PhoneReport`), on the first page of a sync.
    #[serde(default)]
    app: Option<String>,
    #[serde(default)]
    unsent: u64,
    #[serde(default)]
    photos: u64,
    #[serde(default)]
    drafts: u64,
}

async fn pull(
    State(state): State<AppState>,
    device: DeviceAuth,
    query: Result<Query<PullQuery>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Query(query) = query?;
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
    if let Some(app) = query.app {
        let report = PhoneReport {
            app,
            unsent: query.unsent,
            photos: query.photos,
            drafts: query.drafts,
        };
        phones::record_report(&state.db, device.device_id, report).await?;
    }
    let body = state
        .db
        .read(move |conn| pull_page(conn, &device, after, limit))
        .await?;
    crate::metrics::count_pull();
    Ok(([(header::CONTENT_TYPE, "application/json")], body))
}

/// A household row changed after the cursor.
struct ChangedRow {
    state: String,
    hash: String,
    region: String,
    rw: Option<String>,
    rt: Option<String>,
    household_id: String,
}

/// One page of changes after `after`, as the JSON text of a
/// [`verivali_core::protocol::PullResponse`]. Household states go out exactly as stored at merge
/// time: written into the body, never parsed and written again.: households of the device's areas, and reviews of its
/// enumerator's visits, in change order. Served from the (region, change_seq) index.
fn pull_page(
    conn: &rusqlite::Connection,
    device: &DeviceAuth,
    after: i64,
    limit: u32,
) -> Result<String, ApiError> {
    let mut regions: Vec<String> = device.areas.iter().map(|a| a.region.to_string()).collect();
    regions.sort();
    regions.dedup();
    // Phase 1, from the (region, change_seq) index alone: the next changes of each region, one
    // more than a page (which tells whether another page follows).
    let mut changes: Vec<(i64, i64)> = Vec::new();
    let mut next_in_region = conn.prepare_cached(
        "SELECT change_seq, rowid FROM households
         WHERE region = ?1 AND change_seq > ?2 ORDER BY change_seq LIMIT ?3",
    )?;
    let fetch = i64::from(limit) + 1;
    for region in &regions {
        for row in next_in_region.query_map(rusqlite::params![region, after, fetch], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })? {
            changes.push(row?);
        }
    }
    changes.sort_unstable();
    let more = changes.len() > limit as usize;
    changes.truncate(limit as usize);
    let last_seq = changes.last().map(|c| c.0);
    let mut remaining: u64 = 0;
    if more {
        let mut count = conn.prepare_cached(
            "SELECT count(*) FROM households WHERE region = ?1 AND change_seq > ?2",
        )?;
        for region in &regions {
            remaining += count
                .query_row(rusqlite::params![region, last_seq.unwrap_or(after)], |r| {
                    r.get::<_, u64>(0)
                })?;
        }
    }

    // Phase 2: read only the rows of this page.
    let mut row_of = conn.prepare_cached(
        "SELECT state, state_hash, region, rw, rt, household_id FROM households WHERE rowid = ?1",
    )?;
    let mut rows = Vec::with_capacity(changes.len());
    for (_, rowid) in &changes {
        rows.push(row_of.query_row([rowid], |r| {
            Ok(ChangedRow {
                state: r.get(0)?,
                hash: r.get(1)?,
                region: r.get(2)?,
                rw: r.get(3)?,
                rt: r.get(4)?,
                household_id: r.get(5)?,
            })
        })?);
    }

    let mut households = Vec::with_capacity(rows.len());
    // A household of the device's villages that changed and is no longer its areas' (a visit
    // placed it in another RT) leaves the phone, which ignores an id it does not hold.
    let mut removed = Vec::new();
    for ChangedRow {
        state,
        hash,
        region,
        rw,
        rt,
        household_id,
    } in rows
    {
        if device.covers(&stored_place(&region, rw.as_deref(), rt.as_deref())?) {
            households.push((state, hash));
        } else {
            removed.push(household_id);
        }
    }

    // Reviews up to the same point, so that a page never skips what a later page would miss.
    let upto = if more {
        last_seq.unwrap_or(after)
    } else {
        i64::MAX
    };
    // Decisions addressed to this enumerator, and decisions on households of its areas.
    let mut reviews: Vec<(i64, String)> = conn
        .prepare_cached(
            "SELECT r.change_seq, r.body FROM review_recipients p
             JOIN reviews r ON r.review_id = p.review_id
             WHERE p.enumerator_id = ?1 AND p.change_seq > ?2 AND p.change_seq <= ?3",
        )?
        .query_map(
            rusqlite::params![device.enumerator_id.to_string(), after, upto],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<Result<_, _>>()?;
    // A decision on a household reaches the phones whose areas cover the household itself: a
    // phone of one RT hears nothing of another RT's families (a revisit's comment names one).
    let mut on_households = conn.prepare_cached(
        "SELECT r.change_seq, r.body, h.region, h.rw, h.rt FROM reviews r
         JOIN households h ON h.household_id = r.household_id
         WHERE r.enumerator_id IS NULL AND r.change_seq > ?1 AND r.change_seq <= ?2",
    )?;
    for row in on_households.query_map(rusqlite::params![after, upto], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
        ))
    })? {
        let (seq, body, region, rw, rt) = row?;
        if regions.binary_search(&region).is_ok()
            && device.covers(&stored_place(&region, rw.as_deref(), rt.as_deref())?)
        {
            reviews.push((seq, body));
        }
    }
    reviews.sort_unstable();
    let review_seq = reviews.last().map(|(seq, _)| *seq);
    let reviews: Vec<Review> = reviews
        .iter()
        .map(|(_, body)| serde_json::from_str(body))
        .collect::<Result<_, _>>()?;
    // Areas taken from this enumerator: their households leave the phone (which keeps any it still
    // has unsent work on), unless another of its areas still covers them.
    let mut removed_seq = None;
    let mut taken = conn.prepare_cached(
        "SELECT region, rw, rt, removed_seq FROM areas
         WHERE enumerator_id = ?1 AND removed_seq > ?2 AND removed_seq <= ?3 ORDER BY removed_seq",
    )?;
    let mut in_region =
        conn.prepare_cached("SELECT household_id, rw, rt FROM households WHERE region = ?1")?;
    let taken_areas: Vec<(String, Option<String>, Option<String>, i64)> = taken
        .query_map(
            rusqlite::params![device.enumerator_id.to_string(), after, upto],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?
        .collect::<Result<_, _>>()?;
    for (region, area_rw, area_rt, seq) in taken_areas {
        removed_seq = Some(seq);
        let taken = stored_place(&region, area_rw.as_deref(), area_rt.as_deref())?;
        let rows: Vec<(String, Option<String>, Option<String>)> = in_region
            .query_map([&region], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for (id, rw, rt) in rows {
            let place = stored_place(&region, rw.as_deref(), rt.as_deref())?;
            let in_taken = taken.covers(&place.region, place.rw.as_ref(), place.rt.as_ref());
            if in_taken && !device.covers(&place) {
                removed.push(id);
            }
        }
    }
    removed.sort();
    removed.dedup();
    let next = [Some(after), last_seq, review_seq, removed_seq]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(after);
    // What the server holds of this phone: after a restore from a backup, the phone sends again
    // what it had acknowledged above this (both from the (device_id, device_seq) indexes).
    let stored_up_to: i64 = conn
        .prepare_cached(
            "SELECT max(coalesce((SELECT max(device_seq) FROM visits WHERE device_id = ?1), 0),
                        coalesce((SELECT max(device_seq) FROM rejected_seqs WHERE device_id = ?1), 0))",
        )?
        .query_row([device.device_id.to_string()], |r| r.get(0))?;
    let mut body =
        String::with_capacity(households.iter().map(|(s, _)| s.len() + 96).sum::<usize>() + 256);
    body.push_str("{\"households\":[");
    for (i, (state, hash)) in households.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        // The hash is 64 hex digits (checked when stored): nothing to escape.
        body.push_str("{\"state\":");
        body.push_str(state);
        body.push_str(",\"state_hash\":\"");
        body.push_str(hash);
        body.push_str("\"}");
    }
    body.push_str("],\"reviews\":");
    body.push_str(&serde_json::to_string(&reviews)?);
    body.push_str(",\"removed\":");
    body.push_str(&serde_json::to_string(&removed)?);
    body.push_str(&format!(
        ",\"next_cursor\":\"{next}\",\"more\":{more},\"remaining\":{remaining},\
         \"stored_up_to\":{stored_up_to}}}"
    ));
    Ok(body)
}
