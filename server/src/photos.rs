//! A supervisor's view of a visit's photos: a photo is shown only to a supervisor whose region
//! holds the household it was taken for (or the household that one was merged into), as the
//! household itself. The full photo is a read of personal data and is audited; thumbnails are
//! part of the household page, whose read is audited already.

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
        .read(move |conn| {
            crate::store::photos::region_of_photo(conn, &id.to_string(), key.as_str())
        })
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

/// Only what a browser may show inline; anything else is offered as a download.
fn content_type(bytes: &[u8]) -> &'static str {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [0x89, b'P', b'N', b'G', ..] => "image/png",
        _ => "application/octet-stream",
    }
}
