//! The phone store's schema: one version constant, the SQL of a fresh database, and the upgrade
//! of each older version by one step. A test checks that every older database, upgraded, equals
//! a fresh one.

use rusqlite::{Connection, Transaction};

use super::Error;

/// The schema version this code writes (`PRAGMA user_version`).
pub const VERSION: u32 = 3;

/// The members table (added in version 2): members of the pulled households, for search by name
/// or NIK. One text for a fresh database and for the upgrade, so the two cannot drift apart.
macro_rules! members_sql {
    () => {
        r#"
CREATE TABLE members (
    member_id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (household_id) ON DELETE CASCADE,
    name_key TEXT NOT NULL,
    nik TEXT
);
CREATE INDEX members_by_household ON members (household_id);
CREATE INDEX members_by_name ON members (name_key);
CREATE INDEX members_by_nik ON members (nik) WHERE nik IS NOT NULL;
"#
    };
}

/// What syncing keeps (added in version 3): the supervisors' decisions pulled (the inbox), drafts
/// reopened from visits the server rejected, and the photos the server confirmed it holds.
macro_rules! sync_sql {
    () => {
        r#"
CREATE TABLE reviews (
    review_id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    visit_id TEXT,
    decision TEXT NOT NULL,
    body TEXT NOT NULL,
    decided_at INTEGER NOT NULL,
    read_at INTEGER
);
CREATE INDEX reviews_by_decided ON reviews (decided_at);

CREATE TABLE reopened (
    draft_id TEXT PRIMARY KEY REFERENCES visits (visit_id) ON DELETE CASCADE,
    rejected_id TEXT NOT NULL UNIQUE REFERENCES visits (visit_id),
    issues TEXT NOT NULL
);

CREATE TABLE attachments_sent (
    sha256 TEXT PRIMARY KEY REFERENCES attachments (sha256)
) WITHOUT ROWID;
"#
    };
}

/// A fresh database at [`VERSION`].
pub const SQL: &str = concat!(
    r#"
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
) WITHOUT ROWID;

-- Household states as pulled from the server (baseline merged with every accepted visit).
CREATE TABLE households (
    household_id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    rw TEXT,
    rt TEXT,
    head_name TEXT NOT NULL,
    address TEXT NOT NULL,
    status TEXT NOT NULL,
    state_json TEXT NOT NULL,
    state_hash TEXT NOT NULL
);
CREATE INDEX households_by_rt ON households (region, rw, rt, head_name);

-- Drafts and finished visits. No foreign key to households: a household may leave the phone's
-- areas, and the visits finished on it must stay until the server has them.
CREATE TABLE visits (
    visit_id TEXT PRIMARY KEY,
    household_id TEXT,
    outcome TEXT,
    body TEXT NOT NULL,
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

-- Finished visits waiting for, or holding, the server's answer.
CREATE TABLE outbox (
    device_seq INTEGER PRIMARY KEY,
    visit_id TEXT NOT NULL UNIQUE REFERENCES visits (visit_id),
    state TEXT NOT NULL DEFAULT 'PENDING'
        CHECK (state IN ('PENDING', 'ACCEPTED', 'DUPLICATE', 'REJECTED')),
    answer TEXT
);
CREATE INDEX outbox_pending ON outbox (state, device_seq);

CREATE TABLE attachments (
    sha256 TEXT PRIMARY KEY,
    bytes BLOB NOT NULL,
    stored_at INTEGER NOT NULL
);
"#,
    members_sql!(),
    sync_sql!()
);

/// Settings of every connection, outside any transaction. `synchronous=FULL`: a finished visit
/// must survive a power cut, not only a crash. `temp_store=MEMORY` avoids Android's missing temp
/// directory (SQLITE_IOERR_GETTEMPPATH).
pub fn prepare(conn: &Connection) -> Result<(), Error> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

/// Creates a fresh database at [`VERSION`].
pub fn init(tx: &Transaction<'_>) -> Result<(), Error> {
    tx.execute_batch(SQL)?;
    Ok(())
}

/// Upgrades from `version` to `version + 1`.
pub fn upgrade_from(tx: &Transaction<'_>, version: u32) -> Result<(), Error> {
    match version {
        1 => {
            tx.execute_batch(members_sql!())?;
            super::households::reindex_all_members(tx)?;
            Ok(())
        }
        2 => Ok(tx.execute_batch(sync_sql!())?),
        _ => Err(Error::IncompatibleVersion {
            found: version,
            supported: VERSION,
        }),
    }
}

/// Opens the schema on a connection: creates it, upgrades it step by step, or refuses a file
/// written by a newer app (never touching it).
pub fn migrate(conn: &mut Connection) -> Result<(), Error> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > VERSION {
        return Err(Error::IncompatibleVersion {
            found,
            supported: VERSION,
        });
    }
    if found == 0 {
        let empty: bool = tx.query_row(
            "SELECT count(*) = 0 FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )?;
        if !empty {
            return Err(Error::IncompatibleVersion {
                found,
                supported: VERSION,
            });
        }
        init(&tx)?;
    } else {
        for version in found..VERSION {
            upgrade_from(&tx, version)?;
        }
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema of version 1, exactly as version 1 of the app created it.
    const V1_SQL: &str = r#"
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
) WITHOUT ROWID;

-- Household states as pulled from the server (baseline merged with every accepted visit).
CREATE TABLE households (
    household_id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    rw TEXT,
    rt TEXT,
    head_name TEXT NOT NULL,
    address TEXT NOT NULL,
    status TEXT NOT NULL,
    state_json TEXT NOT NULL,
    state_hash TEXT NOT NULL
);
CREATE INDEX households_by_rt ON households (region, rw, rt, head_name);

-- Drafts and finished visits. No foreign key to households: a household may leave the phone's
-- areas, and the visits finished on it must stay until the server has them.
CREATE TABLE visits (
    visit_id TEXT PRIMARY KEY,
    household_id TEXT,
    outcome TEXT,
    body TEXT NOT NULL,
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

-- Finished visits waiting for, or holding, the server's answer.
CREATE TABLE outbox (
    device_seq INTEGER PRIMARY KEY,
    visit_id TEXT NOT NULL UNIQUE REFERENCES visits (visit_id),
    state TEXT NOT NULL DEFAULT 'PENDING'
        CHECK (state IN ('PENDING', 'ACCEPTED', 'DUPLICATE', 'REJECTED')),
    answer TEXT
);
CREATE INDEX outbox_pending ON outbox (state, device_seq);

CREATE TABLE attachments (
    sha256 TEXT PRIMARY KEY,
    bytes BLOB NOT NULL,
    stored_at INTEGER NOT NULL
);
PRAGMA user_version = 1;
"#;

    /// Every schema object, with its SQL folded to single spaces.
    fn schema_of(conn: &Connection) -> Vec<(String, String, String)> {
        let mut stmt = conn
            .prepare("SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?)))
            .unwrap()
            .map(|row| {
                let (t, n, sql) = row.unwrap();
                (t, n, sql.split_whitespace().collect::<Vec<_>>().join(" "))
            })
            .collect()
    }

    #[test]
    fn an_upgraded_database_equals_a_fresh_one() {
        let mut fresh = Connection::open_in_memory().unwrap();
        migrate(&mut fresh).unwrap();

        // A version-1 phone that already holds a pulled household.
        let mut old = Connection::open_in_memory().unwrap();
        old.execute_batch(V1_SQL).unwrap();
        let household = crate::sample::household(1, &crate::sample::village(), 1, 1);
        let merged = crate::merge::merge(&household, &[], &[]).unwrap();
        old.execute(
            "INSERT INTO households VALUES (?1, ?2, '001', '001', ?3, ?4, 'NOT_VISITED', ?5, ?6)",
            rusqlite::params![
                household.household_id.to_string(),
                household.region.to_string(),
                household.head_name,
                household.address,
                serde_json::to_string(&merged.state).unwrap(),
                merged.state_hash.to_string(),
            ],
        )
        .unwrap();
        migrate(&mut old).unwrap();
        let indexed: u32 = old
            .query_row(
                "SELECT count(*) FROM members WHERE nik IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            indexed, 4,
            "the upgrade indexes the members already on the phone"
        );

        assert_eq!(schema_of(&old), schema_of(&fresh));
        let version = |c: &Connection| {
            c.query_row("PRAGMA user_version", [], |r| r.get::<_, u32>(0))
                .unwrap()
        };
        assert_eq!(version(&old), VERSION);
        assert_eq!(version(&fresh), VERSION);
    }

    #[test]
    fn a_database_from_a_newer_app_is_refused_and_left_alone() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
            .unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(Error::IncompatibleVersion { found: 99, .. })
        ));
        assert_eq!(schema_of(&conn).len(), 1);
    }
}
