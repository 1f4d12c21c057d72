//! Enumerators, their areas and the regions list ([`crate::admin`] and [`crate::team`] decide).

use super::Conn;
use super::devices::StoredArea;
use crate::db::DbError;

/// Adds or renames a region of the national list.
pub fn put_region(conn: Conn<'_>, code: &str, name: &str) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO regions (code, name) VALUES (?1, ?2)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name WHERE regions.name <> excluded.name",
        &[&code, &name],
    )?;
    Ok(())
}

/// The regions `region` holds, itself included, by code: (code, name).
pub fn regions_in(conn: Conn<'_>, region: &str) -> Result<Vec<(String, String)>, DbError> {
    conn.rows(
        "SELECT code, name FROM regions WHERE code = ?1 OR code LIKE ?1 || '.%' ORDER BY code",
        &[&region],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Whether the region list holds `code`.
pub fn region_known(conn: Conn<'_>, code: &str) -> Result<bool, DbError> {
    conn.exists("SELECT 1 FROM regions WHERE code = ?1", &[&code])
}

/// The codes of every village of the list (13 characters: `16.04.01.2001`).
pub fn village_codes(conn: Conn<'_>) -> Result<Vec<String>, DbError> {
    conn.values("SELECT code FROM regions WHERE length(code) = 13", &[])
}

pub fn insert(conn: Conn<'_>, enumerator_id: &str, name: &str, at: i64) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO enumerators (enumerator_id, name, created_at) VALUES (?1, ?2, ?3)",
        &[&enumerator_id, &name, &at],
    )?;
    Ok(())
}

pub fn exists(conn: Conn<'_>, enumerator_id: &str) -> Result<bool, DbError> {
    conn.exists(
        "SELECT 1 FROM enumerators WHERE enumerator_id = ?1",
        &[&enumerator_id],
    )
}

/// An area: a region, with an RW and an RT inside it where given.
#[derive(Debug, Clone, Copy)]
pub struct AreaRow<'a> {
    pub region: &'a str,
    pub rw: Option<&'a str>,
    pub rt: Option<&'a str>,
}

pub fn add_area(
    conn: Conn<'_>,
    enumerator_id: &str,
    area: AreaRow<'_>,
    at: i64,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO areas (enumerator_id, region, rw, rt, added_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[&enumerator_id, &area.region, &area.rw, &area.rt, &at],
    )?;
    Ok(())
}

/// Takes an area from an enumerator at `at`, change number `seq`; whether they had it.
pub fn remove_area(
    conn: Conn<'_>,
    enumerator_id: &str,
    area: AreaRow<'_>,
    (at, seq): (i64, i64),
) -> Result<bool, DbError> {
    Ok(conn.execute(
        "UPDATE areas SET removed_at = ?5, removed_seq = ?6
         WHERE enumerator_id = ?1 AND region = ?2 AND rw IS NOT DISTINCT FROM ?3
             AND rt IS NOT DISTINCT FROM ?4 AND removed_at IS NULL",
        &[&enumerator_id, &area.region, &area.rw, &area.rt, &at, &seq],
    )? > 0)
}

/// The regions of an enumerator's areas, held or taken.
pub fn area_regions(conn: Conn<'_>, enumerator_id: &str) -> Result<Vec<String>, DbError> {
    conn.values(
        "SELECT region FROM areas WHERE enumerator_id = ?1",
        &[&enumerator_id],
    )
}

/// The enumerators with an area (held or taken) in `region`, by name: (id, name).
pub fn working_in(conn: Conn<'_>, region: &str) -> Result<Vec<(String, String)>, DbError> {
    conn.rows(
        "SELECT e.enumerator_id, e.name FROM enumerators e
         WHERE EXISTS (SELECT 1 FROM areas a WHERE a.enumerator_id = e.enumerator_id
             AND (a.region = ?1 OR a.region LIKE ?1 || '.%'))
         ORDER BY e.name, e.enumerator_id",
        &[&region],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// The areas an enumerator holds now, in order.
pub fn areas_held(conn: Conn<'_>, enumerator_id: &str) -> Result<Vec<StoredArea>, DbError> {
    conn.rows(
        "SELECT region, rw, rt FROM areas WHERE enumerator_id = ?1 AND removed_at IS NULL
         ORDER BY region, rw NULLS FIRST, rt NULLS FIRST",
        &[&enumerator_id],
        |r| {
            Ok(StoredArea {
                region: r.get(0)?,
                rw: r.get(1)?,
                rt: r.get(2)?,
                removed: false,
            })
        },
    )
}
