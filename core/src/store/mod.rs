//! The phone's store (DESIGN §8): one SQLite file holding the households pulled for the
//! enumerator's areas, visit drafts and finished visits, the outbox, attachments and the sync
//! cursor. Every write is one transaction; finishing a visit validates it, freezes it, numbers it
//! and queues it in one.
//!
//! The store never deletes a database, even a damaged one: it may hold visits that exist nowhere
//! else. Opening a damaged or newer file fails with an error and leaves the file as it is.

mod attachments;
mod households;
mod schema;
mod sync;
mod visits;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::canonical::CanonicalError;
use crate::model::{DeviceId, EnumeratorId};
use crate::validate::Issue;

pub use households::HouseholdSummary;
pub use schema::VERSION as SCHEMA_VERSION;
pub use sync::{Enrollment, InboxItem, OutboxEntry, PageApplied};
pub use visits::{Finished, OutboxItem, OutboxState, VisitSummary};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored data could not be read: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
    #[error("the database was written by a newer app (schema {found}, this app knows {supported})")]
    IncompatibleVersion { found: u32, supported: u32 },
    #[error("the database file {path} is damaged; it was left untouched")]
    Damaged { path: PathBuf },
    #[error("stored {what} is unreadable")]
    Unreadable { what: &'static str },
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("this visit is finished and cannot change; start a correction instead")]
    Frozen,
    #[error("the visit cannot be finished yet: {} issue(s) to resolve", issues.len())]
    Invalid { issues: Vec<Issue> },
    #[error("the answer at {path} cannot be stored: {reason}")]
    BadAnswer { path: String, reason: String },
    #[error("this phone is not enrolled yet")]
    NotEnrolled,
    #[error("the store's lock was poisoned by an earlier panic")]
    Poisoned,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The phone's store. One connection behind a mutex: the phone has one writer, and SQLite reads
/// of a few hundred rows take well under a millisecond.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Store {
    /// Opens (or creates) the store at `path`, migrating it to this version's schema.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let damaged = |e: Error| match e {
            Error::Sqlite(rusqlite::Error::SqliteFailure(f, _))
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
                ) =>
            {
                Error::Damaged { path: path.clone() }
            }
            other => other,
        };
        let mut conn = Connection::open(&path).map_err(|e| damaged(e.into()))?;
        schema::prepare(&conn).map_err(damaged)?;
        schema::migrate(&mut conn).map_err(damaged)?;
        Ok(Self {
            conn: Mutex::new(conn),
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| Error::Poisoned)
    }

    /// Runs `op` in one immediate transaction, committed if it returns `Ok`.
    fn write<T>(&self, op: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = op(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    fn read<T>(&self, op: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.lock()?;
        op(&conn)
    }

    /// Records who this phone is, once enrolled.
    pub fn set_identity(&self, device_id: DeviceId, enumerator_id: EnumeratorId) -> Result<()> {
        self.write(|tx| {
            set_meta(tx, "device_id", &device_id.to_string())?;
            set_meta(tx, "enumerator_id", &enumerator_id.to_string())
        })
    }

    /// The phone's device and enumerator, if enrolled.
    pub fn identity(&self) -> Result<Option<(DeviceId, EnumeratorId)>> {
        self.read(identity)
    }

    /// SQLite's own consistency check of the whole file: an empty list means it is sound.
    pub fn integrity_problems(&self) -> Result<Vec<String>> {
        self.read(|c| {
            let rows: Vec<String> = c
                .prepare("PRAGMA integrity_check")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            Ok(rows.into_iter().filter(|r| r != "ok").collect())
        })
    }

    /// The pull cursor: where the next pull continues.
    pub fn cursor(&self) -> Result<Option<String>> {
        self.read(|c| get_meta(c, "pull_cursor"))
    }
}

fn identity(conn: &Connection) -> Result<Option<(DeviceId, EnumeratorId)>> {
    let device = get_meta(conn, "device_id")?.and_then(|s| DeviceId::parse(&s).ok());
    let enumerator = get_meta(conn, "enumerator_id")?.and_then(|s| EnumeratorId::parse(&s).ok());
    Ok(device.zip(enumerator))
}

fn get_meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

fn set_meta(tx: &Transaction<'_>, key: &str, value: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([key, value])?;
    Ok(())
}

fn unix_millis_now() -> i64 {
    crate::model::Timestamp::now_utc().unix_millis()
}

#[cfg(test)]
mod tests;
