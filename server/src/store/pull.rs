//! What a pull page reads ([`crate::pull`] builds the page from it): households of a device's
//! regions changed after a cursor, from the (region, change_seq) index first and then only the
//! page's rows; decisions for the device's enumerator and on households; areas taken from it.

use super::Conn;
use crate::db::DbError;

/// A change after the cursor: its change number, the household's row, and the region it was
/// found in (its place in the regions asked for), which names the row's partition on PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub seq: i64,
    row: i64,
    region: usize,
}

/// A changed household as stored: its state as the text its hash was taken of.
#[derive(Debug)]
pub struct ChangedHousehold {
    pub state: String,
    pub hash: String,
    pub region: String,
    pub rw: Option<String>,
    pub rt: Option<String>,
    pub household_id: String,
}

/// A decision on a household (addressed to no one), with where the household lies.
#[derive(Debug)]
pub struct DecisionOnHousehold {
    pub seq: i64,
    pub body: String,
    pub region: String,
    pub rw: Option<String>,
    pub rt: Option<String>,
}

/// An area taken from an enumerator, with the change number of its removal.
#[derive(Debug)]
pub struct TakenArea {
    pub region: String,
    pub rw: Option<String>,
    pub rt: Option<String>,
    pub seq: i64,
}

/// A household's id and its place within its region.
#[derive(Debug)]
pub struct Placed {
    pub household_id: String,
    pub rw: Option<String>,
    pub rt: Option<String>,
}

/// Up to `fetch` changes of each region after `after`, from the index alone.
pub fn changes_after(
    conn: Conn<'_>,
    regions: &[String],
    after: i64,
    fetch: i64,
) -> Result<Vec<Change>, DbError> {
    // The row's own number: SQLite's rowid, PostgreSQL's row_id.
    let next_in_region = if conn.is_postgres() {
        "SELECT change_seq, row_id FROM households
         WHERE region = ?1 AND change_seq > ?2 ORDER BY change_seq LIMIT ?3"
    } else {
        "SELECT change_seq, rowid FROM households
         WHERE region = ?1 AND change_seq > ?2 ORDER BY change_seq LIMIT ?3"
    };
    let mut changes = Vec::new();
    for (n, region) in regions.iter().enumerate() {
        changes.extend(conn.rows(next_in_region, &[region, &after, &fetch], |r| {
            Ok(Change {
                seq: r.get(0)?,
                row: r.get(1)?,
                region: n,
            })
        })?);
    }
    Ok(changes)
}

/// How many changes of `regions` follow `after`.
pub fn changes_remaining(conn: Conn<'_>, regions: &[String], after: i64) -> Result<u64, DbError> {
    let mut remaining = 0;
    for region in regions {
        remaining += conn.value::<i64>(
            "SELECT count(*) FROM households WHERE region = ?1 AND change_seq > ?2",
            &[region, &after],
        )?;
    }
    Ok(u64::try_from(remaining).unwrap_or(0))
}

/// The households of `changes` (found in `regions` by [`changes_after`]), in their order.
pub fn changed_households(
    conn: Conn<'_>,
    regions: &[String],
    changes: &[Change],
) -> Result<Vec<ChangedHousehold>, DbError> {
    let row_of = if conn.is_postgres() {
        "SELECT state, state_hash, region, rw, rt, household_id FROM households
         WHERE row_id = ?1 AND region = ?2"
    } else {
        "SELECT state, state_hash, region, rw, rt, household_id FROM households
         WHERE rowid = ?1 AND region = ?2"
    };
    changes
        .iter()
        .map(|change| {
            let region = regions.get(change.region).ok_or_else(|| {
                DbError::Inconsistent("a change of a region not asked for".into())
            })?;
            conn.row(row_of, &[&change.row, region], |r| {
                Ok(ChangedHousehold {
                    state: r.get(0)?,
                    hash: r.get(1)?,
                    region: r.get(2)?,
                    rw: r.get(3)?,
                    rt: r.get(4)?,
                    household_id: r.get(5)?,
                })
            })
        })
        .collect()
}

/// Decisions addressed to `enumerator` in (`after`, `upto`]: change number and body.
pub fn decisions_for(
    conn: Conn<'_>,
    enumerator: &str,
    after: i64,
    upto: i64,
) -> Result<Vec<(i64, String)>, DbError> {
    conn.rows(
        "SELECT r.change_seq, r.body FROM review_recipients p
         JOIN reviews r ON r.review_id = p.review_id
         WHERE p.enumerator_id = ?1 AND p.change_seq > ?2 AND p.change_seq <= ?3",
        &[&enumerator, &after, &upto],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Decisions on households, addressed to no one, in (`after`, `upto`].
pub fn decisions_on_households(
    conn: Conn<'_>,
    after: i64,
    upto: i64,
) -> Result<Vec<DecisionOnHousehold>, DbError> {
    conn.rows(
        "SELECT r.change_seq, r.body, h.region, h.rw, h.rt FROM reviews r
         JOIN households h ON h.household_id = r.household_id
         WHERE r.enumerator_id IS NULL AND r.change_seq > ?1 AND r.change_seq <= ?2",
        &[&after, &upto],
        |r| {
            Ok(DecisionOnHousehold {
                seq: r.get(0)?,
                body: r.get(1)?,
                region: r.get(2)?,
                rw: r.get(3)?,
                rt: r.get(4)?,
            })
        },
    )
}

/// Areas taken from `enumerator` in (`after`, `upto`], in the order they were taken.
pub fn areas_taken(
    conn: Conn<'_>,
    enumerator: &str,
    after: i64,
    upto: i64,
) -> Result<Vec<TakenArea>, DbError> {
    conn.rows(
        "SELECT region, rw, rt, removed_seq FROM areas
         WHERE enumerator_id = ?1 AND removed_seq > ?2 AND removed_seq <= ?3
         ORDER BY removed_seq",
        &[&enumerator, &after, &upto],
        |r| {
            Ok(TakenArea {
                region: r.get(0)?,
                rw: r.get(1)?,
                rt: r.get(2)?,
                seq: r.get(3)?,
            })
        },
    )
}

/// Every household of `region`, with its place.
pub fn households_of(conn: Conn<'_>, region: &str) -> Result<Vec<Placed>, DbError> {
    conn.rows(
        "SELECT household_id, rw, rt FROM households WHERE region = ?1",
        &[&region],
        |r| {
            Ok(Placed {
                household_id: r.get(0)?,
                rw: r.get(1)?,
                rt: r.get(2)?,
            })
        },
    )
}

/// The highest number of `device` the server holds, accepted or rejected (after a restore from a
/// backup the phone sends again what it had acknowledged above it), from the (device_id,
/// device_seq) indexes.
pub fn stored_up_to(conn: Conn<'_>, device: &str) -> Result<i64, DbError> {
    conn.value(
        "SELECT coalesce(max(seq), 0) FROM (
             SELECT max(device_seq) AS seq FROM visits WHERE device_id = ?1
             UNION ALL SELECT max(device_seq) FROM rejected_seqs WHERE device_id = ?1) AS held",
        &[&device],
    )
}
