//! Every import of a target list with its report or the error that stored nothing
//! ([`crate::import::history`] reads the JSON).

use super::Conn;
use crate::db::DbError;

/// An import as stored: report and error are JSON text, one of them present.
#[derive(Debug)]
pub struct StoredImport {
    pub import_id: String,
    /// The importer's region, `""` for the CLI's whole country.
    pub region: String,
    /// The importer's name where they are a supervisor, else the actor as logged.
    pub actor: String,
    pub source: String,
    pub files: String,
    pub at: i64,
    pub report: Option<String>,
    pub error: Option<String>,
}

pub fn insert(conn: Conn<'_>, import: &StoredImport) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO target_imports (import_id, region, actor, source, files, at, report, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &[
            &import.import_id,
            &import.region,
            &import.actor,
            &import.source,
            &import.files,
            &import.at,
            &import.report,
            &import.error,
        ],
    )?;
    Ok(())
}

fn stored(r: &super::sql::Row<'_>) -> Result<StoredImport, DbError> {
    Ok(StoredImport {
        import_id: r.get(0)?,
        region: r.get(1)?,
        actor: r.get(2)?,
        source: r.get(3)?,
        files: r.get(4)?,
        at: r.get(5)?,
        report: r.get(6)?,
        error: r.get(7)?,
    })
}

pub fn by_id(conn: Conn<'_>, import_id: &str) -> Result<Option<StoredImport>, DbError> {
    conn.optional_row(
        "SELECT t.import_id, t.region, coalesce(s.name, t.actor), t.source, t.files, t.at,
             t.report, t.error
         FROM target_imports t LEFT JOIN supervisors s ON t.actor = 'supervisor:' || s.user_id
         WHERE t.import_id = ?1",
        &[&import_id],
        stored,
    )
}

/// The latest imports made by admins of `region` or of a region inside it.
pub fn latest_in(conn: Conn<'_>, region: &str, limit: i64) -> Result<Vec<StoredImport>, DbError> {
    conn.rows(
        "SELECT t.import_id, t.region, coalesce(s.name, t.actor), t.source, t.files, t.at,
             t.report, t.error
         FROM target_imports t LEFT JOIN supervisors s ON t.actor = 'supervisor:' || s.user_id
         WHERE t.region >= ?1 AND t.region < ?1 || '/' ORDER BY t.at DESC LIMIT ?2",
        &[&region, &limit],
        stored,
    )
}
