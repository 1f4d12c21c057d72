//! What supervisors count: progress per child region, and per-device completeness (which
//! `device_seq` never arrived). Reports read the verdict columns kept beside each state, never
//! the states themselves.

use serde::{Deserialize, Serialize};
use verivali_core::model::{Code, RegionCode, RegionLevel, Rw, Timestamp};

use crate::db::DbError;
use crate::store::{self, Conn};
use crate::tallies;

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
    /// The RW the rows are RTs of, when the report is about one RW of a village.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rw: Option<String>,
    pub rows: Vec<ProgressRow>,
    pub total: ProgressRow,
}

/// A place a report is about: a region, or one RW of a village (`-`: households whose RW is
/// not known yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub region: RegionCode,
    pub rw: Option<String>,
}

impl Place {
    pub fn region(region: RegionCode) -> Self {
        Self { region, rw: None }
    }

    /// `region` with `rw` as asked in a query: an RW only inside a village.
    pub fn parse(region: RegionCode, rw: Option<&str>) -> Result<Self, crate::error::ApiError> {
        let rw = match rw.map(str::trim).filter(|r| !r.is_empty()) {
            None => None,
            Some(_) if region.level() != RegionLevel::Village => {
                return Err(bad_rw());
            }
            Some("-") => Some("-".to_owned()),
            Some(r) => Some(Rw::parse(r).map_err(|_| bad_rw())?.as_str().to_owned()),
        };
        Ok(Self { region, rw })
    }
}

fn bad_rw() -> crate::error::ApiError {
    let mut e = crate::error::ApiError::bad_request(crate::error::BAD_FILTER);
    e.body.field = Some("rw".into());
    e
}

impl ProgressRow {
    /// Counts `n` households of one target status and verdict.
    fn add(&mut self, verdict: &store::reports::VerdictGroup, n: u64) {
        let is = |field: &Option<String>, value: &str| u64::from(field.as_deref() == Some(value));
        self.targets += n;
        self.visited += n * u64::from(verdict.status != "NOT_VISITED");
        self.found += n * is(&verdict.outcome, "FOUND");
        self.needs_review += n * u64::from(verdict.status == "NEEDS_REVIEW");
        self.approved += n * u64::from(verdict.status == "APPROVED");
        self.extreme_poor += n * is(&verdict.assessment, "EXTREME_POOR");
        self.poor += n * is(&verdict.assessment, "POOR");
        self.vulnerable += n * is(&verdict.assessment, "VULNERABLE");
        self.not_poor += n * is(&verdict.assessment, "NOT_POOR");
        self.recommend_remove += n * is(&verdict.recommendation, "REMOVE");
    }

    fn add_row(&mut self, other: &ProgressRow) {
        self.targets += other.targets;
        self.visited += other.visited;
        self.found += other.found;
        self.needs_review += other.needs_review;
        self.approved += other.approved;
        self.extreme_poor += other.extreme_poor;
        self.poor += other.poor;
        self.vulnerable += other.vulnerable;
        self.not_poor += other.not_poor;
        self.recommend_remove += other.recommend_remove;
    }
}

/// What one reading of the place's households gives: its progress rows, and the households
/// enumerators proposed and visited (the proposals queue).
struct HouseholdCounts {
    rows: Vec<ProgressRow>,
    proposals: u64,
}

/// Counts the place's households by child and verdict, from the verdict columns beside each
/// state (never the states), added up here.
fn count_households(conn: Conn<'_>, place: &Place) -> Result<HouseholdCounts, DbError> {
    let region = &place.region;
    let (from, to) = code_range(region);
    let in_village = region.level() == RegionLevel::Village;
    let mut children: std::collections::BTreeMap<String, ProgressRow> = Default::default();
    let mut proposals = 0;
    let child_len = match region.level() {
        RegionLevel::Province => 5,
        RegionLevel::Regency => 8,
        RegionLevel::District | RegionLevel::Village => 64,
    };
    for group in store::reports::households_by_verdict(conn, (&from, &to), child_len, in_village)? {
        let n = group.households;
        let rw = group.rw.clone().unwrap_or_else(|| "-".into());
        if place.rw.as_ref().is_some_and(|wanted| *wanted != rw) {
            continue;
        }
        if group.target_status == "PROPOSED" && group.status != "NOT_VISITED" {
            proposals += n;
        }
        if group.target_status != "ACTIVE" {
            continue;
        }
        let child = match (region.level(), &place.rw) {
            (RegionLevel::Village, None) => format!("RW {rw}"),
            (RegionLevel::Village, Some(_)) => {
                format!("RT {}", group.rt.as_deref().unwrap_or("-"))
            }
            _ => group.child.clone(),
        };
        children
            .entry(child)
            .or_insert_with_key(|key| ProgressRow {
                key: key.clone(),
                ..ProgressRow::default()
            })
            .add(&group, n);
    }
    let rows = children
        .into_values()
        .map(|mut row| {
            row.name = store::reports::region_name(conn, &row.key)?;
            Ok(row)
        })
        .collect::<Result<_, DbError>>()?;
    Ok(HouseholdCounts { rows, proposals })
}

/// Progress of every child of the place: regencies of a province, districts of a regency,
/// villages of a district, RWs of a village, RTs of an RW.
pub fn progress(conn: Conn<'_>, place: &Place) -> Result<Progress, DbError> {
    Ok(progress_and_proposals(conn, place)?.0)
}

fn progress_and_proposals(conn: Conn<'_>, place: &Place) -> Result<(Progress, u64), DbError> {
    let counts = count_households(conn, place)?;
    let mut total = ProgressRow {
        key: place.region.to_string(),
        ..ProgressRow::default()
    };
    total.name = store::reports::region_name(conn, place.region.as_str())?;
    for row in &counts.rows {
        total.add_row(row);
    }
    let progress = Progress {
        region: place.region.to_string(),
        rw: place.rw.clone(),
        rows: counts.rows,
        total,
    };
    Ok((progress, counts.proposals))
}

/// Each region's name as the region list has it (its code when the list lacks it), in order.
pub fn region_names(
    conn: Conn<'_>,
    regions: &[RegionCode],
) -> Result<Vec<(String, String)>, DbError> {
    regions
        .iter()
        .map(|r| {
            let name = store::reports::region_name(conn, r.as_str())?;
            Ok((r.to_string(), name.unwrap_or_else(|| r.to_string())))
        })
        .collect()
}

/// How complete one phone's visits are on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCompleteness {
    pub device_id: String,
    pub device_name: String,
    pub enumerator_id: String,
    pub enumerator_name: String,
    pub revoked: bool,
    /// The phone's last call to the server (push, pull or photo), within a few minutes.
    pub last_sync_at: Option<Timestamp>,
    /// Distinct `device_seq` numbers received.
    pub received: u64,
    pub highest_seq: u64,
    /// The highest number the phone said it had finished (each push carries it), 0 if it never
    /// said: numbers up to it that never arrived are missing too.
    pub finished_seq: u64,
    /// Numbers up to the highest received or finished that never arrived: visits finished on the
    /// phone and not here.
    pub missing_count: u64,
    /// The first missing numbers (at most 100).
    pub missing: Vec<u64>,
    /// Numbers the server rejected (the phone reopened each visit as a draft, which gets a new
    /// number): accounted for, not missing. The first 100.
    pub rejected: Vec<u64>,
    pub rejected_count: u64,
}

/// Completeness of `region` as it stands now: what the API and the page read.
pub async fn completeness_now(
    db: &crate::db::Db,
    region: RegionCode,
) -> Result<Vec<DeviceCompleteness>, crate::error::ApiError> {
    Ok(db.read(move |conn| completeness(conn, &region)).await?)
}

/// Completeness of every device whose enumerator works inside `region`.
pub fn completeness(
    conn: Conn<'_>,
    region: &RegionCode,
) -> Result<Vec<DeviceCompleteness>, DbError> {
    let (from, to) = code_range(region);
    let phones = store::reports::phones_of_region(conn, (&from, &to))?;
    let mut report = Vec::with_capacity(phones.len());
    for phone in phones {
        let numbers = store::reports::numbers_received(conn, &phone.device_id)?;
        let rejected = store::reports::numbers_rejected(conn, &phone.device_id)?;
        let finished = phone.finished_seq;
        let highest = numbers.last().copied().unwrap_or(0);
        // Up to the highest received or finished: neither received nor rejected.
        let top = highest.max(finished);
        let accounted: std::collections::BTreeSet<u64> =
            numbers.iter().chain(&rejected).copied().collect();
        let rejected_below = rejected.iter().filter(|&&n| n <= top).count() as u64;
        let missing: Vec<u64> = (1..=top)
            .filter(|n| !accounted.contains(n))
            .take(100)
            .collect();
        report.push(DeviceCompleteness {
            device_id: phone.device_id,
            device_name: phone.device_name,
            enumerator_id: phone.enumerator_id,
            enumerator_name: phone.enumerator_name,
            revoked: phone.revoked,
            last_sync_at: phone.last_seen_at.map(Timestamp::from_unix_millis),
            received: numbers.len() as u64,
            highest_seq: highest,
            finished_seq: finished,
            missing_count: top.saturating_sub(numbers.len() as u64 + rejected_below),
            missing,
            rejected_count: rejected.len() as u64,
            rejected: rejected.into_iter().take(100).collect(),
        });
    }
    Ok(report)
}

/// The dashboard's figures for a region: its progress, today's and this week's work, and how
/// much waits in each queue. "Today" is the district's own day (WIB, WITA or WIT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub progress: Progress,
    /// Visits finished (corrected time) since the district's midnight.
    pub visits_today: u64,
    /// Since the district's Monday midnight.
    pub visits_this_week: u64,
    /// Enumerators who finished a visit since the district's midnight.
    pub enumerators_active_today: u64,
    pub queues: QueueCounts,
    /// The UTC offset of the district's day, in hours.
    pub utc_offset_hours: i8,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCounts {
    /// Households whose enumerators disagree (NEEDS_REVIEW).
    pub conflicts: u64,
    /// Pairs of suspected duplicates not yet dismissed or merged.
    pub duplicates: u64,
    /// Visits that carry a flag (LEFT_AREA, CLOCK_SKEW, FUTURE_TIME, a validation warning) and
    /// wait for a decision.
    pub flagged_visits: u64,
    /// Households proposed by enumerators and not yet accepted onto the target list or
    /// rejected (every visit of a rejected one is returned).
    pub proposals: u64,
}

/// Indonesia's three time zones by province: WIT for Maluku and Papua, WITA for Bali, Nusa
/// Tenggara, Kalimantan Selatan, Timur and Utara and Sulawesi, WIB for the rest.
pub fn utc_offset_hours(region: &RegionCode) -> i8 {
    match region.as_str().get(..2) {
        Some("81" | "82" | "91" | "92" | "93" | "94" | "95" | "96") => 9,
        Some("51" | "52" | "53" | "63" | "64" | "65" | "71" | "72" | "73" | "74" | "75" | "76") => {
            8
        }
        _ => 7,
    }
}

/// The name of an offset's zone: WIB, WITA or WIT.
pub fn zone_name(offset_hours: i8) -> &'static str {
    match offset_hours {
        9 => "WIT",
        8 => "WITA",
        _ => "WIB",
    }
}

/// A time as the district reads it: `2026-12-02 09:15 WIB`.
pub fn local_time(t: Timestamp, offset_hours: i8) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    let offset = time::UtcOffset::from_hms(offset_hours, 0, 0).unwrap_or(time::UtcOffset::UTC);
    match t.0.to_offset(offset).format(format) {
        Ok(text) => format!("{text} {}", zone_name(offset_hours)),
        Err(_) => format!("{:?}", t.0),
    }
}

/// The district's day that holds `now` and the Monday of its week, as day numbers of
/// [`tallies::local_day`].
fn day_and_week_start(now: Timestamp, offset_hours: i8) -> (i64, i64) {
    let day = tallies::local_day(now.unix_millis(), offset_hours);
    // 1970-01-01 was a Thursday: days since a Monday are (day + 3) mod 7.
    (day, day - (day + 3).rem_euclid(7))
}

/// The overview of `region` as it stands now.
pub async fn overview_now(
    db: &crate::db::Db,
    place: Place,
) -> Result<Overview, crate::error::ApiError> {
    let now = Timestamp::now_utc();
    Ok(db.read(move |conn| overview(conn, &place, now)).await?)
}

pub fn overview(conn: Conn<'_>, place: &Place, now: Timestamp) -> Result<Overview, DbError> {
    let (progress, proposals) = progress_and_proposals(conn, place)?;
    let offset = utc_offset_hours(&place.region);
    let (today, week) = day_and_week_start(now, offset);
    let (from, to) = code_range(&place.region);
    let work = match &place.rw {
        None => tallies::work_since(conn, &place.region, today, week)?,
        // The tallies go down to villages; an RW holds a few hundred households.
        Some(rw) => store::reports::rw_work_since(
            conn,
            place.region.as_str(),
            rw,
            (
                tallies::day_start(today, offset),
                tallies::day_start(week, offset),
            ),
        )?,
    };
    // A pair counts in an RW when either household lives there.
    let duplicates = store::reports::duplicates_waiting(conn, (&from, &to), place.rw.as_deref())?;
    Ok(Overview {
        queues: QueueCounts {
            conflicts: progress.total.needs_review,
            duplicates,
            flagged_visits: work.flagged_waiting,
            proposals,
        },
        progress,
        visits_today: work.visits_today,
        visits_this_week: work.visits_this_week,
        enumerators_active_today: work.enumerators_active_today,
        utc_offset_hours: offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_and_the_week_start_at_the_districts_midnight() {
        let day_of = |t: &str, offset| {
            tallies::local_day(Timestamp::parse(t).unwrap().unix_millis(), offset)
        };
        // Wednesday 2026-12-02 01:30 WIB is Tuesday 18:30 UTC; its week began on Monday 30
        // November at 00:00 WIB.
        let now = Timestamp::parse("2026-12-01T18:30:00Z").unwrap();
        let (day, week) = day_and_week_start(now, 7);
        assert_eq!(day, day_of("2026-12-01T17:00:00Z", 7));
        assert_eq!(day, day_of("2026-12-01T16:59:59Z", 7) + 1);
        assert_eq!(week, day_of("2026-11-29T17:00:00Z", 7));
        assert_eq!(week, day - 2);
        // In Papua (UTC+9) it is Wednesday 03:30, a day that began at 15:00 UTC.
        let (day, _) = day_and_week_start(now, 9);
        assert_eq!(day, day_of("2026-12-01T15:00:00Z", 9));
        assert_eq!(day, day_of("2026-12-01T14:59:59Z", 9) + 1);
    }

    #[test]
    fn provinces_keep_their_time_zones() {
        let zone = |code: &str| utc_offset_hours(&RegionCode::parse(code).unwrap());
        assert_eq!(zone("16.04"), 7);
        assert_eq!(zone("51.71"), 8);
        assert_eq!(zone("94.71.01"), 9);
    }
}
