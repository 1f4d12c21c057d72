//! What supervisors count: progress per child region, and per-device completeness (which
//! `device_seq` never arrived). Reports read the verdict columns kept beside each state, never
//! the states themselves.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use verivali_core::model::{Code, RegionCode, RegionLevel};

use crate::db::DbError;

/// The range of region codes inside `region` (itself included): `[code, code + "/")`, since '/'
/// sorts right after '.'.
pub fn code_range(region: &RegionCode) -> (String, String) {
    (region.as_str().to_owned(), format!("{}/", region.as_str()))
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressRow {
    /// A child region code, or for a village an RW (`RW 001`).
    pub key: String,
    pub name: Option<String>,
    pub targets: u64,
    pub visited: u64,
    pub found: u64,
    pub needs_review: u64,
    pub approved: u64,
    pub extreme_poor: u64,
    pub poor: u64,
    pub vulnerable: u64,
    pub not_poor: u64,
    pub recommend_remove: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub region: String,
    pub rows: Vec<ProgressRow>,
    pub total: ProgressRow,
}

/// Progress of every child of `region`: regencies of a province, districts of a regency,
/// villages of a district, RWs of a village.
pub fn progress(conn: &Connection, region: &RegionCode) -> Result<Progress, DbError> {
    let (from, to) = code_range(region);
    let group = match region.level() {
        RegionLevel::Province => "substr(h.region, 1, 5)",
        RegionLevel::Regency => "substr(h.region, 1, 8)",
        RegionLevel::District => "h.region",
        RegionLevel::Village => "'RW ' || coalesce(h.rw, '-')",
    };
    let sql = format!(
        "SELECT {group} AS child, r.name, count(*),
             coalesce(sum(h.status <> 'NOT_VISITED'), 0), coalesce(sum(h.outcome = 'FOUND'), 0),
             coalesce(sum(h.status = 'NEEDS_REVIEW'), 0), coalesce(sum(h.status = 'APPROVED'), 0),
             coalesce(sum(h.assessment = 'EXTREME_POOR'), 0), coalesce(sum(h.assessment = 'POOR'), 0),
             coalesce(sum(h.assessment = 'VULNERABLE'), 0), coalesce(sum(h.assessment = 'NOT_POOR'), 0),
             coalesce(sum(h.recommendation = 'REMOVE'), 0)
         FROM households h LEFT JOIN regions r ON r.code = {group}
         WHERE h.region >= ?1 AND h.region < ?2
         GROUP BY child ORDER BY child"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows: Vec<ProgressRow> = stmt
        .query_map([&from, &to], |r| {
            Ok(ProgressRow {
                key: r.get(0)?,
                name: r.get(1)?,
                targets: r.get(2)?,
                visited: r.get(3)?,
                found: r.get(4)?,
                needs_review: r.get(5)?,
                approved: r.get(6)?,
                extreme_poor: r.get(7)?,
                poor: r.get(8)?,
                vulnerable: r.get(9)?,
                not_poor: r.get(10)?,
                recommend_remove: r.get(11)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut total = ProgressRow {
        key: region.to_string(),
        ..ProgressRow::default()
    };
    total.name = conn
        .prepare_cached("SELECT name FROM regions WHERE code = ?1")?
        .query_row([region.as_str()], |r| r.get(0))
        .ok();
    for row in &rows {
        total.targets += row.targets;
        total.visited += row.visited;
        total.found += row.found;
        total.needs_review += row.needs_review;
        total.approved += row.approved;
        total.extreme_poor += row.extreme_poor;
        total.poor += row.poor;
        total.vulnerable += row.vulnerable;
        total.not_poor += row.not_poor;
        total.recommend_remove += row.recommend_remove;
    }
    Ok(Progress {
        region: region.to_string(),
        rows,
        total,
    })
}

/// How complete one phone's visits are on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCompleteness {
    pub device_id: String,
    pub device_name: String,
    pub enumerator_id: String,
    pub enumerator_name: String,
    pub revoked: bool,
    /// Distinct `device_seq` numbers received.
    pub received: u64,
    pub highest_seq: u64,
    /// Numbers below the highest that never arrived: visits finished on the phone and not here.
    pub missing_count: u64,
    /// The first missing numbers (at most 100).
    pub missing: Vec<u64>,
    /// Numbers the server rejected (the phone reopened each visit as a draft, which gets a new
    /// number): accounted for, not missing. The first 100.
    pub rejected: Vec<u64>,
    pub rejected_count: u64,
}

/// Completeness of every device whose enumerator works inside `region`.
pub fn completeness(
    conn: &Connection,
    region: &RegionCode,
) -> Result<Vec<DeviceCompleteness>, DbError> {
    let (from, to) = code_range(region);
    let mut devices = conn.prepare_cached(
        "SELECT DISTINCT d.device_id, d.name, e.enumerator_id, e.name, d.revoked_at IS NOT NULL
         FROM devices d JOIN enumerators e ON e.enumerator_id = d.enumerator_id
         JOIN areas a ON a.enumerator_id = e.enumerator_id
         WHERE a.region >= ?1 AND a.region < ?2 ORDER BY e.name, d.device_id",
    )?;
    let mut seqs = conn.prepare_cached(
        "SELECT DISTINCT device_seq FROM visits WHERE device_id = ?1 ORDER BY device_seq",
    )?;
    // Rejected numbers that never arrived after all.
    let mut rejected_seqs = conn.prepare_cached(
        "SELECT device_seq FROM rejected_seqs r WHERE device_id = ?1 AND NOT EXISTS
         (SELECT 1 FROM visits v WHERE v.device_id = r.device_id AND v.device_seq = r.device_seq)
         ORDER BY device_seq",
    )?;
    let found: Vec<(String, String, String, String, bool)> = devices
        .query_map([&from, &to], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut report = Vec::with_capacity(found.len());
    for (device_id, device_name, enumerator_id, enumerator_name, revoked) in found {
        let numbers: Vec<u64> = seqs
            .query_map([&device_id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let rejected: Vec<u64> = rejected_seqs
            .query_map([&device_id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let highest = numbers.last().copied().unwrap_or(0);
        // Below the highest received: neither received nor rejected.
        let accounted: std::collections::BTreeSet<u64> =
            numbers.iter().chain(&rejected).copied().collect();
        let rejected_below = rejected.iter().filter(|&&n| n < highest).count() as u64;
        let missing: Vec<u64> = (1..highest)
            .filter(|n| !accounted.contains(n))
            .take(100)
            .collect();
        report.push(DeviceCompleteness {
            device_id,
            device_name,
            enumerator_id,
            enumerator_name,
            revoked,
            received: numbers.len() as u64,
            highest_seq: highest,
            missing_count: highest.saturating_sub(numbers.len() as u64 + rejected_below),
            missing,
            rejected_count: rejected.len() as u64,
            rejected: rejected.into_iter().take(100).collect(),
        });
    }
    Ok(report)
}
