//! Households: their rows (the merged state pulls serve, with what reports count beside it),
//! baselines, the change sequence, and duplicate keys ([`crate::households`] merges).

use super::Conn;
use crate::db::DbError;

/// Takes the next number of the change sequence (its row is made with the schema).
///
/// A plain update and a read: an upsert or `RETURNING` makes SQLite open a statement journal,
/// copying the page at every call, which was a tenth of the writer's time at ingest.
///
/// On PostgreSQL, where transactions commit side by side, the update locks the counter's row
/// until the transaction ends: the next transaction that takes a number waits for this one to
/// commit, so numbers commit in their order and a pull after number N never misses a change
/// numbered below it that commits later (docs/storage.md).
pub fn next_change_seq(conn: Conn<'_>) -> Result<i64, DbError> {
    if let Some(number) = conn.reserved_number() {
        return Ok(number);
    }
    if conn.is_postgres() {
        // A block at a time: every update of the counter's row leaves a dead version of it
        // that the next reads walk past until vacuumed, and one row updated for each household
        // of a push made the counter most of a push's time. Numbers a transaction leaves unused
        // are gaps, which a pull's cursor passes over.
        let last: i64 = conn.value(
            "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + ?1 AS TEXT)
             WHERE key = 'change_seq' RETURNING CAST(value AS BIGINT)",
            &[&NUMBERS_TAKEN],
        )?;
        let first = last - NUMBERS_TAKEN + 1;
        conn.reserve_numbers(first + 1, last);
        return Ok(first);
    }
    conn.execute(
        "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = 'change_seq'",
        &[],
    )?;
    conn.value(
        "SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'change_seq'",
        &[],
    )
}

/// Change numbers a PostgreSQL transaction takes at once: more than most pushes change.
const NUMBERS_TAKEN: i64 = 256;

/// The households of a region's area: of its RW and RT where given, with those not placed in one.
pub fn in_area(
    conn: Conn<'_>,
    region: &str,
    rw: Option<&str>,
    rt: Option<&str>,
) -> Result<Vec<String>, DbError> {
    conn.values(
        "SELECT household_id FROM households
         WHERE region = ?1 AND (CAST(?2 AS TEXT) IS NULL OR rw IS NULL OR rw = ?2)
             AND (CAST(?3 AS TEXT) IS NULL OR rt IS NULL OR rt = ?3)",
        &[&region, &rw, &rt],
    )
}

/// Moves a household to change number `seq`, nothing else changed.
pub fn set_change_seq(conn: Conn<'_>, (id, region): Located<'_>, seq: i64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE households SET change_seq = ?3 WHERE household_id = ?1 AND region = ?2",
        &[&id, &region, &seq],
    )?;
    Ok(())
}

/// A household's id with the region it is listed in, which a lookup of its row names so that
/// PostgreSQL reads the one partition of that region's province, not all 39 (a tenth of the
/// time: docs/storage.md). The region is its baseline's ([`region_of`]).
pub type Located<'a> = (&'a str, &'a str);

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
    let params: [&dyn super::sql::Param; 6] = [
        &listing.household_id,
        &listing.region,
        &listing.rw,
        &listing.rt,
        &listing.source,
        &listing.source_id,
    ];
    // An update first, then an insert when there was none: on PostgreSQL a household's key
    // holds its region (the table is kept by province), so a conflict on the id alone cannot be
    // asked for, and a household listed in another village moves to it.
    let updated = conn.execute(
        "UPDATE households SET region = ?2, rw = ?3, rt = ?4, source = ?5, source_id = ?6
         WHERE household_id = ?1",
        &params,
    )?;
    if updated == 0 {
        conn.execute(
            "INSERT INTO households (household_id, region, rw, rt, source, source_id, state,
                 state_hash, status, change_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, '{}', '', 'NOT_VISITED', 0)",
            &params,
        )?;
    }
    conn.execute(
        "INSERT INTO baselines (household_id, baseline, region) VALUES (?1, ?2, ?3)
         ON CONFLICT (household_id) DO UPDATE SET baseline = excluded.baseline,
             region = excluded.region",
        &[&listing.household_id, &listing.baseline, &listing.region],
    )?;
    Ok(())
}

/// A household's baseline as stored, as JSON text; `None` when it is not stored.
pub fn baseline(conn: Conn<'_>, id: &str) -> Result<Option<String>, DbError> {
    conn.optional_value(
        "SELECT baseline FROM baselines WHERE household_id = ?1",
        &[&id],
    )
}

/// The change number a household is stored under and the digest of its keys recorded; `None`
/// when it is not stored.
pub fn version(
    conn: Conn<'_>,
    (id, region): Located<'_>,
) -> Result<Option<(i64, String)>, DbError> {
    conn.optional_row(
        "SELECT change_seq, keys_digest FROM households WHERE household_id = ?1 AND region = ?2",
        &[&id, &region],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// The change number a household is stored under, in a write that will store the household
/// again: on PostgreSQL, where writes run side by side, its row stays locked until the write
/// commits, so that no other write merges it from what this one has not yet stored (a visit
/// would be dropped from its state). SQLite's one writer needs no lock.
pub fn change_seq_for_update(
    conn: Conn<'_>,
    (id, region): Located<'_>,
) -> Result<Option<i64>, DbError> {
    let statement = if conn.is_postgres() {
        "SELECT change_seq FROM households WHERE household_id = ?1 AND region = ?2 FOR UPDATE"
    } else {
        "SELECT change_seq FROM households WHERE household_id = ?1 AND region = ?2"
    };
    conn.optional_value(statement, &[&id, &region])
}

/// Locks a household's row until the write commits, before the write reads it to merge it again
/// (on PostgreSQL; SQLite's one writer needs no lock, and reads nothing here).
pub fn lock_for_merge(conn: Conn<'_>, id: &str) -> Result<(), DbError> {
    if conn.is_postgres()
        && let Some(region) = region_of(conn, id)?
    {
        change_seq_for_update(conn, (id, &region))?;
    }
    Ok(())
}

/// The change number a household is stored under; `None` when it is not stored.
pub fn change_seq(conn: Conn<'_>, id: &str) -> Result<Option<i64>, DbError> {
    conn.optional_value(
        "SELECT change_seq FROM households WHERE household_id = ?1",
        &[&id],
    )
}

/// A stored household's state (its canonical text) and the digest of its keys recorded.
pub fn state_and_keys_digest(
    conn: Conn<'_>,
    (id, region): Located<'_>,
) -> Result<(String, String), DbError> {
    conn.row(
        "SELECT state, keys_digest FROM households WHERE household_id = ?1 AND region = ?2",
        &[&id, &region],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// The baselines of the households merged into `id`, and of those merged into them: (id,
/// baseline JSON text).
pub fn absorbed_baselines(conn: Conn<'_>, id: &str) -> Result<Vec<(String, String)>, DbError> {
    // Few households ever absorb another. The recursive query builds a temporary table each
    // time it runs, with a page cache of its own, so it runs only for those that did.
    let absorbs = conn.exists(
        "SELECT 1 FROM households WHERE merged_into = ?1 LIMIT 1",
        &[&id],
    )?;
    if !absorbs {
        return Ok(Vec::new());
    }
    conn.rows(
        "WITH RECURSIVE absorbed (id) AS (
             SELECT household_id FROM households WHERE merged_into = ?1
             UNION SELECT h.household_id FROM households h JOIN absorbed a
                 ON h.merged_into = a.id)
         SELECT b.household_id, b.baseline FROM absorbed a
         JOIN baselines b ON b.household_id = a.id",
        &[&id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
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
    let visits = conn.rows(
        "SELECT body, content_hash, order_time FROM visits WHERE household_id = ?1",
        &[&id],
        |r| {
            Ok(VisitInput {
                body: r.get(0)?,
                content_hash: r.get(1)?,
                order_time: r.get(2)?,
            })
        },
    )?;
    let decisions = conn.values("SELECT body FROM reviews WHERE household_id = ?1", &[&id])?;
    Ok((visits, decisions))
}

/// A household's row as a merge leaves it.
#[derive(Debug)]
pub struct MergedRow<'a> {
    pub household_id: &'a str,
    /// The region it is listed in (the row's partition).
    pub region: &'a str,
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
    let updated = conn.execute(
        "UPDATE households SET state = ?2, state_hash = ?3, status = ?4, outcome = ?5,
             assessment = ?6, recommendation = ?7, change_seq = ?8, head_name = ?9,
             address = ?10, target_status = ?11, merged_into = ?12, keys_digest = ?13,
             rw = ?14, rt = ?15
         WHERE household_id = ?1 AND region = ?16",
        &[
            &row.household_id,
            &row.state,
            &row.state_hash,
            &row.status,
            &row.outcome,
            &row.assessment,
            &row.recommendation,
            &row.change_seq,
            &row.head_name,
            &row.address,
            &row.target_status,
            &row.merged_into,
            &row.keys_digest,
            &row.rw,
            &row.rt,
            &row.region,
        ],
    )?;
    // Named by its region, a row not found there would be a merge lost without a word.
    if updated != 1 {
        return Err(DbError::Inconsistent(format!(
            "household {} is not stored in {}",
            row.household_id, row.region
        )));
    }
    Ok(())
}

/// The duplicate keys (kind, digest) the table holds for household `id` (a scan: the table has
/// no index by household).
pub fn keys_of(conn: Conn<'_>, id: &str) -> Result<Vec<(String, String)>, DbError> {
    conn.rows(
        "SELECT kind, key FROM household_keys WHERE household_id = ?1",
        &[&id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Removes household `id`'s `keys`, and adds `added`, each with the other households that hold
/// it: (kind, other household) for every pair found.
pub fn replace_keys<'k>(
    conn: Conn<'_>,
    (id, region): (&str, &str),
    removed: impl IntoIterator<Item = &'k (String, String)>,
    added: impl IntoIterator<Item = &'k (String, String)>,
) -> Result<Vec<(&'k str, String)>, DbError> {
    for (kind, key) in removed {
        conn.execute(
            "DELETE FROM household_keys WHERE kind = ?1 AND key = ?2 AND household_id = ?3",
            &[kind, key, &id],
        )?;
    }
    let mut pairs = Vec::new();
    for (kind, key) in added {
        conn.execute(
            "INSERT INTO household_keys (kind, key, household_id, region) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
            &[kind, key, &id, &region],
        )?;
        let others: Vec<String> = conn.values(
            "SELECT household_id FROM household_keys
             WHERE kind = ?1 AND key = ?2 AND household_id <> ?3",
            &[kind, key, &id],
        )?;
        pairs.extend(others.into_iter().map(|other| (kind.as_str(), other)));
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
    conn.execute(
        "INSERT INTO duplicates (household_a, household_b, kind, found_at)
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        &[&a, &b, &kind, &at],
    )?;
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
    conn.rows(
        "SELECT k.household_id, h.region, h.rw, h.rt FROM household_keys k
         JOIN households h ON h.household_id = k.household_id
         WHERE k.kind = ?1 AND k.key = ?2 AND k.household_id <> ?3 LIMIT ?4",
        &[&kind, &key, &except, &limit],
        |r| {
            Ok(KeyHolder {
                household_id: r.get(0)?,
                region: r.get(1)?,
                rw: r.get(2)?,
                rt: r.get(3)?,
            })
        },
    )
}

/// A household's village; `None` when it is not stored.
pub fn region_of(conn: Conn<'_>, id: &str) -> Result<Option<String>, DbError> {
    // From its baseline, kept with its row's region in a table of one key, not partitioned.
    conn.optional_value(
        "SELECT region FROM baselines WHERE household_id = ?1",
        &[&id],
    )
}

/// Whether a stored household was merged into another.
pub fn is_merged(conn: Conn<'_>, id: &str) -> Result<bool, DbError> {
    conn.value(
        "SELECT merged_into IS NOT NULL FROM households WHERE household_id = ?1",
        &[&id],
    )
}

/// A stored household's status and state hash.
pub fn status_and_hash(conn: Conn<'_>, id: &str) -> Result<(String, String), DbError> {
    conn.row(
        "SELECT status, state_hash FROM households WHERE household_id = ?1",
        &[&id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// A stored household's merged state, as JSON text.
pub fn state(conn: Conn<'_>, id: &str) -> Result<String, DbError> {
    conn.value(
        "SELECT state FROM households WHERE household_id = ?1",
        &[&id],
    )
}

/// How many households are stored.
pub fn count(conn: Conn<'_>) -> Result<u64, DbError> {
    let households: i64 = conn.value("SELECT count(*) FROM households", &[])?;
    Ok(super::tallies::count(households))
}

/// The households of a region (of its RW, where given), in id order.
pub fn ids_in(conn: Conn<'_>, region: &str, rw: Option<&str>) -> Result<Vec<String>, DbError> {
    conn.values(
        "SELECT household_id FROM households
         WHERE region = ?1 AND (CAST(?2 AS TEXT) IS NULL OR rw = ?2)
         ORDER BY household_id",
        &[&region, &rw],
    )
}
