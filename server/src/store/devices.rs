//! Phones and their enrollment codes ([`crate::enrollment`] decides what to write).

use super::Conn;
use super::sql::Row;
use crate::db::DbError;

/// An enrollment code as stored (by its hash).
#[derive(Debug)]
pub struct EnrollmentCode {
    pub enumerator_id: String,
    pub expires_at: i64,
    /// When a phone used it, and which.
    pub used_at: Option<i64>,
    pub used_by: Option<String>,
}

/// The code whose hash is `code_hash`.
pub fn code(conn: Conn<'_>, code_hash: &str) -> Result<Option<EnrollmentCode>, DbError> {
    conn.optional_row(
        "SELECT enumerator_id, expires_at, used_at, device_id FROM enrollment_codes
         WHERE code_hash = ?1",
        &[&code_hash],
        |r| {
            Ok(EnrollmentCode {
                enumerator_id: r.get(0)?,
                expires_at: r.get(1)?,
                used_at: r.get(2)?,
                used_by: r.get(3)?,
            })
        },
    )
}

/// Marks a code used by `device` at `at`.
pub fn use_code(conn: Conn<'_>, code_hash: &str, device: &str, at: i64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE enrollment_codes SET used_at = ?2, device_id = ?3 WHERE code_hash = ?1",
        &[&code_hash, &at, &device],
    )?;
    Ok(())
}

/// Gives `device` a new token if it never used its first one and is not revoked; whether it did.
pub fn renew_unused_token(conn: Conn<'_>, device: &str, token_hash: &str) -> Result<bool, DbError> {
    Ok(conn.execute(
        "UPDATE devices SET token_hash = ?2
         WHERE device_id = ?1 AND revoked_at IS NULL AND last_seen_at IS NULL",
        &[&device, &token_hash],
    )? > 0)
}

/// The enumerator `device` is enrolled for, if it ever was.
pub fn owner(conn: Conn<'_>, device: &str) -> Result<Option<String>, DbError> {
    conn.optional_value(
        "SELECT enumerator_id FROM devices WHERE device_id = ?1",
        &[&device],
    )
}

/// Enrolls a known device again: a new token and name, no longer revoked, never seen since.
pub fn reenroll(conn: Conn<'_>, device: &str, token_hash: &str, name: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE devices SET token_hash = ?2, name = ?3, revoked_at = NULL, last_seen_at = NULL
         WHERE device_id = ?1",
        &[&device, &token_hash, &name],
    )?;
    Ok(())
}

/// A device enrolled for the first time.
#[derive(Debug)]
pub struct NewDevice<'a> {
    pub device_id: &'a str,
    pub enumerator_id: &'a str,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub enrolled_at: i64,
}

pub fn insert(conn: Conn<'_>, device: &NewDevice<'_>) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO devices (device_id, enumerator_id, name, token_hash, enrolled_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        &[
            &device.device_id,
            &device.enumerator_id,
            &device.name,
            &device.token_hash,
            &device.enrolled_at,
        ],
    )?;
    Ok(())
}

/// The name of an enumerator that exists.
pub fn enumerator_name(conn: Conn<'_>, enumerator: &str) -> Result<String, DbError> {
    conn.value(
        "SELECT name FROM enumerators WHERE enumerator_id = ?1",
        &[&enumerator],
    )
}

/// An area of an enumerator as stored; `removed` once taken from them.
#[derive(Debug)]
pub struct StoredArea {
    pub region: String,
    pub rw: Option<String>,
    pub rt: Option<String>,
    pub removed: bool,
}

/// Every area an enumerator has or had, in order.
pub fn areas(conn: Conn<'_>, enumerator: &str) -> Result<Vec<StoredArea>, DbError> {
    conn.rows(
        "SELECT region, rw, rt, removed_at IS NOT NULL FROM areas WHERE enumerator_id = ?1
         ORDER BY region, rw NULLS FIRST, rt NULLS FIRST",
        &[&enumerator],
        |r| {
            Ok(StoredArea {
                region: r.get(0)?,
                rw: r.get(1)?,
                rt: r.get(2)?,
                removed: r.get(3)?,
            })
        },
    )
}

/// A device as its calls are authenticated: by the hash of its token, or by its id.
#[derive(Debug)]
pub struct StoredDevice {
    pub device_id: String,
    pub enumerator_id: String,
    pub token_hash: String,
    pub last_seen_at: Option<i64>,
}

fn stored_device(r: &Row<'_>) -> Result<StoredDevice, DbError> {
    Ok(StoredDevice {
        device_id: r.get(0)?,
        enumerator_id: r.get(1)?,
        token_hash: r.get(2)?,
        last_seen_at: r.get(3)?,
    })
}

/// The device, not revoked, whose token has the hash `token_hash`.
pub fn by_token(conn: Conn<'_>, token_hash: &str) -> Result<Option<StoredDevice>, DbError> {
    conn.optional_row(
        "SELECT device_id, enumerator_id, token_hash, last_seen_at FROM devices
         WHERE token_hash = ?1 AND revoked_at IS NULL",
        &[&token_hash],
        stored_device,
    )
}

/// The device `device`, revoked or not.
pub fn by_id(conn: Conn<'_>, device: &str) -> Result<Option<StoredDevice>, DbError> {
    conn.optional_row(
        "SELECT device_id, enumerator_id, token_hash, last_seen_at FROM devices
         WHERE device_id = ?1",
        &[&device],
        stored_device,
    )
}

/// Notes the time of a device's last call.
pub fn seen(conn: Conn<'_>, device: &str, at: i64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE devices SET last_seen_at = ?1 WHERE device_id = ?2",
        &[&at, &device],
    )?;
    Ok(())
}

/// Whether `device` is (or was) a phone of `enumerator`.
pub fn belongs_to(conn: Conn<'_>, device: &str, enumerator: &str) -> Result<bool, DbError> {
    conn.exists(
        "SELECT 1 FROM devices WHERE device_id = ?1 AND enumerator_id = ?2",
        &[&device, &enumerator],
    )
}

/// Keeps `seq` as the highest number the phone says it finished, if it is higher.
pub fn record_finished(conn: Conn<'_>, device: &str, seq: i64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE devices SET finished_seq = ?2
         WHERE device_id = ?1 AND (finished_seq IS NULL OR finished_seq < ?2)",
        &[&device, &seq],
    )?;
    Ok(())
}

/// What a phone last said of itself at a sync.
#[derive(Debug)]
pub struct Report<'a> {
    pub app_version: &'a str,
    pub unsent_visits: i64,
    pub unsent_photos: i64,
    pub drafts: i64,
    pub at: i64,
}

/// Keeps a phone's report on its row.
pub fn record_report(conn: Conn<'_>, device: &str, report: &Report<'_>) -> Result<(), DbError> {
    conn.execute(
        "UPDATE devices SET app_version = ?2, unsent_visits = ?3, unsent_photos = ?4,
             drafts = ?5, reported_at = ?6
         WHERE device_id = ?1",
        &[
            &device,
            &report.app_version,
            &report.unsent_visits,
            &report.unsent_photos,
            &report.drafts,
            &report.at,
        ],
    )?;
    Ok(())
}

/// Devices not revoked that called the server since `since`.
pub fn seen_since(conn: Conn<'_>, since: i64) -> Result<u64, DbError> {
    let seen: i64 = conn.value(
        "SELECT count(*) FROM devices WHERE last_seen_at >= ?1 AND revoked_at IS NULL",
        &[&since],
    )?;
    Ok(u64::try_from(seen).unwrap_or(0))
}

/// Issues an enrollment code (stored by its hash) for an enumerator until `expires_at`.
pub fn issue_code(
    conn: Conn<'_>,
    code_hash: &str,
    enumerator_id: &str,
    expires_at: i64,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO enrollment_codes (code_hash, enumerator_id, expires_at) VALUES (?1, ?2, ?3)",
        &[&code_hash, &enumerator_id, &expires_at],
    )?;
    Ok(())
}

/// Revokes a device not revoked yet; whether it was one.
pub fn revoke(conn: Conn<'_>, device: &str, at: i64) -> Result<bool, DbError> {
    Ok(conn.execute(
        "UPDATE devices SET revoked_at = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
        &[&device, &at],
    )? > 0)
}

/// A phone as the team page lists it, with what it last reported of itself.
#[derive(Debug)]
pub struct DeviceRow {
    pub device_id: String,
    pub name: String,
    pub enrolled_at: i64,
    pub last_seen_at: Option<i64>,
    pub revoked: bool,
    pub app_version: Option<String>,
    pub unsent_visits: Option<i64>,
    pub unsent_photos: Option<i64>,
    pub drafts: Option<i64>,
    pub reported_at: Option<i64>,
}

/// An enumerator's phones, in the order they were enrolled.
pub fn of_enumerator(conn: Conn<'_>, enumerator: &str) -> Result<Vec<DeviceRow>, DbError> {
    conn.rows(
        "SELECT device_id, name, enrolled_at, last_seen_at, revoked_at IS NOT NULL, app_version,
             unsent_visits, unsent_photos, drafts, reported_at
         FROM devices WHERE enumerator_id = ?1 ORDER BY enrolled_at",
        &[&enumerator],
        |r| {
            Ok(DeviceRow {
                device_id: r.get(0)?,
                name: r.get(1)?,
                enrolled_at: r.get(2)?,
                last_seen_at: r.get(3)?,
                revoked: r.get(4)?,
                app_version: r.get(5)?,
                unsent_visits: r.get(6)?,
                unsent_photos: r.get(7)?,
                drafts: r.get(8)?,
                reported_at: r.get(9)?,
            })
        },
    )
}
