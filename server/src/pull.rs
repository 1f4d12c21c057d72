//! A phone's pull: one page of what changed in its areas after its cursor, as the JSON text of a
//! [`verivali_core::protocol::PullResponse`]: households of the device's areas and decisions on
//! its enumerator's visits and households, in change order, and households that left its areas.
//! Household states go out exactly as stored at merge time: written into the body, never parsed
//! and written again. What is read is read through [`crate::store::pull`].

use verivali_core::model::Review;

use crate::auth::{DeviceAuth, stored_place};
use crate::error::ApiError;
use crate::store::{Conn, pull as stored};

/// The page after `after`, of at most `limit` households, read in one snapshot on `conn`.
pub fn page(
    conn: Conn<'_>,
    device: &DeviceAuth,
    after: i64,
    limit: u32,
) -> Result<String, ApiError> {
    let mut regions: Vec<String> = device.areas.iter().map(|a| a.region.to_string()).collect();
    regions.sort();
    regions.dedup();
    // The next changes of each region, one more than a page (which tells whether another page
    // follows), then only the rows of the page.
    let mut changes = stored::changes_after(conn, &regions, after, i64::from(limit) + 1)?;
    changes.sort_unstable();
    let more = changes.len() > limit as usize;
    changes.truncate(limit as usize);
    let last_seq = changes.last().map(|c| c.seq);
    let remaining = if more {
        stored::changes_remaining(conn, &regions, last_seq.unwrap_or(after))?
    } else {
        0
    };

    let mut households = Vec::with_capacity(changes.len());
    // A household of the device's villages that changed and is no longer its areas' (a visit
    // placed it in another RT) leaves the phone, which ignores an id it does not hold.
    let mut removed = Vec::new();
    for h in stored::changed_households(conn, &regions, &changes)? {
        if device.covers(&stored_place(&h.region, h.rw.as_deref(), h.rt.as_deref())?) {
            households.push((h.state, h.hash));
        } else {
            removed.push(h.household_id);
        }
    }

    // Decisions up to the same point, so that a page never skips what a later page would miss.
    let upto = if more {
        last_seq.unwrap_or(after)
    } else {
        i64::MAX
    };
    let enumerator = device.enumerator_id.to_string();
    let mut reviews = stored::decisions_for(conn, &enumerator, after, upto)?;
    // A decision on a household reaches the phones whose areas cover the household itself: a
    // phone of one RT hears nothing of another RT's families (a revisit's comment names one).
    for d in stored::decisions_on_households(conn, after, upto)? {
        if regions.binary_search(&d.region).is_ok()
            && device.covers(&stored_place(&d.region, d.rw.as_deref(), d.rt.as_deref())?)
        {
            reviews.push((d.seq, d.body));
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
    for area in stored::areas_taken(conn, &enumerator, after, upto)? {
        removed_seq = Some(area.seq);
        let taken = stored_place(&area.region, area.rw.as_deref(), area.rt.as_deref())?;
        for h in stored::households_of(conn, &area.region)? {
            let place = stored_place(&area.region, h.rw.as_deref(), h.rt.as_deref())?;
            let in_taken = taken.covers(&place.region, place.rw.as_ref(), place.rt.as_ref());
            if in_taken && !device.covers(&place) {
                removed.push(h.household_id);
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
    let stored_up_to = stored::stored_up_to(conn, &device.device_id.to_string())?;

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
