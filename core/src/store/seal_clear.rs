//! Sealing a store that an earlier version kept clear (schema 1 to 3), on its first opening with
//! a key. The rows are copied, sealed, into a new file beside it, which then replaces it: the
//! clear file is never rewritten in place, so a power cut at any moment leaves either the whole
//! clear store or the whole sealed one, and no page of clear data survives inside the new file.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use rusqlite::types::Value;
use rusqlite::{Connection, Transaction, params_from_iter};

use super::sealed::Sealer;
use super::{
    KEY_CHECK, META_VALUE, Result, attachments, households, schema, set_meta, sync, visits,
};
use crate::merge::{HouseholdState, Merged};
use crate::model::Sha256;

/// A table copied row by row: the column that keys the row (the place a sealed value is bound
/// to), the one column that gets sealed, and the others, copied as they are.
struct Copied {
    table: &'static str,
    row_key: &'static str,
    sealed: &'static str,
    sealed_as: &'static str,
    others: &'static [&'static str],
}

/// Every table but the households (rebuilt through the code that saves a pulled state), in an
/// order that satisfies the foreign keys.
const COPIED: [Copied; 6] = [
    Copied {
        table: "meta",
        row_key: "key",
        sealed: "value",
        sealed_as: META_VALUE,
        others: &[],
    },
    Copied {
        table: "visits",
        row_key: "visit_id",
        sealed: "body",
        sealed_as: visits::BODY,
        others: &[
            "household_id",
            "outcome",
            "finished",
            "content_hash",
            "device_seq",
            "supersedes",
            "updated_at",
        ],
    },
    Copied {
        table: "outbox",
        row_key: "visit_id",
        sealed: "answer",
        sealed_as: sync::ANSWER,
        others: &["device_seq", "state"],
    },
    Copied {
        table: "attachments",
        row_key: "sha256",
        sealed: "bytes",
        sealed_as: attachments::BYTES,
        others: &["stored_at"],
    },
    Copied {
        table: "reviews",
        row_key: "review_id",
        sealed: "body",
        sealed_as: sync::REVIEW,
        others: &[
            "household_id",
            "visit_id",
            "decision",
            "decided_at",
            "read_at",
        ],
    },
    Copied {
        table: "reopened",
        row_key: "draft_id",
        sealed: "issues",
        sealed_as: sync::REOPENED_ISSUES,
        others: &["rejected_id"],
    },
];

/// Tables with nothing to seal, copied as they are.
const CLEAR_TABLES: [(&str, &str); 2] = [("regions", "code, name"), ("attachments_sent", "sha256")];

/// Seals the clear store open on `clear` (at `path`) and returns a connection to the sealed one.
pub fn seal(mut clear: Connection, path: &Path, sealer: &Sealer) -> Result<Connection> {
    schema::upgrade_clear(&mut clear)?;
    // Everything into the main file, so that the WAL left behind holds nothing of its own.
    clear.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;

    let sealing = sibling(path, ".sealing");
    remove_with_journals(&sealing)?;
    let mut sealed = Connection::open(&sealing)?;
    sealed.pragma_update(None, "journal_mode", "DELETE")?;
    sealed.pragma_update(None, "synchronous", "FULL")?;
    {
        let tx = sealed.transaction()?;
        schema::init(&tx)?;
        copy_rows(&clear, &tx, sealer)?;
        set_meta(&tx, sealer, KEY_CHECK, KEY_CHECK)?;
        tx.commit()?;
    }
    sealed.close().map_err(|(_, e)| e)?;
    clear.close().map_err(|(_, e)| e)?;
    File::open(&sealing)?.sync_all()?;

    // The clear WAL and shared memory belong to the file being replaced: gone before the rename,
    // so that SQLite can never lay them over the sealed file.
    for suffix in ["-wal", "-shm"] {
        remove_if_present(&sibling(path, suffix))?;
    }
    fs::rename(&sealing, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    super::open_connection(path)
}

fn copy_rows(clear: &Connection, tx: &Transaction<'_>, sealer: &Sealer) -> Result<()> {
    for (table, columns) in CLEAR_TABLES {
        let rows: Vec<Vec<Value>> = select(clear, table, columns)?;
        let marks = vec!["?"; columns.split(',').count()].join(", ");
        let mut insert =
            tx.prepare(&format!("INSERT INTO {table} ({columns}) VALUES ({marks})"))?;
        for row in rows {
            insert.execute(params_from_iter(row))?;
        }
    }

    let states: Vec<(String, String)> = clear
        .prepare("SELECT state_json, state_hash FROM households")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (json, hash) in states {
        let merged = Merged {
            state: serde_json::from_str::<HouseholdState>(&json)?,
            state_hash: Sha256::parse(&hash).map_err(|_| households::corrupt("state hash"))?,
        };
        households::save_household(tx, sealer, &merged)?;
    }

    for copied in &COPIED {
        // Selected in this order: the row's key, the sealed column, the others.
        let (key_at, sealed_at) = (0, 1);
        let mut columns = vec![copied.row_key, copied.sealed];
        columns.extend(copied.others);
        let marks = vec!["?"; columns.len()].join(", ");
        let columns = columns.join(", ");
        let mut insert = tx.prepare(&format!(
            "INSERT INTO {} ({columns}) VALUES ({marks})",
            copied.table
        ))?;
        for mut row in select(clear, copied.table, &columns)? {
            let key = match &row[key_at] {
                Value::Text(key) => key.clone(),
                Value::Integer(n) => n.to_string(),
                _ => return Err(households::corrupt("a row's key")),
            };
            row[sealed_at] = match std::mem::replace(&mut row[sealed_at], Value::Null) {
                Value::Null => Value::Null,
                Value::Text(text) => {
                    Value::Blob(sealer.seal(copied.sealed_as, &key, text.as_bytes())?)
                }
                Value::Blob(bytes) => Value::Blob(sealer.seal(copied.sealed_as, &key, &bytes)?),
                _ => return Err(households::corrupt(copied.sealed_as)),
            };
            insert.execute(params_from_iter(row))?;
        }
    }
    Ok(())
}

fn select(conn: &Connection, table: &str, columns: &str) -> Result<Vec<Vec<Value>>> {
    let width = columns.split(',').count();
    let mut stmt = conn.prepare(&format!("SELECT {columns} FROM {table}"))?;
    let rows = stmt.query_map([], |r| (0..width).map(|i| r.get::<_, Value>(i)).collect())?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// An unfinished sealing of an earlier opening: the clear file is still whole, so it starts over.
fn remove_with_journals(path: &Path) -> Result<()> {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        remove_if_present(&sibling(path, suffix))?;
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
pub(super) mod tests {
    #![allow(clippy::unwrap_used)]

    use tempfile::TempDir;
    use uuid::Uuid;

    use super::*;
    use crate::canonical::visit_content_hash;
    use crate::merge::merge;
    use crate::model::*;
    use crate::sample;
    use crate::store::{Error, OutboxState, Store, StoreKey};

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

    /// A clear store of version 3 as a phone of the last version left it: enrolled, one household
    /// pulled, a draft, a finished visit waiting to be sent, a photo and a supervisor's request.
    fn clear_store(path: &Path) -> (Visit, Visit, Household) {
        let mut conn = Connection::open(path).unwrap();
        conn.execute_batch(V1_SQL).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        schema::upgrade_clear(&mut conn).unwrap();

        let household = sample::household(1, &sample::village(), 1, 1);
        let merged = merge(&household, &[], &[]).unwrap();
        conn.execute(
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
        let (device, enumerator) = (
            DeviceId(Uuid::from_u128(7)),
            EnumeratorId(Uuid::from_u128(8)),
        );
        for (key, value) in [
            ("device_id", device.to_string()),
            ("enumerator_id", enumerator.to_string()),
            ("server_url", "https://verivali.example".into()),
            ("enumerator_name", ENUMERATOR.into()),
            ("device_token", TOKEN.into()),
            ("areas", "[]".into()),
        ] {
            conn.execute("INSERT INTO meta VALUES (?1, ?2)", [key, &value])
                .unwrap();
        }
        let fill = |n: u64| {
            let started = Timestamp(Timestamp::now_utc().0 - time::Duration::minutes(20));
            let draft = Visit::draft(Some(household.household_id), enumerator, device, started);
            let mut visit = sample::fill_draft(&draft, &household, started, n);
            visit.kk_number = Some(Entered::from_input(KK));
            visit.notes = Some(NOTE.into());
            visit
        };
        let draft = fill(1);
        let mut finished = fill(2);
        finished.finished_at = Some(Timestamp::now_utc());
        conn.execute(
            "INSERT INTO visits (visit_id, household_id, outcome, body, updated_at)
             VALUES (?1, ?2, 'FOUND', ?3, 1)",
            rusqlite::params![
                draft.visit_id.to_string(),
                household.household_id.to_string(),
                serde_json::to_string(&draft).unwrap()
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO visits VALUES (?1, ?2, 'FOUND', ?3, 1, ?4, 1, NULL, 2)",
            rusqlite::params![
                finished.visit_id.to_string(),
                household.household_id.to_string(),
                serde_json::to_string(&finished).unwrap(),
                visit_content_hash(&finished).unwrap().to_string(),
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO outbox (device_seq, visit_id) VALUES (1, ?1)",
            [finished.visit_id.to_string()],
        )
        .unwrap();
        let photo = b"JPEG photo of Suwarni's house".as_slice();
        conn.execute(
            "INSERT INTO attachments VALUES (?1, ?2, 3)",
            rusqlite::params![Sha256::of(photo).to_string(), photo],
        )
        .unwrap();
        let review = revisit_request(household.household_id);
        conn.execute(
            "INSERT INTO reviews VALUES (?1, ?2, NULL, 'REQUEST_REVISIT', ?3, 4, NULL)",
            rusqlite::params![
                review.review_id.to_string(),
                household.household_id.to_string(),
                serde_json::to_string(&review).unwrap()
            ],
        )
        .unwrap();
        // Left open with its WAL full, as a phone switched off mid-day would leave it.
        std::mem::forget(conn);
        (draft, finished, household)
    }

    /// Personal texts of the test data beside its households' names and NIKs.
    pub(in crate::store) const TOKEN: &str = "tok-9f8e7d6c5b4a";
    pub(in crate::store) const ENUMERATOR: &str = "Kader Rina Wulandari";
    pub(in crate::store) const KK: &str = "3201010101010042";
    pub(in crate::store) const NOTE: &str = "Rumah Ibu Suwarni di belakang masjid";
    pub(in crate::store) const COMMENT: &str = "Tanyakan lagi pekerjaan Pak Suwarno";

    /// Every text of the test data that must not be readable from the files.
    pub(in crate::store) fn secrets(households: &[Household]) -> Vec<String> {
        let mut secrets: Vec<String> = [TOKEN, ENUMERATOR, KK, "Suwarni", "Suwarno"]
            .map(String::from)
            .to_vec();
        for household in households {
            secrets.push(household.head_name.clone());
            for member in &household.members {
                secrets.push(member.name().to_owned());
                secrets.extend(member.nik().map(|n| n.as_str().to_owned()));
            }
        }
        secrets
    }

    /// A supervisor's request to visit again, with a comment naming a person.
    pub(in crate::store) fn revisit_request(household: HouseholdId) -> Review {
        Review {
            review_id: ReviewId(Uuid::from_u128(1)),
            household_id: household,
            visit_id: None,
            decision: Decision::RequestRevisit,
            other_household_id: None,
            comment: Some(COMMENT.into()),
            reviewer_id: UserId(Uuid::from_u128(5)),
            decided_at: Timestamp::now_utc(),
        }
    }

    /// Fails if any file of the store (the database, its WAL, its journal, a sealing left
    /// behind) holds one of the secrets.
    pub(in crate::store) fn assert_files_hold_none(dir: &Path, secrets: &[String]) {
        let mut files = 0;
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = fs::read(&path).unwrap();
            files += 1;
            for secret in secrets {
                let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
                assert!(!found, "{} holds {secret:?}", path.display());
            }
        }
        assert!(files > 0);
    }

    #[test]
    fn a_clear_store_is_sealed_keeping_every_draft_and_unsent_visit() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("phone.db");
        let (draft, finished, household) = clear_store(&path);
        let secrets = secrets(std::slice::from_ref(&household));
        assert!(secrets.len() > 8);
        assert!(
            fs::read(sibling(&path, "-wal"))
                .unwrap()
                .windows(16)
                .any(|w| w == KK.as_bytes()),
            "the clear store holds the KK number before"
        );

        let store = Store::open(&path, &sample::store_key()).unwrap();
        assert_eq!(store.visit(draft.visit_id).unwrap().unwrap(), draft);
        let outbox = store.pending_outbox(10).unwrap();
        assert_eq!(outbox.len(), 1);
        assert_eq!(outbox[0].visit, finished);
        assert_eq!(store.outbox(10).unwrap()[0].state, OutboxState::Pending);
        assert_eq!(store.enrollment().unwrap().unwrap().token, TOKEN);
        let photo = Sha256::of(b"JPEG photo of Suwarni's house");
        assert!(store.attachment(&photo).unwrap().is_some());
        assert_eq!(
            store.inbox().unwrap()[0].head_name.as_deref(),
            Some(&*household.head_name)
        );
        let nik = household.members[0].nik().unwrap();
        assert_eq!(store.search_households(nik.as_str()).unwrap().len(), 1);
        assert!(store.integrity_problems().unwrap().is_empty());
        // Work goes on in the sealed store.
        let done = store
            .finish_visit(draft.visit_id, Timestamp::now_utc(), None)
            .unwrap();
        assert_eq!(done.device_seq, 2);

        assert_files_hold_none(dir.path(), &secrets);
        drop(store);
        assert_files_hold_none(dir.path(), &secrets);
        assert!(!sibling(&path, ".sealing").exists());

        // Sealed once: the same key opens it again, another key does not.
        let store = Store::open(&path, &sample::store_key()).unwrap();
        assert_eq!(store.pending_count().unwrap(), 2);
        drop(store);
        let other = StoreKey::from_array([1; StoreKey::LEN]);
        assert!(matches!(Store::open(&path, &other), Err(Error::WrongKey)));
    }

    #[test]
    fn a_sealing_cut_short_starts_over_from_the_whole_clear_store() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("phone.db");
        let (draft, _, _) = clear_store(&path);
        // What a power cut during an earlier sealing leaves: a half-written file beside it.
        fs::write(sibling(&path, ".sealing"), b"half a database").unwrap();
        let store = Store::open(&path, &sample::store_key()).unwrap();
        assert_eq!(store.visit(draft.visit_id).unwrap().unwrap(), draft);
        assert_eq!(store.pending_count().unwrap(), 1);
    }

    #[test]
    fn a_sealed_version_1_store_has_the_schema_of_a_fresh_one() {
        let dir = TempDir::new().unwrap();
        let (old, fresh) = (dir.path().join("old.db"), dir.path().join("fresh.db"));
        Connection::open(&old)
            .unwrap()
            .execute_batch(V1_SQL)
            .unwrap();
        drop(Store::open(&old, &sample::store_key()).unwrap());
        drop(Store::open(&fresh, &sample::store_key()).unwrap());
        let schema_of = |path: &Path| -> Vec<(String, String)> {
            Connection::open(path)
                .unwrap()
                .prepare("SELECT name, coalesce(sql, '') FROM sqlite_master ORDER BY name")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(schema_of(&old), schema_of(&fresh));
        let version = |path: &Path| -> u32 {
            Connection::open(path)
                .unwrap()
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(version(&old), schema::VERSION);
    }
}
