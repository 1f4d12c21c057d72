//! Families a newer target list no longer holds, waiting for a supervisor ([`crate::removals`]
//! decides which are candidates).

use verivali_core::model::Timestamp;

use super::Conn;
use crate::db::DbError;

/// Takes a household listed again out of the queue, whatever was decided of it.
pub fn listed_again(conn: Conn<'_>, household_id: &str) -> Result<(), DbError> {
    conn.execute(
        "DELETE FROM removal_candidates WHERE household_id = ?1",
        &[&household_id],
    )?;
    Ok(())
}

/// The ACTIVE households of `source` from a target list inside `region`: (id, village).
pub fn listed_of_source(
    conn: Conn<'_>,
    region: &str,
    source: &str,
) -> Result<Vec<(String, String)>, DbError> {
    conn.rows(
        "SELECT household_id, region FROM households
         WHERE region >= ?1 AND region < ?1 || '/' AND source = ?2 AND source_id IS NOT NULL
             AND target_status = 'ACTIVE'",
        &[&region, &source],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Queues a household found missing by import `import_id`, unless queued already; whether it
/// was queued now.
pub fn queue(
    conn: Conn<'_>,
    household_id: &str,
    region: &str,
    import_id: &str,
    at: i64,
) -> Result<bool, DbError> {
    Ok(conn.execute(
        "INSERT INTO removal_candidates (household_id, region, import_id, listed_at)
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (household_id) DO NOTHING",
        &[&household_id, &region, &import_id, &at],
    )? > 0)
}

/// A family waiting for a decision.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub household_id: String,
    pub region: String,
    pub head_name: String,
    pub address: String,
    pub visits: i64,
    pub listed_at: Timestamp,
}

/// The families waiting inside `region` (at most `limit`, by village and head's name), and how
/// many wait in all.
pub fn waiting(conn: Conn<'_>, region: &str, limit: i64) -> Result<(Vec<Candidate>, i64), DbError> {
    let total = conn.value(
        "SELECT count(*) FROM removal_candidates
         WHERE decision IS NULL AND region >= ?1 AND region < ?1 || '/'",
        &[&region],
    )?;
    let list = conn.rows(
        "SELECT c.household_id, c.region, h.head_name, h.address, c.listed_at,
             (SELECT count(*) FROM visits v WHERE v.household_id = c.household_id)
         FROM removal_candidates c JOIN households h USING (household_id)
         WHERE c.decision IS NULL AND c.region >= ?1 AND c.region < ?1 || '/'
         ORDER BY c.region, h.head_name LIMIT ?2",
        &[&region, &limit],
        |r| {
            Ok(Candidate {
                household_id: r.get(0)?,
                region: r.get(1)?,
                head_name: r.get(2)?,
                address: r.get(3)?,
                listed_at: Timestamp::from_unix_millis(r.get(4)?),
                visits: r.get(5)?,
            })
        },
    )?;
    Ok((list, total))
}

/// The village of a family waiting for a decision.
pub fn waiting_region(conn: Conn<'_>, household_id: &str) -> Result<Option<String>, DbError> {
    conn.optional_value(
        "SELECT region FROM removal_candidates WHERE household_id = ?1 AND decision IS NULL",
        &[&household_id],
    )
}

/// Records a decision (REMOVED or KEPT) on a family of the queue.
pub fn decide(
    conn: Conn<'_>,
    household_id: &str,
    decision: &str,
    (by, at): (&str, i64),
) -> Result<(), DbError> {
    conn.execute(
        "UPDATE removal_candidates SET decision = ?2, decided_by = ?3, decided_at = ?4
         WHERE household_id = ?1",
        &[&household_id, &decision, &by, &at],
    )?;
    Ok(())
}
