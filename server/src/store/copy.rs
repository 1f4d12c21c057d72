//! Whole tables copied from a kabupaten's SQLite into a province's PostgreSQL
//! ([`crate::migrate`]): read page by page in their key's order, written so that copying again
//! changes nothing.

use super::Conn;
use super::sql::Cell;
use crate::db::DbError;

/// A table as SQLite holds it: its columns and the columns of its primary key.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: &'static str,
    pub columns: Vec<String>,
    /// The primary key's columns in order; empty for a table without one (read by `rowid`).
    pub key: Vec<String>,
}

/// What a row whose key the target holds already becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConflict {
    /// Kept as the target holds it (a copy run again).
    Keep,
    /// Replaced by the source's (the tallies, which the copy of reviews moved on the target).
    Replace,
}

/// The names of SQLite's tables (its own left out).
pub fn sqlite_tables(conn: Conn<'_>) -> Result<Vec<String>, DbError> {
    conn.values(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         ORDER BY name",
        &[],
    )
}

/// `name`'s columns and key, as SQLite holds them.
pub fn sqlite_table(conn: Conn<'_>, name: &'static str) -> Result<Table, DbError> {
    let columns: Vec<(String, i64)> = conn.rows(
        "SELECT name, pk FROM pragma_table_info(?1) ORDER BY cid",
        &[&name],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut key: Vec<(i64, String)> = columns
        .iter()
        .filter(|(_, pk)| *pk > 0)
        .map(|(column, pk)| (*pk, column.clone()))
        .collect();
    key.sort();
    Ok(Table {
        name,
        columns: columns.into_iter().map(|(column, _)| column).collect(),
        key: key.into_iter().map(|(_, column)| column).collect(),
    })
}

impl Table {
    /// What a page is read in order of: the key, or SQLite's `rowid`.
    fn order(&self) -> Vec<String> {
        if self.key.is_empty() {
            vec!["rowid".to_owned()]
        } else {
            self.key.clone()
        }
    }

    fn numbered(from: usize, count: usize) -> String {
        (from..from + count)
            .map(|n| format!("?{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A page of `table`'s rows after the row whose order values are `after`: each row is its
/// columns' values followed by its order values (what the next page starts after).
pub fn page(
    conn: Conn<'_>,
    table: &Table,
    after: Option<&[Cell]>,
    limit: i64,
) -> Result<Vec<Vec<Cell>>, DbError> {
    let order = table.order();
    let width = table.columns.len() + order.len();
    let selected = [table.columns.clone(), order.clone()].concat().join(", ");
    let order = order.join(", ");
    let (filter, params): (String, Vec<&dyn super::sql::Param>) = match after {
        Some(after) => (
            format!("WHERE ({order}) > ({}) ", Table::numbered(2, after.len())),
            std::iter::once(&limit as &dyn super::sql::Param)
                .chain(after.iter().map(|c| c as &dyn super::sql::Param))
                .collect(),
        ),
        None => (String::new(), vec![&limit as &dyn super::sql::Param]),
    };
    let sql = format!(
        "SELECT {selected} FROM {} {filter}ORDER BY {order} LIMIT ?1",
        table.name
    );
    conn.rows(&sql, &params, |r| {
        (0..width).map(|i| r.get::<Cell>(i)).collect()
    })
}

/// Writes one row of `table` (its columns' values) unless the target holds it; returns whether
/// it was written. A table without a key compares whole rows.
pub fn write(
    conn: Conn<'_>,
    table: &Table,
    row: &[Cell],
    on_conflict: OnConflict,
) -> Result<bool, DbError> {
    let columns = table.columns.join(", ");
    let values = Table::numbered(1, table.columns.len());
    let params: Vec<&dyn super::sql::Param> =
        row.iter().map(|c| c as &dyn super::sql::Param).collect();
    if table.key.is_empty() {
        let same = table
            .columns
            .iter()
            .enumerate()
            .map(|(n, column)| format!("{column} IS NOT DISTINCT FROM ?{}", n + 1))
            .collect::<Vec<_>>()
            .join(" AND ");
        let held = conn.exists(
            &format!("SELECT 1 FROM {} WHERE {same}", table.name),
            &params,
        )?;
        if held {
            return Ok(false);
        }
        let sql = format!("INSERT INTO {} ({columns}) VALUES ({values})", table.name);
        return Ok(conn.execute(&sql, &params)? == 1);
    }
    let all_key = table.columns.iter().all(|c| table.key.contains(c));
    let conflict = match on_conflict {
        OnConflict::Keep => "DO NOTHING".to_owned(),
        OnConflict::Replace if all_key => "DO NOTHING".to_owned(),
        OnConflict::Replace => {
            let set = table
                .columns
                .iter()
                .filter(|c| !table.key.contains(c))
                .map(|c| format!("{c} = excluded.{c}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!("({}) DO UPDATE SET {set}", table.key.join(", "))
        }
    };
    let sql = format!(
        "INSERT INTO {} ({columns}) VALUES ({values}) ON CONFLICT {conflict}",
        table.name
    );
    Ok(conn.execute(&sql, &params)? == 1)
}

/// A value of the `meta` table.
pub fn meta(conn: Conn<'_>, key: &str) -> Result<Option<String>, DbError> {
    conn.optional_value("SELECT value FROM meta WHERE key = ?1", &[&key])
}

/// Sets a value of the `meta` table.
pub fn set_meta(conn: Conn<'_>, key: &str, value: &str) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&key, &value],
    )?;
    Ok(())
}

/// Households after `after` in id order, with their stored `state_hash`.
pub fn household_hashes(
    conn: Conn<'_>,
    after: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, DbError> {
    conn.rows(
        "SELECT household_id, state_hash FROM households WHERE household_id > ?1
         ORDER BY household_id LIMIT ?2",
        &[&after, &limit],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// A household's stored `state_hash`; `None` when it is not stored.
pub fn household_hash(conn: Conn<'_>, id: &str) -> Result<Option<String>, DbError> {
    conn.optional_value(
        "SELECT state_hash FROM households WHERE household_id = ?1",
        &[&id],
    )
}

/// `name`'s columns as PostgreSQL holds them, sorted (for the test that both schemas agree).
#[cfg(test)]
pub fn postgres_columns(conn: Conn<'_>, name: &str) -> Result<Vec<String>, DbError> {
    conn.values(
        "SELECT CAST(column_name AS TEXT) FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = ?1 ORDER BY column_name",
        &[&name],
    )
}
