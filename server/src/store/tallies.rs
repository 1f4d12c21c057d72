//! The tallies the writer keeps as visits arrive ([`crate::tallies`] counts what a push adds):
//! visits per village and district day, enumerators per village and day, flagged visits waiting
//! per village, and visits per village and map cell. Villages of a region are read as the code
//! range `[from, to)` ([`crate::reports::code_range`]).

use super::Conn;
use crate::db::DbError;

/// Adds `visits` to a village's day.
pub fn add_to_day(conn: Conn<'_>, region: &str, day: i64, visits: i64) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO visit_days (region, day, visits) VALUES (?1, ?2, ?3)
         ON CONFLICT (region, day) DO UPDATE SET visits = visit_days.visits + excluded.visits",
        &[&region, &day, &visits],
    )?;
    Ok(())
}

/// Notes that `enumerator` worked in a village on a day.
pub fn add_worker(conn: Conn<'_>, region: &str, day: i64, enumerator: &str) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO enumerator_days (region, day, enumerator_id) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
        &[&region, &day, &enumerator],
    )?;
    Ok(())
}

/// Adds `visits` flagged visits to those waiting in a village.
pub fn add_flagged(conn: Conn<'_>, region: &str, visits: i64) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO flagged_waiting (region, visits) VALUES (?1, ?2)
         ON CONFLICT (region) DO UPDATE SET visits = flagged_waiting.visits + excluded.visits",
        &[&region, &visits],
    )?;
    Ok(())
}

/// What a push adds to one cell of a village.
#[derive(Debug, Default)]
pub struct CellAdded<'a> {
    pub visits: i64,
    pub flagged: i64,
    pub lat_sum: f64,
    pub lon_sum: f64,
    /// The first household of the push in the cell; the cell keeps the first one it ever had.
    pub household_id: &'a str,
}

pub fn add_to_cell(
    conn: Conn<'_>,
    (region, cy, cx): (&str, i64, i64),
    added: &CellAdded<'_>,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO visit_cells (region, cy, cx, visits, flagged, lat_sum, lon_sum, household_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (region, cy, cx) DO UPDATE SET visits = visit_cells.visits + excluded.visits,
             flagged = visit_cells.flagged + excluded.flagged,
             lat_sum = visit_cells.lat_sum + excluded.lat_sum,
             lon_sum = visit_cells.lon_sum + excluded.lon_sum",
        &[
            &region,
            &cy,
            &cx,
            &added.visits,
            &added.flagged,
            &added.lat_sum,
            &added.lon_sum,
            &added.household_id,
        ],
    )?;
    Ok(())
}

/// Visits in the villages `[from, to)` from the district's day `first` to `last`, both included.
pub fn visits_between(
    conn: Conn<'_>,
    (from, to): (&str, &str),
    first: i64,
    last: i64,
) -> Result<u64, DbError> {
    let visits: i64 = conn.value(
        "SELECT CAST(coalesce(sum(visits), 0) AS BIGINT) FROM visit_days
         WHERE region >= ?1 AND region < ?2 AND day BETWEEN ?3 AND ?4",
        &[&from, &to, &first, &last],
    )?;
    Ok(count(visits))
}

/// The work done in a place and what of it waits for a supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    pub visits_today: u64,
    pub visits_this_week: u64,
    pub enumerators_active_today: u64,
    /// Flagged visits no supervisor has decided on yet.
    pub flagged_waiting: u64,
}

impl Work {
    /// The four counts, in this order, of a row a query answered.
    pub(super) fn read(r: &super::sql::Row<'_>) -> Result<Self, DbError> {
        Ok(Self {
            visits_today: count(r.get(0)?),
            visits_this_week: count(r.get(1)?),
            enumerators_active_today: count(r.get(2)?),
            flagged_waiting: count(r.get(3)?),
        })
    }
}

/// The work in the villages `[from, to)` since the district's day `today` and since
/// `week_start` (both day numbers).
pub fn work_since(
    conn: Conn<'_>,
    (from, to): (&str, &str),
    today: i64,
    week_start: i64,
) -> Result<Work, DbError> {
    conn.row(
        "SELECT CAST((SELECT coalesce(sum(visits), 0) FROM visit_days
                      WHERE region >= ?1 AND region < ?2 AND day >= ?3) AS BIGINT),
                CAST((SELECT coalesce(sum(visits), 0) FROM visit_days
                      WHERE region >= ?1 AND region < ?2 AND day >= ?4) AS BIGINT),
                (SELECT count(DISTINCT enumerator_id) FROM enumerator_days
                 WHERE region >= ?1 AND region < ?2 AND day = ?3),
                CAST((SELECT coalesce(sum(visits), 0) FROM flagged_waiting
                      WHERE region >= ?1 AND region < ?2) AS BIGINT)",
        &[&from, &to, &today, &week_start],
        Work::read,
    )
}

/// One cluster read from the tallies: its cell at the asked zoom, and what it sums.
#[derive(Debug)]
pub struct CellSum {
    pub visits: u64,
    pub flagged: u64,
    pub lat: f64,
    pub lon: f64,
    pub household_id: String,
}

/// The tallied cells of the villages `[from, to)` whose fine cell lies in the given ranges of
/// rows and columns, merged into cells `2^shift` times larger.
pub fn cells(
    conn: Conn<'_>,
    (from, to): (&str, &str),
    rows: (i64, i64),
    columns: (i64, i64),
    shift: u8,
) -> Result<Vec<CellSum>, DbError> {
    conn.rows(
        "SELECT cy >> ?1 AS y, cx >> ?1 AS x, CAST(sum(visits) AS BIGINT),
                CAST(sum(flagged) AS BIGINT), sum(lat_sum) / sum(visits),
                sum(lon_sum) / sum(visits), min(household_id)
         FROM visit_cells
         WHERE region >= ?2 AND region < ?3 AND cy BETWEEN ?4 AND ?5 AND cx BETWEEN ?6 AND ?7
         GROUP BY y, x",
        // PostgreSQL shifts a BIGINT by an INTEGER.
        &[
            &i32::from(shift),
            &from,
            &to,
            &rows.0,
            &rows.1,
            &columns.0,
            &columns.1,
        ],
        |r| {
            Ok(CellSum {
                visits: count(r.get(2)?),
                flagged: count(r.get(3)?),
                lat: r.get(4)?,
                lon: r.get(5)?,
                household_id: r.get(6)?,
            })
        },
    )
}

/// A count as read (never negative).
pub(super) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
