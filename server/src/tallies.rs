//! Tallies the writer keeps as visits arrive, so that the dashboard and the map of a kabupaten
//! read a few thousand small rows instead of half a million visits: visits per village and
//! district day, the enumerators who worked in a village on a day, the households visited in
//! each campaign (per village), flagged visits waiting for a
//! decision per village, and visits per village and cell of a fine map grid. Visits never change
//! and are never deleted, and each tally is written in the transaction that stores its visits
//! (a decision takes its visit out of the flagged tally by a trigger, schema.rs), so a tally is
//! always its visits' count.

use std::collections::{BTreeMap, BTreeSet};

use verivali_core::model::{Code, RegionCode};

use crate::db::DbError;
use crate::reports::{code_range, utc_offset_hours};
use crate::store::{self, Conn, tallies::CellAdded};

pub use crate::store::tallies::{CellSum, Work};

const DAY_MS: i64 = 86_400_000;

/// The zoom whose grid the map's cells are tallied on (cells of about 600 m); a coarser zoom's
/// cell is exactly 2^k of these, since every grid is counted from (-90, -180) in halvings.
pub const CELL_ZOOM: u8 = 14;

/// The size in degrees of the map's cluster cells at `zoom`: four across a 256 px tile.
pub fn cell_deg(zoom: u8) -> f64 {
    360.0 / 2f64.powi(i32::from(zoom)) / 4.0
}

/// The cell of the `CELL_ZOOM` grid holding a point, counted from (-90, -180).
pub fn cell_of(lat: f64, lon: f64) -> (i64, i64) {
    let size = cell_deg(CELL_ZOOM);
    (
        ((lat + 90.0) / size).floor() as i64,
        ((lon + 180.0) / size).floor() as i64,
    )
}

/// The number of the district's day (in its own zone: WIB, WITA or WIT) that holds `unix_ms`.
pub fn local_day(unix_ms: i64, offset_hours: i8) -> i64 {
    (unix_ms + i64::from(offset_hours) * 3_600_000).div_euclid(DAY_MS)
}

/// The first millisecond (unix) of the district's day number `day`.
pub fn day_start(day: i64, offset_hours: i8) -> i64 {
    day * DAY_MS - i64::from(offset_hours) * 3_600_000
}

/// The day of the village's district that holds `unix_ms`.
fn village_day(village: &str, unix_ms: i64) -> i64 {
    let offset = RegionCode::parse(village)
        .map(|r| utc_offset_hours(&r))
        .unwrap_or(7);
    local_day(unix_ms, offset)
}

/// Visits in the villages of `region` from the district's day `first` to `last`, both included.
pub fn visits_between(
    conn: Conn<'_>,
    region: &RegionCode,
    first: i64,
    last: i64,
) -> Result<u64, DbError> {
    let (from, to) = code_range(region);
    store::tallies::visits_between(conn, (&from, &to), first, last)
}

/// One stored visit, as the tallies count it.
#[derive(Debug)]
pub struct TalliedVisit<'a> {
    /// The village of the visit's household.
    pub region: &'a str,
    pub enumerator_id: &'a str,
    pub household_id: &'a str,
    /// The campaign the visit belongs to, if any.
    pub campaign_id: Option<&'a str>,
    /// Corrected finishing time, unix ms.
    pub order_time: i64,
    pub flagged: bool,
    pub point: Option<(f64, f64)>,
}

/// Adds a push's stored visits to the tallies: one upsert per village and day, per enumerator,
/// per cell, not per visit.
pub fn add(tx: Conn<'_>, visits: &[TalliedVisit<'_>]) -> Result<(), DbError> {
    let mut days: BTreeMap<(&str, i64), i64> = BTreeMap::new();
    let mut in_campaigns: BTreeSet<(&str, &str, &str)> = BTreeSet::new();
    let mut flagged: BTreeMap<&str, i64> = BTreeMap::new();
    let mut workers: BTreeSet<(&str, i64, &str)> = BTreeSet::new();
    let mut cells: BTreeMap<(&str, i64, i64), CellAdded<'_>> = BTreeMap::new();
    for v in visits {
        let day = village_day(v.region, v.order_time);
        *days.entry((v.region, day)).or_default() += 1;
        if let Some(campaign) = v.campaign_id {
            in_campaigns.insert((campaign, v.region, v.household_id));
        }
        workers.insert((v.region, day, v.enumerator_id));
        if v.flagged {
            *flagged.entry(v.region).or_default() += 1;
        }
        if let Some((lat, lon)) = v.point {
            let (cy, cx) = cell_of(lat, lon);
            let cell = cells.entry((v.region, cy, cx)).or_default();
            cell.visits += 1;
            cell.flagged += i64::from(v.flagged);
            cell.lat_sum += lat;
            cell.lon_sum += lon;
            if cell.household_id.is_empty() {
                cell.household_id = v.household_id;
            }
        }
    }
    for ((region, day), n) in days {
        store::tallies::add_to_day(tx, region, day, n)?;
    }
    for (campaign, region, household) in in_campaigns {
        store::campaigns::count_visited(tx, campaign, region, household)?;
    }
    for (region, day, enumerator) in workers {
        store::tallies::add_worker(tx, region, day, enumerator)?;
    }
    for (region, n) in flagged {
        store::tallies::add_flagged(tx, region, n)?;
    }
    // The first household seen in a cell stays: it is the cluster's while the cell has one visit.
    for (cell, added) in cells {
        store::tallies::add_to_cell(tx, cell, &added)?;
    }
    Ok(())
}

/// The work in the villages of `region` since the district's day `today` and since
/// `week_start` (both day numbers).
pub fn work_since(
    conn: Conn<'_>,
    region: &RegionCode,
    today: i64,
    week_start: i64,
) -> Result<Work, DbError> {
    let (from, to) = code_range(region);
    store::tallies::work_since(conn, (&from, &to), today, week_start)
}

/// The tallied cells of the villages of `region` whose fine cell lies in the given ranges of
/// rows and columns, merged into cells `2^shift` times larger.
pub fn cells(
    conn: Conn<'_>,
    region: &RegionCode,
    rows: (i64, i64),
    columns: (i64, i64),
    shift: u8,
) -> Result<Vec<CellSum>, DbError> {
    let (from, to) = code_range(region);
    store::tallies::cells(conn, (&from, &to), rows, columns, shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_coarse_cell_is_the_fine_cells_it_holds() {
        // Cells of zoom 10 are 16 × 16 cells of zoom 14, whatever the sign of the coordinate.
        for (lat, lon) in [(-3.31234, 103.4567), (0.0001, -0.0001), (5.5, 95.2)] {
            let (cy, cx) = cell_of(lat, lon);
            let coarse = cell_deg(10);
            assert_eq!(cy >> 4, ((lat + 90.0) / coarse).floor() as i64);
            assert_eq!(cx >> 4, ((lon + 180.0) / coarse).floor() as i64);
        }
    }

    #[test]
    fn the_district_day_turns_at_its_midnight() {
        // 2026-12-01T17:00Z is midnight of 2 December in WIB, 01:00 in WITA.
        let midnight_wib = 1_796_144_400_000;
        assert_eq!(
            local_day(midnight_wib, 7),
            local_day(midnight_wib - 1, 7) + 1
        );
        assert_eq!(local_day(midnight_wib - 1, 8), local_day(midnight_wib, 8));
    }
}
