//! A supervisor's view of a visit's photos: a photo is shown only to a supervisor whose region
//! holds the household it was taken for (or the household that one was merged into), as the
//! household itself. The full photo is a read of personal data and is audited; thumbnails are
//! part of the household page, whose read is audited already.

// SQL still here, to move to crate::store (issue 16, server/clippy.toml).
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use rusqlite::{Connection, OptionalExtension};
use verivali_core::model::{Code, HouseholdId, RegionCode, Sha256};

use crate::attachments::{Attachments, PhotoError};
use crate::auth::SupervisorAuth;
use crate::error::{self, ApiError};
use crate::state::AppState;
use crate::supervision::record_read;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoSize {
    Full,
    Thumb,
}

#[derive(Debug)]
pub struct PhotoBytes {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

/// The photo `sha` of household `id`, whole or as a thumbnail.
pub async fn household_photo(
    state: &AppState,
    who: &SupervisorAuth,
    id: HouseholdId,
    sha: Sha256,
    size: PhotoSize,
) -> Result<PhotoBytes, ApiError> {
    let key = sha.clone();
    let region = state
        .db
        .read(move |conn| photo_region(conn, id, &key))
        .await?
        .ok_or_else(ApiError::not_found)?;
    let region = RegionCode::parse(&region).map_err(ApiError::internal)?;
    who.check_household(&region)?;
    if size == PhotoSize::Full {
        record_read(
            &state.db,
            who,
            &region,
            "photo:read",
            id.to_string(),
            Some(sha.to_string()),
        )
        .await?;
    }
    let store = Attachments::new(&state.config.data_dir);
    let answer = tokio::task::spawn_blocking(move || match size {
        PhotoSize::Full => store.read(&sha),
        PhotoSize::Thumb => store.thumbnail(&sha),
    })
    .await
    .map_err(ApiError::internal)?;
    match answer {
        Ok(bytes) => Ok(PhotoBytes {
            content_type: content_type(&bytes),
            bytes,
        }),
        Err(PhotoError::Absent) => Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            error::PHOTO_NOT_RECEIVED,
        )),
        Err(PhotoError::Unreadable) => Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            error::PHOTO_UNREADABLE,
        )),
        Err(PhotoError::Io(e)) => Err(ApiError::internal(e)),
    }
}

/// The region of the household the photo belongs to, if a visit of `id` or of a household
/// merged into it carries it.
fn photo_region(
    conn: &Connection,
    id: HouseholdId,
    sha: &Sha256,
) -> Result<Option<String>, ApiError> {
    Ok(conn
        .prepare_cached(
            "WITH RECURSIVE grp (id) AS (
                 SELECT ?1 UNION SELECT h.household_id FROM households h JOIN grp g
                     ON h.merged_into = g.id)
             SELECT (SELECT region FROM households WHERE household_id = ?1)
             FROM visits v, json_each(v.body, '$.photos') p
             WHERE v.household_id IN (SELECT id FROM grp)
               AND json_extract(p.value, '$.sha256') = ?2
             LIMIT 1",
        )?
        .query_row([id.to_string(), sha.to_string()], |r| r.get(0))
        .optional()?)
}

/// Only what a browser may show inline; anything else is offered as a download.
fn content_type(bytes: &[u8]) -> &'static str {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [0x89, b'P', b'N', b'G', ..] => "image/png",
        _ => "application/octet-stream",
    }
}
