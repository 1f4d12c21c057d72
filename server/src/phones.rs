//! What phones say of themselves at each sync (`protocol::PhoneReport`): their app version and
//! the work they hold unsent, kept on the device's row for the admin's list of phones. A phone
//! that finished visits and never sent them shows there before it is lost or wiped.

use verivali_core::model::{DeviceId, Timestamp};
use verivali_core::protocol::PhoneReport;

use rusqlite::Transaction;

use crate::db::{Db, DbError};
use crate::error::{self, ApiError};

/// Keeps a phone's report; 400 for an app version longer than the protocol allows or with
/// control characters (it is shown on a page).
pub async fn record_report(db: &Db, device: DeviceId, report: PhoneReport) -> Result<(), ApiError> {
    let app = report.app.trim().to_owned();
    if app.chars().count() > PhoneReport::MAX_APP_VERSION || app.chars().any(char::is_control) {
        return Err(ApiError::bad_request(error::MALFORMED));
    }
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let (unsent, photos, drafts) = (
        count(report.unsent),
        count(report.photos),
        count(report.drafts),
    );
    db.write(move |tx| {
        tx.prepare_cached(
            "UPDATE devices SET app_version = ?2, unsent_visits = ?3, unsent_photos = ?4,
                 drafts = ?5, reported_at = ?6
             WHERE device_id = ?1",
        )?
        .execute(rusqlite::params![
            device.to_string(),
            app,
            unsent,
            photos,
            drafts,
            Timestamp::now_utc().unix_millis()
        ])?;
        Ok::<_, DbError>(())
    })
    .await?;
    Ok(())
}

/// Keeps the highest `device_seq` a push says the phone finished, in the push's transaction. A
/// number no phone can reach (above `ingest::MAX_DEVICE_SEQ`) is ignored: it would make
/// completeness count millions missing, and the visits of the push are good all the same.
pub fn record_finished(
    tx: &Transaction<'_>,
    device: DeviceId,
    finished: u64,
) -> Result<(), DbError> {
    if finished > crate::ingest::MAX_DEVICE_SEQ {
        return Ok(());
    }
    tx.prepare_cached(
        "UPDATE devices SET finished_seq = max(coalesce(finished_seq, 0), ?2) WHERE device_id = ?1",
    )?
    .execute(rusqlite::params![device.to_string(), finished as i64])?;
    Ok(())
}
