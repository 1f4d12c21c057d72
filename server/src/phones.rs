//! What phones say of themselves at each sync (`protocol::PhoneReport`): their app version and
//! the work they hold unsent, kept on the device's row for the admin's list of phones. A phone
//! that finished visits and never sent them shows there before it is lost or wiped. A server with
//! a minimum app version turns older apps away here (426).

use axum::http::{HeaderMap, StatusCode};
use verivali_core::model::{DeviceId, Timestamp};
use verivali_core::protocol::{APP_VERSION_HEADER, PhoneReport};

use crate::db::{Db, DbError};
use crate::error::{self, ApiError};
use crate::store::{Conn, devices};

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
        devices::record_report(
            tx,
            &device.to_string(),
            &devices::Report {
                app_version: &app,
                unsent_visits: unsent,
                unsent_photos: photos,
                drafts,
                at: Timestamp::now_utc().unix_millis(),
            },
        )
    })
    .await?;
    Ok(())
}

/// Keeps the highest `device_seq` a push says the phone finished, in the push's transaction. A
/// number no phone can reach (above `ingest::MAX_DEVICE_SEQ`) is ignored: it would make
/// completeness count millions missing, and the visits of the push are good all the same.
pub fn record_finished(conn: Conn<'_>, device: DeviceId, finished: u64) -> Result<(), DbError> {
    match i64::try_from(finished) {
        Ok(seq) if finished <= crate::ingest::MAX_DEVICE_SEQ => {
            devices::record_finished(conn, &device.to_string(), seq)
        }
        _ => Ok(()),
    }
}

/// 426 unless the request's app is at least the configured minimum (none configured: any app).
/// An app that does not say its version predates the header, so it is older than any minimum.
pub fn check_app_version(minimum: Option<&str>, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(minimum) = minimum else {
        return Ok(());
    };
    let sent = headers
        .get(APP_VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !sent.is_empty() && at_least(sent, minimum) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            error::APP_TOO_OLD,
        ))
    }
}

/// Whether version `a` is `b` or later, by their leading numbers (`2.10.1-rc (41)` is 2.10.1;
/// missing parts count as 0).
fn at_least(a: &str, b: &str) -> bool {
    fn numbers(v: &str) -> Vec<u64> {
        let lead: String = v
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        lead.split('.').map(|n| n.parse().unwrap_or(0)).collect()
    }
    let (mut a, mut b) = (numbers(a), numbers(b));
    let len = a.len().max(b.len());
    a.resize(len, 0);
    b.resize(len, 0);
    a >= b
}

/// Phones that called the server (push, pull, photo) since midnight UTC, for `/metrics`.
pub async fn synced_today(db: &Db) -> Result<u64, ApiError> {
    let now = Timestamp::now_utc().unix_millis();
    let midnight = now - now.rem_euclid(86_400_000);
    db.read(move |c| devices::seen_since(c, midnight))
        .await
        .map_err(ApiError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_their_numbers() {
        assert!(at_least("2.0.0", "2.0.0"));
        assert!(at_least("2.10.1-rc (41)", "2.9"));
        assert!(at_least("3", "2.99.99"));
        assert!(!at_least("1.9.9", "2.0.0"));
        assert!(
            !at_least("core-0.1.0", "0.0.1"),
            "no leading number is version 0"
        );
        let mut headers = HeaderMap::new();
        assert!(check_app_version(None, &headers).is_ok());
        assert_eq!(
            check_app_version(Some("2.0.0"), &headers)
                .unwrap_err()
                .status,
            StatusCode::UPGRADE_REQUIRED
        );
        headers.insert(APP_VERSION_HEADER, "2.0.1".parse().unwrap());
        assert!(check_app_version(Some("2.0.0"), &headers).is_ok());
    }
}
