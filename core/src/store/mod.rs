//! The phone's store (DESIGN §8): one SQLite file holding the households pulled for the
//! enumerator's areas, visit drafts and finished visits, the outbox, attachments and the sync
//! cursor. Every write is one transaction; finishing a visit validates it, freezes it, numbers it
//! and queues it in one.
//!
//! Every personal value is sealed under a key the app supplies (sealed.rs); a store an earlier
//! version kept clear is sealed into a new file when it is first opened with a key (seal_clear.rs).
//!
//! The store never deletes a database, even a damaged one: it may hold visits that exist nowhere
//! else. Opening a damaged or newer file, or opening with the wrong key, fails with an error and
//! leaves the file as it is.

mod attachments;
mod households;
mod inbox;
mod schema;
mod seal_clear;
mod sealed;
mod sync;
mod visits;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::canonical::CanonicalError;
use crate::model::{DeviceId, EnumeratorId};
use crate::validate::Issue;
use sealed::Sealer;

pub use households::HouseholdSummary;
pub use inbox::{HouseholdNotice, InboxItem, NoticeKind};
pub use schema::VERSION as SCHEMA_VERSION;
pub use sealed::StoreKey;
pub use sync::{Enrollment, OutboxEntry, PageApplied};
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
    #[error("the store's key must be {} bytes, not {length}", StoreKey::LEN)]
    BadKey { length: usize },
    #[error("this key does not open the store; it was left untouched")]
    WrongKey,
    #[error(transparent)]
    Photo(#[from] crate::photo::PhotoError),
    #[error("the store's file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the system gave no random numbers")]
    NoRandomness,
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
    sealer: Sealer,
    path: PathBuf,
}

/// The meta key of a value sealed when the store was created: opening it tells a wrong key
/// before anything else is read.
const KEY_CHECK: &str = "key_check";

impl Store {
    /// Opens (or creates) the store at `path` with the app's key. A new store is created sealed;
    /// a clear store of an earlier version is sealed first, keeping every draft and unsent visit.
    pub fn open(path: impl AsRef<Path>, key: &StoreKey) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let sealer = Sealer::new(key);
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
        let mut conn = open_connection(&path).map_err(damaged)?;
        let found = {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| damaged(e.into()))?;
            let found = schema::inspect(&tx).map_err(damaged)?;
            if found == schema::Found::Empty {
                schema::init(&tx)?;
                set_meta(&tx, &sealer, KEY_CHECK, KEY_CHECK)?;
            }
            tx.commit()?;
            found
        };
        if found == schema::Found::Clear {
            conn = seal_clear::seal(conn, &path, &sealer).map_err(damaged)?;
        }
        let check: Option<Vec<u8>> = conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [KEY_CHECK], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| damaged(e.into()))?;
        let Some(check) = check else {
            return Err(Error::Damaged { path });
        };
        if sealer
            .open_text(META_VALUE, KEY_CHECK, &check)
            .ok()
            .as_deref()
            != Some(KEY_CHECK)
        {
            return Err(Error::WrongKey);
        }
        Ok(Self {
            conn: Mutex::new(conn),
            sealer,
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
        let s = &self.sealer;
        self.write(|tx| {
            set_meta(tx, s, "device_id", &device_id.to_string())?;
            set_meta(tx, s, "enumerator_id", &enumerator_id.to_string())
        })
    }

    /// The phone's device and enumerator, if enrolled.
    pub fn identity(&self) -> Result<Option<(DeviceId, EnumeratorId)>> {
        self.read(|c| identity(c, &self.sealer))
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
        self.read(|c| get_meta(c, &self.sealer, "pull_cursor"))
    }
}

/// Opens the file with the settings every connection has.
fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    schema::prepare(&conn)?;
    Ok(conn)
}

fn identity(conn: &Connection, sealer: &Sealer) -> Result<Option<(DeviceId, EnumeratorId)>> {
    let device = get_meta(conn, sealer, "device_id")?.and_then(|s| DeviceId::parse(&s).ok());
    let enumerator =
        get_meta(conn, sealer, "enumerator_id")?.and_then(|s| EnumeratorId::parse(&s).ok());
    Ok(device.zip(enumerator))
}

/// The column meta values are sealed for, each under its key.
const META_VALUE: &str = "meta.value";

fn get_meta(conn: &Connection, sealer: &Sealer, key: &str) -> Result<Option<String>> {
    let sealed: Option<Vec<u8>> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?;
    sealed
        .map(|value| sealer.open_text(META_VALUE, key, &value))
        .transpose()
}

fn set_meta(tx: &Transaction<'_>, sealer: &Sealer, key: &str, value: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![
        key,
        sealer.seal(META_VALUE, key, value.as_bytes())?
    ])?;
    Ok(())
}

fn unix_millis_now() -> i64 {
    crate::model::Timestamp::now_utc().unix_millis()
}

#[cfg(test)]
mod tests;
