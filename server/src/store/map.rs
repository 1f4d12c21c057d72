//! What the map reads besides the tallies: clusters counted from the visits themselves, and the
//! villages' outlines with their progress ([`crate::map`] builds the GeoJSON).

use serde::{Deserialize, Serialize};

use super::Conn;
use super::tallies::count;
use crate::db::DbError;

/// A cluster of visits: where they lie on average, and how many.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    pub lat: f64,
    pub lon: f64,
    pub visits: u64,
    pub flagged: u64,
    /// The household, when the cluster is one visit: its marker opens the household.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_id: Option<String>,
}

/// A bounding box in degrees: (south, north, west, east).
pub type Bounds = (f64, f64, f64, f64);

/// The visits of the villages `[from, to)` inside `bounds`, counted per cell of `cell` degrees.
pub fn clusters(
    conn: Conn<'_>,
    (from, to): (&str, &str),
    (south, north, west, east): Bounds,
    cell: f64,
) -> Result<Vec<Cluster>, DbError> {
    // Cells are counted from (-90, -180), so they are never negative and SQLite's CAST, which
    // truncates, floors; PostgreSQL's rounds, so it is told to floor.
    let cells = if conn.is_postgres() {
        "CAST(floor((v.lat + 90.0) / ?1) AS BIGINT) AS cy,
         CAST(floor((v.lon + 180.0) / ?1) AS BIGINT) AS cx"
    } else {
        "CAST((v.lat + 90.0) / ?1 AS INTEGER) AS cy, CAST((v.lon + 180.0) / ?1 AS INTEGER) AS cx"
    };
    conn.planned_for_values(|| {
        conn.rows(
            &format!(
                "SELECT {cells}, count(*), avg(v.lat), avg(v.lon),
                    CAST(sum(CASE WHEN v.flags <> '[]' THEN 1 ELSE 0 END) AS BIGINT),
                    min(v.household_id)
             FROM visits v JOIN households h ON h.household_id = v.household_id
             WHERE v.lat BETWEEN ?2 AND ?3 AND v.lon BETWEEN ?4 AND ?5
               AND h.region >= ?6 AND h.region < ?7
             GROUP BY cy, cx"
            ),
            &[&cell, &south, &north, &west, &east, &from, &to],
            |r| {
                let visits = count(r.get(2)?);
                Ok(Cluster {
                    lat: r.get(3)?,
                    lon: r.get(4)?,
                    visits,
                    flagged: count(r.get(5)?),
                    household_id: if visits == 1 { r.get(6)? } else { None },
                })
            },
        )
    })
}

/// A village's outline (GeoJSON geometry text) with its name and progress.
#[derive(Debug)]
pub struct Outline {
    pub region: String,
    pub name: Option<String>,
    pub geometry: String,
    /// ACTIVE households, and those of them visited.
    pub targets: u64,
    pub visited: u64,
}

/// The outlines of the villages `[from, to)`, by code.
pub fn outlines(conn: Conn<'_>, (from, to): (&str, &str)) -> Result<Vec<Outline>, DbError> {
    conn.planned_for_values(|| {
        conn.rows(
            "SELECT b.region, r.name, b.geometry,
                (SELECT count(*) FROM households h
                 WHERE h.region = b.region AND h.target_status = 'ACTIVE'),
                (SELECT count(*) FROM households h
                 WHERE h.region = b.region AND h.target_status = 'ACTIVE'
                     AND h.status <> 'NOT_VISITED')
         FROM boundaries b LEFT JOIN regions r ON r.code = b.region
         WHERE b.region >= ?1 AND b.region < ?2 ORDER BY b.region",
            &[&from, &to],
            |r| {
                Ok(Outline {
                    region: r.get(0)?,
                    name: r.get(1)?,
                    geometry: r.get(2)?,
                    targets: count(r.get(3)?),
                    visited: count(r.get(4)?),
                })
            },
        )
    })
}

/// Stores a village's outline, replacing an earlier one.
pub fn put_outline(conn: Conn<'_>, region: &str, geometry: &str) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO boundaries (region, geometry) VALUES (?1, ?2)
         ON CONFLICT (region) DO UPDATE SET geometry = excluded.geometry",
        &[&region, &geometry],
    )?;
    Ok(())
}
