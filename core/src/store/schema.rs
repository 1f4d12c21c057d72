//! The phone store's schema: one version constant, the SQL of a fresh database, and the upgrade
//! of each older version by one step. A test checks that every older database, upgraded, equals
//! a fresh one.

use rusqlite::{Connection, Transaction};

use super::Error;

/// The schema version this code writes (`PRAGMA user_version`). Version 4 seals every personal
/// value (sealed.rs); versions 1 to 3 kept them clear and are sealed into a new file on opening.
pub const VERSION: u32 = 4;

/// The last version that kept values clear.
const LAST_CLEAR: u32 = 3;

/// A fresh database at [`VERSION`]. Columns holding sealed values are BLOBs named for what they
/// hold; the comments say what stays clear and why.
pub const SQL: &str = r#"
-- Settings and identity; every value sealed (the device token is among them).
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

-- Region codes and names: public, clear.
CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
) WITHOUT ROWID;

-- Household states as pulled from the server (baseline merged with every accepted visit).
-- `card`: head's name, address and the members' names, for lists and search; `state`: the whole
-- merged state. Region, RW, RT and status stay clear for the RT lists.
CREATE TABLE households (
    household_id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    rw TEXT,
    rt TEXT,
    status TEXT NOT NULL,
    card BLOB NOT NULL,
    state BLOB NOT NULL,
    state_hash TEXT NOT NULL
);
CREATE INDEX households_by_rt ON households (region, rw, rt);

-- Members of the pulled households, by the keyed hash of their NIK (NIK-09, search by NIK).
CREATE TABLE members (
    member_id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (household_id) ON DELETE CASCADE,
    nik_lookup BLOB
);
CREATE INDEX members_by_household ON members (household_id);
CREATE INDEX members_by_nik ON members (nik_lookup) WHERE nik_lookup IS NOT NULL;

-- Drafts and finished visits (`body` sealed). No foreign key to households: a household may
-- leave the phone's areas, and the visits finished on it must stay until the server has them.
CREATE TABLE visits (
    visit_id TEXT PRIMARY KEY,
    household_id TEXT,
    outcome TEXT,
    body BLOB NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0 CHECK (finished IN (0, 1)),
    content_hash TEXT,
    device_seq INTEGER UNIQUE,
    supersedes TEXT,
    updated_at INTEGER NOT NULL,
    CHECK ((finished = 1) = (device_seq IS NOT NULL AND content_hash IS NOT NULL))
);
CREATE INDEX visits_by_household ON visits (household_id, finished);

-- A finished visit is frozen: a correction is a new visit that supersedes it.
CREATE TRIGGER visits_frozen BEFORE UPDATE ON visits WHEN OLD.finished = 1
BEGIN
    SELECT RAISE(ABORT, 'a finished visit cannot change');
END;
CREATE TRIGGER visits_kept BEFORE DELETE ON visits WHEN OLD.finished = 1
BEGIN
    SELECT RAISE(ABORT, 'a finished visit cannot be deleted');
END;

-- Finished visits waiting for, or holding, the server's answer (`answer` sealed).
CREATE TABLE outbox (
    device_seq INTEGER PRIMARY KEY,
    visit_id TEXT NOT NULL UNIQUE REFERENCES visits (visit_id),
    state TEXT NOT NULL DEFAULT 'PENDING'
        CHECK (state IN ('PENDING', 'ACCEPTED', 'DUPLICATE', 'REJECTED')),
    answer BLOB
);
CREATE INDEX outbox_pending ON outbox (state, device_seq);

-- Photos (`bytes` sealed), under the sha256 of their plain bytes.
CREATE TABLE attachments (
    sha256 TEXT PRIMARY KEY,
    bytes BLOB NOT NULL,
    stored_at INTEGER NOT NULL
);

-- The supervisors' decisions pulled (the inbox; `body` sealed), drafts reopened from visits the
-- server rejected (`issues` sealed), and the photos the server confirmed it holds.
CREATE TABLE reviews (
    review_id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    visit_id TEXT,
    decision TEXT NOT NULL,
    body BLOB NOT NULL,
    decided_at INTEGER NOT NULL,
    read_at INTEGER
);
CREATE INDEX reviews_by_decided ON reviews (decided_at);

CREATE TABLE reopened (
    draft_id TEXT PRIMARY KEY REFERENCES visits (visit_id) ON DELETE CASCADE,
    rejected_id TEXT NOT NULL UNIQUE REFERENCES visits (visit_id),
    issues BLOB NOT NULL
);

CREATE TABLE attachments_sent (
    sha256 TEXT PRIMARY KEY REFERENCES attachments (sha256)
) WITHOUT ROWID;
"#;

/// What a clear store (versions 1 to 3) lacked, by the version that added it: the tables whose
/// rows the sealing copies. Version 2 added the members index, which sealing rebuilds instead.
const CLEAR_UPGRADES: [(u32, &str); 2] = [
    (
        1,
        "CREATE TABLE members (member_id TEXT PRIMARY KEY, household_id TEXT NOT NULL,
             name_key TEXT NOT NULL, nik TEXT);",
    ),
    (
        2,
        "CREATE TABLE reviews (review_id TEXT PRIMARY KEY, household_id TEXT NOT NULL,
             visit_id TEXT, decision TEXT NOT NULL, body TEXT NOT NULL,
             decided_at INTEGER NOT NULL, read_at INTEGER);
         CREATE TABLE reopened (draft_id TEXT PRIMARY KEY, rejected_id TEXT NOT NULL UNIQUE,
             issues TEXT NOT NULL);
         CREATE TABLE attachments_sent (sha256 TEXT PRIMARY KEY) WITHOUT ROWID;",
    ),
];

/// Settings of every connection, outside any transaction. `synchronous=FULL`: a finished visit
/// must survive a power cut, not only a crash. `temp_store=MEMORY` avoids Android's missing temp
/// directory (SQLITE_IOERR_GETTEMPPATH) and keeps sorts off the disk.
pub fn prepare(conn: &Connection) -> Result<(), Error> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

/// What an opened file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// No table yet: a new store.
    Empty,
    /// A store of an earlier version that kept values clear: to be sealed.
    Clear,
    /// A sealed store at [`VERSION`].
    Sealed,
}

/// Tells what a file holds, refusing a file written by a newer app (never touching it).
pub fn inspect(conn: &Connection) -> Result<Found, Error> {
    let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let refuse = Err(Error::IncompatibleVersion {
        found,
        supported: VERSION,
    });
    match found {
        0 => {
            let empty: bool = conn.query_row(
                "SELECT count(*) = 0 FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )?;
            if empty { Ok(Found::Empty) } else { refuse }
        }
        1..=LAST_CLEAR => Ok(Found::Clear),
        VERSION => Ok(Found::Sealed),
        _ => refuse,
    }
}

/// Creates a fresh database at [`VERSION`].
pub fn init(tx: &Transaction<'_>) -> Result<(), Error> {
    tx.execute_batch(SQL)?;
    tx.pragma_update(None, "user_version", VERSION)?;
    Ok(())
}

/// Brings a clear store up to the last clear version, so that the sealing reads one layout.
pub fn upgrade_clear(conn: &mut Connection) -> Result<(), Error> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (version, sql) in CLEAR_UPGRADES {
        if found <= version {
            tx.execute_batch(sql)?;
        }
    }
    tx.pragma_update(None, "user_version", LAST_CLEAR)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_from_a_newer_app_is_refused_and_left_alone() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
            .unwrap();
        assert!(matches!(
            inspect(&conn),
            Err(Error::IncompatibleVersion { found: 99, .. })
        ));
        let tables: u32 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 1);
    }
}
