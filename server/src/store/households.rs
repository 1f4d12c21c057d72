//! Households: their rows (the merged state pulls serve, with what reports count beside it),
//! baselines, the change sequence, and duplicate keys ([`crate::households`] merges).

use rusqlite::{OptionalExtension, params};

use super::Conn;
use crate::db::DbError;

/// Takes the next number of the change sequence (its row is made with the schema).
///
/// A plain update and a read: an upsert or `RETURNING` makes SQLite open a statement journal,
/// copying the page at every call, which was a tenth of the writer's time at ingest.
pub fn next_change_seq(conn: Conn<'_>) -> Result<i64, DbError> {
    let sql = conn.sql();
    sql.prepare_cached(
        "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'change_seq'",
    )?
    .execute([])?;
    Ok(sql
        .prepare_cached("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'change_seq'")?
        .query_row([], |r| r.get(0))?)
}

/// The households of a region's area: of its RW and RT where given, with those not placed in one.
pub fn in_area(
    conn: Conn<'_>,
    region: &str,
    rw: Option<&str>,
    rt: Option<&str>,
) -> Result<Vec<String>, DbError> {
    Ok(conn
        .sql()
        .prepare_cached(
            "SELECT household_id FROM households
             WHERE region = ?1 AND (?2 IS NULL OR rw IS NULL OR rw = ?2)
                 AND (?3 IS NULL OR rt IS NULL OR rt = ?3)",
        )?
        .query_map(params![region, rw, rt], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// Moves a household to change number `seq`, nothing else changed.
pub fn set_change_seq(conn: Conn<'_>, id: &str, seq: i64) -> Result<(), DbError> {
    conn.sql()
        .prepare_cached("UPDATE households SET change_seq = ?2 WHERE household_id = ?1")?
        .execute(params![id, seq])?;
    Ok(())
}

/// A household's listing, as its baseline gives it.
#[derive(Debug)]
pub struct Listing<'a> {
    pub household_id: &'a str,
    pub region: &'a str,
    pub rw: Option<&'a str>,
    pub rt: Option<&'a str>,
    pub source: &'a str,
    pub source_id: Option<&'a str>,
    /// The baseline, as JSON text.
    pub baseline: &'a str,
}

/// Adds a household (not merged yet: an empty state), or replaces its listing and baseline.
pub fn write_baseline(conn: Conn<'_>, listing: &Listing<'_>) -> Result<(), DbError> {
    let sql = conn.sql();
    sql.prepare_cached(
        "INSERT INTO households (household_id, region, rw, rt, source, source_id, state,
             state_hash, status, change_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, '{}', '', 'NOT_VISITED', 0)
         ON CONFLICT (household_id) DO UPDATE SET region = excluded.region, rw = excluded.rw,
             rt = excluded.rt, source = excluded.source, source_id = excluded.source_id",
    )?
    .execute(params![
        listing.household_id,
        listing.region,
        listing.rw,
        listing.rt,
        listing.source,
        listing.source_id,
    ])?;
    sql.prepare_cached(
        "INSERT INTO baselines (household_id, baseline) VALUES (?1, ?2)
         ON CONFLICT (household_id) DO UPDATE SET baseline = excluded.baseline",
    )?
    .execute(params![listing.household_id, listing.baseline])?;
    Ok(())
}

/// A household's baseline as stored, as JSON text; `None` when it is not stored.
pub fn baseline(conn: Conn<'_>, id: &str) -> Result<Option<String>, DbError> {
    Ok(conn
        .sql()
        .prepare_cached("SELECT baseline FROM baselines WHERE household_id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

/// The change number a household is stored under and the digest of its keys recorded; `None`
/// when it is not stored.
pub fn version(conn: Conn<'_>, id: &str) -> Result<Option<(i64, String)>, DbError> {
    Ok(conn
        .sql()
        .prepare_cached("SELECT change_seq, keys_digest FROM households WHERE household_id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The change number a household is stored under; `None` when it is not stored.
pub fn change_seq(conn: Conn<'_>, id: &str) -> Result<Option<i64>, DbError> {
    Ok(conn
        .sql()
        .prepare_cached("SELECT change_seq FROM households WHERE household_id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

/// A stored household's state (its canonical text) and the digest of its keys recorded.
pub fn state_and_keys_digest(conn: Conn<'_>, id: &str) -> Result<(String, String), DbError> {
    Ok(conn
        .sql()
        .prepare_cached("SELECT state, keys_digest FROM households WHERE household_id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// The baselines of the households merged into `id`, and of those merged into them: (id,
/// baseline JSON text).
pub fn absorbed_baselines(conn: Conn<'_>, id: &str) -> Result<Vec<(String, String)>, DbError> {
    let sql = conn.sql();
    // Few households ever absorb another. The recursive query builds a temporary table each
    // time it runs, with a page cache of its own, so it runs only for those that did.
    let absorbs: bool = sql
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM households WHERE merged_into = ?1)")?
        .query_row([id], |r| r.get(0))?;
    if !absorbs {
        return Ok(Vec::new());
    }
    Ok(sql
        .prepare_cached(
            "WITH RECURSIVE absorbed (id) AS (
                 SELECT household_id FROM households WHERE merged_into = ?1
                 UNION SELECT h.household_id FROM households h JOIN absorbed a
                     ON h.merged_into = a.id)
             SELECT b.household_id, b.baseline FROM absorbed a
             JOIN baselines b ON b.household_id = a.id",
        )?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?)
}

/// An accepted visit as the merge reads it.
#[derive(Debug)]
pub struct VisitInput {
    pub body: String,
    pub content_hash: String,
    pub order_time: i64,
}

/// The accepted visits and the decisions (their bodies) of household `id`.
pub fn visits_and_decisions(
    conn: Conn<'_>,
    id: &str,
) -> Result<(Vec<VisitInput>, Vec<String>), DbError> {
    let sql = conn.sql();
    let visits = sql
        .prepare_cached(
            "SELECT body, content_hash, order_time FROM visits WHERE household_id = ?1",
        )?
        .query_map([id], |r| {
            Ok(VisitInput {
                body: r.get(0)?,
                content_hash: r.get(1)?,
                order_time: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let decisions = sql
        .prepare_cached("SELECT body FROM reviews WHERE household_id = ?1")?
        .query_map([id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok((visits, decisions))
}

/// A household's row as a merge leaves it.
#[derive(Debug)]
pub struct MergedRow<'a> {
    pub household_id: &'a str,
    /// The canonical text of the state, as hashed.
    pub state: &'a str,
    pub state_hash: &'a str,
    pub status: &'a str,
    pub outcome: Option<&'a str>,
    pub assessment: Option<&'a str>,
    pub recommendation: Option<&'a str>,
    pub change_seq: i64,
    pub head_name: &'a str,
    pub address: &'a str,
    pub target_status: &'a str,
    pub merged_into: Option<String>,
    pub keys_digest: &'a str,
    pub rw: Option<&'a str>,
    pub rt: Option<&'a str>,
}

/// Writes a merged row, in one write: the row is most of a page.
pub fn write_merged(conn: Conn<'_>, row: &MergedRow<'_>) -> Result<(), DbError> {
    conn.sql()
        .prepare_cached(
            "UPDATE households SET state = ?2, state_hash = ?3, status = ?4, outcome = ?5,
                 assessment = ?6, recommendation = ?7, change_seq = ?8, head_name = ?9,
                 address = ?10, target_status = ?11, merged_into = ?12, keys_digest = ?13,
                 rw = ?14, rt = ?15
             WHERE household_id = ?1",
        )?
        .execute(params![
            row.household_id,
            row.state,
            row.state_hash,
            row.status,
            row.outcome,
            row.assessment,
            row.recommendation,
            row.change_seq,
            row.head_name,
            row.address,
            row.target_status,
            row.merged_into,
            row.keys_digest,
            row.rw,
            row.rt,
        ])?;
    Ok(())
}

/// The duplicate keys (kind, digest) the table holds for household `id` (a scan: the table has
/// no index by household).
pub fn keys_of(conn: Conn<'_>, id: &str) -> Result<Vec<(String, String)>, DbError> {
    Ok(conn
        .sql()
        .prepare_cached("SELECT kind, key FROM household_keys WHERE household_id = ?1")?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?)
}

/// Removes household `id`'s `keys`, and adds `added`, each with the other households that hold
/// it: (kind, other household) for every pair found.
pub fn replace_keys<'k>(
    conn: Conn<'_>,
    id: &str,
    removed: impl IntoIterator<Item = &'k (String, String)>,
    added: impl IntoIterator<Item = &'k (String, String)>,
) -> Result<Vec<(&'k str, String)>, DbError> {
    let sql = conn.sql();
    let mut remove = sql.prepare_cached(
        "DELETE FROM household_keys WHERE kind = ?1 AND key = ?2 AND household_id = ?3",
    )?;
    for (kind, key) in removed {
        remove.execute(params![kind, key, id])?;
    }
    let mut insert = sql.prepare_cached(
        "INSERT OR IGNORE INTO household_keys (kind, key, household_id) VALUES (?1, ?2, ?3)",
    )?;
    let mut others = sql.prepare_cached(
        "SELECT household_id FROM household_keys WHERE kind = ?1 AND key = ?2 AND household_id <> ?3",
    )?;
    let mut pairs = Vec::new();
    for (kind, key) in added {
        insert.execute(params![kind, key, id])?;
        for other in others.query_map(params![kind, key, id], |r| r.get::<_, String>(0))? {
            pairs.push((kind.as_str(), other?));
        }
    }
    Ok(pairs)
}

/// Queues a pair of suspected duplicates (`a` < `b`), once.
pub fn record_duplicate(
    conn: Conn<'_>,
    a: &str,
    b: &str,
    kind: &str,
    at: i64,
) -> Result<(), DbError> {
    conn.sql()
        .prepare_cached(
            "INSERT OR IGNORE INTO duplicates (household_a, household_b, kind, found_at)
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![a, b, kind, at])?;
    Ok(())
}

/// A household holding a duplicate key, with its place.
#[derive(Debug)]
pub struct KeyHolder {
    pub household_id: String,
    pub region: String,
    pub rw: Option<String>,
    pub rt: Option<String>,
}

/// The households holding duplicate key `key` of kind `kind`, other than `except`, at most `limit`.
pub fn holders_of_key(
    conn: Conn<'_>,
    kind: &str,
    key: &str,
    except: &str,
    limit: i64,
) -> Result<Vec<KeyHolder>, DbError> {
    Ok(conn
        .sql()
        .prepare_cached(
            "SELECT k.household_id, h.region, h.rw, h.rt FROM household_keys k
             JOIN households h ON h.household_id = k.household_id
             WHERE k.kind = ?1 AND k.key = ?2 AND k.household_id <> ?3 LIMIT ?4",
        )?
        .query_map(params![kind, key, except, limit], |r| {
            Ok(KeyHolder {
                household_id: r.get(0)?,
                region: r.get(1)?,
                rw: r.get(2)?,
                rt: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}
