//! Moving up (issue 16, item 6): a kabupaten's SQLite data copied into a province's PostgreSQL,
//! which may hold other kabupaten already. Stop the kabupaten's server first; the copy may be
//! run again (after an interruption, say) and copies only what is missing. Then every
//! household's `state_hash` is checked: as stored, and as merged again from the copied visits,
//! baselines and decisions, against the kabupaten's.
//!
//! Rows are written as the kabupaten holds them, keys and change numbers included (ids are
//! UUIDs, so kabupaten never collide; phones keep their pull cursors). Two things are the
//! province's own: its audit log numbers the entries it receives, and its change counter goes on
//! from the highest of both, so that a change made after the move is numbered above all.

use std::path::Path;

use verivali_core::model::HouseholdId;

use crate::attachments::Attachments;
use crate::db::{Db, DbError};
use crate::households::MergeInputs;
use crate::store::copy::{self, OnConflict, Table};
use crate::store::sql::Cell;

/// Every table copied, in an order their references allow; the tallies come after the reviews,
/// whose copy moved the province's tally of flagged visits, and take the kabupaten's counts.
const TABLES: &[(&str, OnConflict)] = &[
    ("regions", OnConflict::Keep),
    ("boundaries", OnConflict::Keep),
    ("households", OnConflict::Keep),
    ("baselines", OnConflict::Keep),
    ("visits", OnConflict::Keep),
    ("enumerators", OnConflict::Keep),
    ("areas", OnConflict::Keep),
    ("enrollment_codes", OnConflict::Keep),
    ("devices", OnConflict::Keep),
    ("household_keys", OnConflict::Keep),
    ("supervisors", OnConflict::Keep),
    ("sessions", OnConflict::Keep),
    ("reviews", OnConflict::Keep),
    ("review_recipients", OnConflict::Keep),
    ("attachment_holders", OnConflict::Keep),
    ("rejected_seqs", OnConflict::Keep),
    ("duplicates", OnConflict::Keep),
    ("target_imports", OnConflict::Keep),
    ("removal_candidates", OnConflict::Keep),
    ("campaigns", OnConflict::Keep),
    ("campaign_households", OnConflict::Keep),
    ("visit_days", OnConflict::Replace),
    ("enumerator_days", OnConflict::Replace),
    ("flagged_waiting", OnConflict::Replace),
    ("visit_cells", OnConflict::Replace),
    ("campaign_villages", OnConflict::Replace),
];

/// Not copied: the schema's own table (the change counter is carried on by hand), and state that
/// lives a minute (attempts against guessing, imports running).
const NOT_COPIED: &[&str] = &["meta", "attempts", "running_imports"];

/// Rows per transaction on the province's database.
const PAGE: i64 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("no database in {0}")]
    NoDatabase(std::path::PathBuf),
    #[error("the kabupaten's database holds a table the copy does not know: {0}")]
    UnknownTable(String),
    #[error("copying {table}: {error}")]
    Copy { table: &'static str, error: DbError },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("photos: {0}")]
    Photos(#[from] crate::attachments::PhotoError),
}

/// What a move copied and found.
#[derive(Debug, Default)]
pub struct Moved {
    /// (table, rows read, rows written now).
    pub tables: Vec<(&'static str, u64, u64)>,
    pub audit_entries: u64,
    pub photos_copied: u64,
    pub households_checked: u64,
    /// Households whose state differs on the province's database (ids), at most 20.
    pub differing: Vec<String>,
    pub differing_count: u64,
}

/// Copies `data_dir`'s SQLite database into `target` (and its photos into `photos_to`, the data
/// directory the province's servers share), then checks every household.
pub fn migrate(
    data_dir: &Path,
    target: &Db,
    photos_to: Option<&Path>,
) -> Result<Moved, MigrateError> {
    if !data_dir.join("verivali.db").exists() {
        return Err(MigrateError::NoDatabase(data_dir.to_path_buf()));
    }
    let source = Db::open(data_dir)?;
    let moved = copy_all(&source, target).and_then(|mut moved| {
        if let Some(to) = photos_to {
            moved.photos_copied = Attachments::new(data_dir).copy_into(&Attachments::new(to))?;
        }
        check(&source, target, &mut moved)?;
        Ok(moved)
    });
    source.close();
    moved
}

fn copy_all(source: &Db, target: &Db) -> Result<Moved, MigrateError> {
    let names = source.read_blocking(copy::sqlite_tables)?;
    if let Some(unknown) = names.iter().find(|name| {
        !NOT_COPIED.contains(&name.as_str())
            && name.as_str() != "audit_log"
            && !TABLES.iter().any(|(table, _)| table == name)
    }) {
        return Err(MigrateError::UnknownTable(unknown.clone()));
    }
    let mut moved = Moved::default();
    for (name, on_conflict) in TABLES {
        let table = source.read_blocking(|c| copy::sqlite_table(c, name))?;
        let (read, written) = copy_table(source, target, &table, *on_conflict)
            .map_err(|error| MigrateError::Copy { table: name, error })?;
        moved.tables.push((name, read, written));
    }
    moved.audit_entries = copy_audit(source, target)?;
    // The province's counter goes on above every number either database gave.
    let counter = source.read_blocking(|c| copy::meta(c, "change_seq"))?;
    let counter: i64 = counter.and_then(|v| v.parse().ok()).unwrap_or(0);
    target.write_blocking(move |tx| {
        let held: i64 = copy::meta(tx, "change_seq")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        copy::set_meta(tx, "change_seq", &held.max(counter).to_string())
    })?;
    Ok(moved)
}

/// Reads `table` from the kabupaten page by page, from after the row whose order values are
/// `after`, and hands each page to `each` (a row: its columns' values, then its order values).
fn each_page(
    source: &Db,
    table: &Table,
    mut after: Option<Vec<Cell>>,
    mut each: impl FnMut(Vec<Vec<Cell>>) -> Result<(), DbError>,
) -> Result<(), DbError> {
    loop {
        let (from, last) = (table.clone(), after.clone());
        let rows = source.read_blocking(move |c| copy::page(c, &from, last.as_deref(), PAGE))?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = Some(last[table.columns.len()..].to_vec());
        each(rows)?;
    }
}

/// Copies one table page by page, one transaction each; returns the rows read and written.
fn copy_table(
    source: &Db,
    target: &Db,
    table: &Table,
    on_conflict: OnConflict,
) -> Result<(u64, u64), DbError> {
    let (mut read, mut written) = (0, 0);
    let width = table.columns.len();
    each_page(source, table, None, |rows| {
        read += rows.len() as u64;
        let into = table.clone();
        written += target.write_blocking(move |tx| {
            let mut written = 0;
            for row in &rows {
                written += u64::from(copy::write(tx, &into, &row[..width], on_conflict)?);
            }
            Ok::<_, DbError>(written)
        })?;
        Ok(())
    })?;
    Ok((read, written))
}

/// Appends the kabupaten's audit log to the province's, from where the last run stopped: the
/// last entry copied is remembered with each page, in the page's transaction.
fn copy_audit(source: &Db, target: &Db) -> Result<u64, DbError> {
    let source_id = source.write_blocking(|tx| {
        if let Some(id) = copy::meta(tx, "database_id")? {
            return Ok::<_, DbError>(id);
        }
        let id = uuid::Uuid::new_v4().to_string();
        copy::set_meta(tx, "database_id", &id)?;
        Ok(id)
    })?;
    let marker = format!("audit_copied_from:{source_id}");
    let mut table = source.read_blocking(|c| copy::sqlite_table(c, "audit_log"))?;
    // Read by its number, written without it: the province numbers its own log.
    table.columns.retain(|c| c != "seq");
    let key = marker.clone();
    let copied: Option<i64> = target
        .read_blocking(move |c| copy::meta(c, &key))?
        .and_then(|v| v.parse().ok());
    let mut appended = 0;
    let width = table.columns.len();
    let after = copied.map(|seq| vec![Cell::Integer(seq)]);
    each_page(source, &table, after, |rows| {
        let Some(Cell::Integer(seq)) = rows.last().and_then(|last| last.get(width)).cloned() else {
            return Err(DbError::Inconsistent(
                "an audit entry without its number".into(),
            ));
        };
        appended += rows.len() as u64;
        let (into, marker) = (table.clone(), marker.clone());
        target.write_blocking(move |tx| {
            for row in &rows {
                copy::write(tx, &into, &row[..width], OnConflict::Keep)?;
            }
            copy::set_meta(tx, &marker, &seq.to_string())
        })
    })?;
    Ok(appended)
}

/// Every household of the kabupaten: stored with the same `state_hash` on both databases, and
/// merged again from what each holds to the same hash.
fn check(source: &Db, target: &Db, moved: &mut Moved) -> Result<(), DbError> {
    let mut after = String::new();
    loop {
        let from = after.clone();
        let page = source.read_blocking(move |c| {
            copy::household_hashes(c, &from, PAGE)?
                .into_iter()
                .map(|(id, stored)| Ok((id.clone(), stored, merged_hash(c, &id)?)))
                .collect::<Result<Vec<_>, DbError>>()
        })?;
        let Some((last, _, _)) = page.last() else {
            return Ok(());
        };
        after = last.clone();
        moved.households_checked += page.len() as u64;
        let differing = target.read_blocking(move |c| {
            let mut differing = Vec::new();
            for (id, stored, merged) in page {
                let held = copy::household_hash(c, &id)?;
                if held.as_ref() != Some(&stored) || merged_hash(c, &id)? != merged {
                    differing.push(id);
                }
            }
            Ok::<_, DbError>(differing)
        })?;
        moved.differing_count += differing.len() as u64;
        moved.differing.extend(differing);
        moved.differing.truncate(20);
    }
}

/// The hash of a household merged again from what `conn` holds of it.
fn merged_hash(conn: crate::store::Conn<'_>, id: &str) -> Result<String, DbError> {
    let id = HouseholdId::parse(id).map_err(|e| DbError::Inconsistent(e.to_string()))?;
    let (merged, _) = MergeInputs::read(conn, id)?.merge()?;
    Ok(merged.state_hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_tables() -> Vec<(String, Vec<String>)> {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let tables = db
            .read_blocking(|conn| {
                copy::sqlite_tables(conn)?
                    .into_iter()
                    .map(|name| {
                        let name: &'static str = name.leak();
                        let mut columns = copy::sqlite_table(conn, name)?.columns;
                        columns.sort();
                        Ok((name.to_owned(), columns))
                    })
                    .collect::<Result<Vec<_>, DbError>>()
            })
            .unwrap();
        db.close();
        tables
    }

    #[test]
    fn every_table_of_the_schema_is_copied_or_left_on_purpose() {
        let tables = sqlite_tables();
        let names: Vec<&str> = tables.iter().map(|(name, _)| name.as_str()).collect();
        for name in &names {
            assert!(
                NOT_COPIED.contains(name)
                    || *name == "audit_log"
                    || TABLES.iter().any(|(table, _)| table == name),
                "{name} is neither copied nor left out"
            );
        }
        for (table, _) in TABLES {
            assert!(names.contains(table), "{table} is not in the schema");
        }
    }

    #[test]
    fn every_copied_table_has_the_same_columns_on_postgres() {
        let Some(db) = crate::db::postgres::testing::fresh() else {
            return;
        };
        for (name, columns) in sqlite_tables() {
            let on_postgres = db
                .read_blocking(|c| copy::postgres_columns(c, &name))
                .unwrap();
            // PostgreSQL's households carry `row_id`, SQLite's `rowid`.
            let on_postgres: Vec<String> = on_postgres
                .into_iter()
                .filter(|c| !(name == "households" && c == "row_id"))
                .collect();
            assert_eq!(on_postgres, columns, "{name}");
        }
    }
}
