//! The append-only audit log ([`crate::audit`] decides who reads what of it).

use verivali_core::model::Timestamp;

use super::Conn;
use crate::db::DbError;

/// One entry of the log.
#[derive(Debug)]
pub struct NewEntry<'a> {
    pub at: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub detail: Option<&'a str>,
    /// The region the action concerned, where it concerned one.
    pub region: Option<&'a str>,
}

pub fn record(conn: Conn<'_>, entry: &NewEntry<'_>) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, target, detail, region)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[
            &entry.at,
            &entry.actor,
            &entry.action,
            &entry.target,
            &entry.detail,
            &entry.region,
        ],
    )?;
    Ok(())
}

/// The entries asked for, newest first.
#[derive(Debug)]
pub struct Selected<'a> {
    /// Entries of this region or of one inside it.
    pub region: &'a str,
    /// Entries that concern no region as well.
    pub with_regionless: bool,
    /// An actor as logged, or (with `name_part`) a supervisor whose name holds it.
    pub actor: Option<&'a str>,
    /// A `LIKE` pattern of part of a supervisor's name.
    pub name_part: Option<&'a str>,
    pub action: Option<&'a str>,
    /// Entries older than this one.
    pub before: Option<i64>,
    pub limit: i64,
}

/// One entry as the page and the download show it.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    /// The supervisor's name, when the actor is a supervisor.
    pub actor_name: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub region: Option<String>,
}

pub fn entries(conn: Conn<'_>, selected: &Selected<'_>) -> Result<Vec<AuditEntry>, DbError> {
    // Names match whatever their case (SQLite's LIKE ignores the case of ASCII letters,
    // PostgreSQL's none): both lowered.
    conn.rows(
        "SELECT a.seq, a.at, a.actor, s.name, a.action, a.target, a.detail, a.region
         FROM audit_log a LEFT JOIN supervisors s ON a.actor = 'supervisor:' || s.user_id
         WHERE ((a.region IS NULL AND ?2) OR a.region = ?1 OR a.region LIKE ?1 || '.%')
           AND (CAST(?3 AS TEXT) IS NULL OR a.actor = ?3 OR lower(s.name) LIKE lower(?4))
           AND (CAST(?5 AS TEXT) IS NULL OR a.action = ?5)
           AND (CAST(?6 AS BIGINT) IS NULL OR a.seq < ?6)
         ORDER BY a.seq DESC LIMIT ?7",
        &[
            &selected.region,
            &selected.with_regionless,
            &selected.actor,
            &selected.name_part,
            &selected.action,
            &selected.before,
            &selected.limit,
        ],
        |r| {
            Ok(AuditEntry {
                seq: r.get(0)?,
                at: Timestamp::from_unix_millis(r.get(1)?),
                actor: r.get(2)?,
                actor_name: r.get(3)?,
                action: r.get(4)?,
                target: r.get(5)?,
                detail: r.get(6)?,
                region: r.get(7)?,
            })
        },
    )
}

/// Every action the log holds, for the page's filter.
pub fn actions(conn: Conn<'_>) -> Result<Vec<String>, DbError> {
    conn.values("SELECT DISTINCT action FROM audit_log ORDER BY action", &[])
}
