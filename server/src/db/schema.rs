//! The server's schema. `SQL` creates the current version; a database of an earlier version is
//! brought up to it by the steps in [`migrate`], in its transaction.

use rusqlite::Connection;

use super::DbError;

pub const VERSION: u32 = 7;

/// From version 1: supervisors get a role in place of the flag that allowed whole NIKs (a
/// supervisor who had it becomes a data officer, every other one a reviewer, as they were).
const FROM_1: &str = r#"
ALTER TABLE supervisors ADD COLUMN role TEXT NOT NULL DEFAULT 'REVIEWER'
    CHECK (role IN ('VIEWER', 'REVIEWER', 'DATA_OFFICER', 'ADMIN'));
UPDATE supervisors SET role = 'DATA_OFFICER' WHERE sees_nik = 1;
ALTER TABLE supervisors DROP COLUMN sees_nik;
"#;

/// From version 2: the audit log records the region an action concerned (entries before have
/// none, as actions that concern no region do).
const FROM_2: &str = r#"
ALTER TABLE audit_log ADD COLUMN region TEXT;
CREATE INDEX audit_log_by_region ON audit_log (region, seq) WHERE region IS NOT NULL;
"#;

/// From version 4, and in a new database: the households visited in each campaign, and their
/// number per village, for the campaigns page (campaigns.rs); filled from the stored visits by
/// [`crate::campaigns::count_all_visited`] in the same transaction.
/// From version 6, and in a new database: each row of a household (its visits, baseline and
/// duplicate keys, the campaigns that reached it) and each addressee of a decision carries the
/// region it belongs to (issue 16, item 5), as written then, so that PostgreSQL keeps them by
/// province with their households (docs/storage.md).
const FROM_6: &str = r#"
ALTER TABLE visits ADD COLUMN region TEXT NOT NULL DEFAULT '';
DROP TRIGGER visits_immutable;
UPDATE visits SET region = coalesce(
    (SELECT h.region FROM households h WHERE h.household_id = visits.household_id), '');
CREATE TRIGGER visits_immutable BEFORE UPDATE ON visits
BEGIN
    SELECT RAISE(ABORT, 'an accepted visit never changes');
END;
ALTER TABLE baselines ADD COLUMN region TEXT NOT NULL DEFAULT '';
UPDATE baselines SET region = coalesce(
    (SELECT h.region FROM households h WHERE h.household_id = baselines.household_id), '');
ALTER TABLE household_keys ADD COLUMN region TEXT NOT NULL DEFAULT '';
UPDATE household_keys SET region = coalesce(
    (SELECT h.region FROM households h WHERE h.household_id = household_keys.household_id), '');
ALTER TABLE campaign_households ADD COLUMN region TEXT NOT NULL DEFAULT '';
UPDATE campaign_households SET region = coalesce(
    (SELECT h.region FROM households h WHERE h.household_id = campaign_households.household_id),
    '');
ALTER TABLE review_recipients ADD COLUMN region TEXT NOT NULL DEFAULT '';
UPDATE review_recipients SET region = coalesce(
    (SELECT r.region FROM reviews r WHERE r.review_id = review_recipients.review_id), '');
"#;

/// From version 5, and in a new database: state that several server processes on one database
/// share (issue 16, item 3): the attempts counted against guessing, and imports running.
const FROM_5: &str = r#"
-- Attempts taken in a window that ends at `ends_at` (limits.rs): failed sign-ins per login
-- name and per address, enrollment codes per address.
CREATE TABLE attempts (
    key TEXT PRIMARY KEY,
    ends_at INTEGER NOT NULL,
    used INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX attempts_ending ON attempts (ends_at);
-- Imports running now, with their progress as the process running them last wrote it; a row
-- whose `beat_at` stopped moving is an import whose process died (import/jobs.rs).
CREATE TABLE running_imports (
    import_id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    done INTEGER NOT NULL,
    total INTEGER NOT NULL,
    beat_at INTEGER NOT NULL
) WITHOUT ROWID;
"#;

const FROM_4: &str = r#"
CREATE TABLE campaign_households (
    campaign_id TEXT NOT NULL,
    household_id TEXT NOT NULL,
    PRIMARY KEY (campaign_id, household_id)
) WITHOUT ROWID;
CREATE TABLE campaign_villages (
    campaign_id TEXT NOT NULL,
    region TEXT NOT NULL,
    households INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, region)
) WITHOUT ROWID;
"#;

/// From version 3, and in a new database: each import of a target list with its report, the
/// families a newer list no longer holds, waiting for a supervisor (issue 14, item 1), and what
/// each phone last reported of itself (item 3), and campaigns (item 5).
pub(super) const FROM_3: &str = r#"
-- Every import of a target list, from the CLI or the browser, with its report (JSON of
-- import::ImportReport: counts and each flagged or left-out row, never a NIK), or the error that
-- stored nothing. The report page and its XLSX read it.
CREATE TABLE target_imports (
    import_id TEXT PRIMARY KEY,
    -- The importer's region: their scope, '' for the CLI's whole country.
    region TEXT NOT NULL,
    actor TEXT NOT NULL,
    source TEXT NOT NULL,
    files TEXT NOT NULL,
    at INTEGER NOT NULL,
    report TEXT,
    error TEXT
);
CREATE INDEX target_imports_by_region ON target_imports (region, at);

-- Families of a target list that a newer list of the same source no longer holds. They are not
-- deleted: a supervisor confirms the removal (the baseline becomes REMOVED) or keeps them, and
-- their visits stay either way. A family listed again leaves the queue.
CREATE TABLE removal_candidates (
    household_id TEXT PRIMARY KEY REFERENCES households (household_id),
    region TEXT NOT NULL,
    -- The import that found it missing (a target_imports row written in the same transaction).
    import_id TEXT NOT NULL,
    listed_at INTEGER NOT NULL,
    -- NULL while it waits; REMOVED or KEPT once decided.
    decision TEXT CHECK (decision IN ('REMOVED', 'KEPT')),
    decided_by TEXT,
    decided_at INTEGER
);
CREATE INDEX removal_candidates_waiting ON removal_candidates (region) WHERE decision IS NULL;

-- Campaigns (verval rounds): a region's first and last day, in its own time zone. Campaigns of
-- nested regions never overlap (campaigns.rs checks it), so a visit belongs to one at most.
CREATE TABLE campaigns (
    campaign_id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL CHECK (ends_on >= starts_on),
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- What each phone last said of itself at a sync (protocol::PhoneReport): the admin's list of
-- phones shows its app version and the work it holds unsent.
ALTER TABLE devices ADD COLUMN app_version TEXT;
ALTER TABLE devices ADD COLUMN unsent_visits INTEGER;
ALTER TABLE devices ADD COLUMN unsent_photos INTEGER;
ALTER TABLE devices ADD COLUMN drafts INTEGER;
ALTER TABLE devices ADD COLUMN reported_at INTEGER;
-- The highest device_seq the phone said it had finished (each push carries it): completeness
-- counts the numbers up to it that never arrived.
ALTER TABLE devices ADD COLUMN finished_seq INTEGER;
"#;

pub(super) const SQL: &str = r#"
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('change_seq', '0');

CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
) WITHOUT ROWID;

-- Village (or other region) outlines for the map, imported from GeoJSON (`import-boundaries`):
-- the geometry as the file gave it (a Polygon or MultiPolygon), keyed by region code.
CREATE TABLE boundaries (
    region TEXT PRIMARY KEY,
    geometry TEXT NOT NULL
) WITHOUT ROWID;

-- Target households: the merged state that pulls serve, with what reports and pages need
-- beside it. The baseline is in its own table: a merge rewrites this row, which then fits in a
-- page instead of a chain of overflow pages.
CREATE TABLE households (
    household_id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    rw TEXT,
    rt TEXT,
    source TEXT NOT NULL,
    source_id TEXT,
    head_name TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    state_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    -- The merged verdicts, beside the state, so that reports count without reading states.
    outcome TEXT,
    assessment TEXT,
    recommendation TEXT,
    -- Digest of the duplicate-key material (NIKs, KK, names with birth dates) last recorded:
    -- when a merge leaves it unchanged, the keys are not touched.
    keys_digest TEXT NOT NULL DEFAULT '',
    -- ACTIVE, PROPOSED, MERGED_INTO or REMOVED, as merged: progress counts ACTIVE households.
    target_status TEXT NOT NULL DEFAULT 'ACTIVE',
    -- The household this one was merged into (MERGE_HOUSEHOLDS): that one's merge reads this
    -- one's baseline and visits too.
    merged_into TEXT,
    change_seq INTEGER NOT NULL
);
-- Each household as imported from its target list (or proposed by a visit): what merges start from.
CREATE TABLE baselines (
    household_id TEXT PRIMARY KEY REFERENCES households (household_id),
    baseline TEXT NOT NULL
);

CREATE UNIQUE INDEX households_by_source ON households (source, source_id) WHERE source_id IS NOT NULL;
CREATE INDEX households_by_place ON households (region, rw, rt);
CREATE INDEX households_by_change ON households (region, change_seq);
CREATE INDEX households_absorbed ON households (merged_into) WHERE merged_into IS NOT NULL;
-- Progress counts households by verdict from this index alone, in its order (reports.rs).
CREATE INDEX households_by_verdict ON households
    (region, target_status, status, outcome, assessment, recommendation, rw, rt);

-- Every accepted visit, immutable. Two visits of one content are both kept, for audit; the merge
-- counts one of them (docs/merge.md).
CREATE TABLE visits (
    visit_id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (household_id),
    enumerator_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    device_seq INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    skew_ms INTEGER NOT NULL,
    order_time INTEGER NOT NULL,
    flags TEXT NOT NULL DEFAULT '[]',
    -- Where the visit was made, beside the body, for the map's clusters (NULL: no GPS point).
    lat REAL,
    lon REAL
);
CREATE INDEX visits_by_household ON visits (household_id, content_hash);
CREATE INDEX visits_by_device ON visits (device_id, device_seq);
-- The queue of flagged visits: few of all.
CREATE INDEX visits_flagged ON visits (household_id) WHERE flags <> '[]';
-- The map's clusters read the points inside a bounding box.
CREATE INDEX visits_by_place ON visits (lat, lon) WHERE lat IS NOT NULL;
CREATE TRIGGER visits_immutable BEFORE UPDATE ON visits
BEGIN
    SELECT RAISE(ABORT, 'an accepted visit never changes');
END;

-- Tallies of the visits, kept by the writer in the transaction that stores them (tallies.rs):
-- visits per village and district day (the day in the district's zone) for the dashboard's
-- today and this week, the enumerators who worked there that day, flagged visits no supervisor
-- has decided on yet per village, and visits per village and cell of the map's finest tallied
-- grid for its clusters.
CREATE TABLE visit_days (
    region TEXT NOT NULL,
    day INTEGER NOT NULL,
    visits INTEGER NOT NULL,
    PRIMARY KEY (region, day)
) WITHOUT ROWID;
CREATE TABLE enumerator_days (
    region TEXT NOT NULL,
    day INTEGER NOT NULL,
    enumerator_id TEXT NOT NULL,
    PRIMARY KEY (region, day, enumerator_id)
) WITHOUT ROWID;
CREATE TABLE flagged_waiting (
    region TEXT PRIMARY KEY,
    visits INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE visit_cells (
    region TEXT NOT NULL,
    cy INTEGER NOT NULL,
    cx INTEGER NOT NULL,
    visits INTEGER NOT NULL,
    flagged INTEGER NOT NULL,
    lat_sum REAL NOT NULL,
    lon_sum REAL NOT NULL,
    -- The first household visited in the cell: the cluster's while the cell has one visit.
    household_id TEXT NOT NULL,
    PRIMARY KEY (region, cy, cx)
) WITHOUT ROWID;

-- Supervisors' decisions. `enumerator_id`: whose visit it decides; NULL for a decision on the
-- household, which every phone of its area receives.
CREATE TABLE reviews (
    review_id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (household_id),
    region TEXT NOT NULL,
    visit_id TEXT,
    enumerator_id TEXT,
    body TEXT NOT NULL,
    decided_at INTEGER NOT NULL,
    change_seq INTEGER NOT NULL
);
CREATE INDEX reviews_by_household ON reviews (household_id);
CREATE INDEX reviews_by_enumerator ON reviews (enumerator_id, change_seq);
-- Whether a visit was decided on (the queue of visits to review).
CREATE INDEX reviews_by_visit ON reviews (visit_id) WHERE visit_id IS NOT NULL;
-- The first decision on a flagged visit takes it out of its village's tally of flagged visits
-- waiting (the writer adds them as they arrive, tallies.rs). A trigger, so that no path that
-- stores a decision can leave the tally behind.
CREATE TRIGGER reviews_decide_flagged AFTER INSERT ON reviews
WHEN NEW.visit_id IS NOT NULL
    AND EXISTS (SELECT 1 FROM visits WHERE visit_id = NEW.visit_id AND flags <> '[]')
    AND NOT EXISTS (SELECT 1 FROM reviews WHERE visit_id = NEW.visit_id AND review_id <> NEW.review_id)
BEGIN
    UPDATE flagged_waiting SET visits = visits - 1 WHERE region =
        (SELECT h.region FROM visits v JOIN households h ON h.household_id = v.household_id
         WHERE v.visit_id = NEW.visit_id);
END;
-- Whose phones receive a decision on a visit: its enumerator, and for a resolved conflict every
-- enumerator whose visit was in it.
CREATE TABLE review_recipients (
    enumerator_id TEXT NOT NULL,
    change_seq INTEGER NOT NULL,
    review_id TEXT NOT NULL REFERENCES reviews (review_id),
    PRIMARY KEY (enumerator_id, change_seq)
) WITHOUT ROWID;

CREATE TABLE enumerators (
    enumerator_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Areas are never deleted: a removed area keeps its removal time, so that visits finished while
-- the household was still assigned are accepted (and flagged).
CREATE TABLE areas (
    enumerator_id TEXT NOT NULL REFERENCES enumerators (enumerator_id),
    region TEXT NOT NULL,
    rw TEXT,
    rt TEXT,
    added_at INTEGER NOT NULL,
    removed_at INTEGER,
    -- The change number of the removal, so that pulls tell phones which households left.
    removed_seq INTEGER
);
CREATE INDEX areas_by_enumerator ON areas (enumerator_id);

CREATE TABLE enrollment_codes (
    code_hash TEXT PRIMARY KEY,
    enumerator_id TEXT NOT NULL REFERENCES enumerators (enumerator_id),
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    device_id TEXT
) WITHOUT ROWID;

CREATE TABLE devices (
    device_id TEXT PRIMARY KEY,
    enumerator_id TEXT NOT NULL REFERENCES enumerators (enumerator_id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    enrolled_at INTEGER NOT NULL,
    revoked_at INTEGER,
    -- The phone's last call (a push, a pull, a photo), to the nearest few minutes.
    last_seen_at INTEGER
);

-- Keys for suspected duplicates (a NIK, a KK number, a name with birth date in a village), as
-- sha256 digests: the index never holds a NIK in clear. No index by household: the keys recorded
-- for one are those of its stored state (households/keys.rs), so none is looked up by household.
CREATE TABLE household_keys (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    household_id TEXT NOT NULL REFERENCES households (household_id),
    PRIMARY KEY (kind, key, household_id)
) WITHOUT ROWID;

CREATE TABLE supervisors (
    user_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- Sees and decides on this region and everything inside it.
    region TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    -- What they may do there (roles.rs): VIEWER reads, REVIEWER also decides and exports masked
    -- lists, DATA_OFFICER also sees whole NIK and KK numbers, ADMIN also manages users and imports.
    role TEXT NOT NULL DEFAULT 'REVIEWER'
        CHECK (role IN ('VIEWER', 'REVIEWER', 'DATA_OFFICER', 'ADMIN')),
    -- Signing in from the browser: a login name and an argon2 hash (PHC string), once set.
    login TEXT UNIQUE,
    password_hash TEXT,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

-- Supervisors signed in from the browser: the cookie's token, stored only as its sha256.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES supervisors (user_id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at INTEGER
) WITHOUT ROWID;

-- Every review, export and admin action (UU 27/2022 processing record). Append-only.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT,
    -- The region the action concerned, where it concerned one (a household's village, an
    -- export's region): the audit page filters by it and shows an admin their region's.
    region TEXT
);
CREATE INDEX audit_log_by_region ON audit_log (region, seq) WHERE region IS NOT NULL;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Numbers of a device's visits that were rejected: the phone reopened each as a draft, which gets a
-- new number when finished again, so the old number never arrives. Completeness shows them apart
-- from the numbers that are missing.
-- Which device sent all of an attachment's bytes: only it is told the attachment is held.
CREATE TABLE attachment_holders (
    sha256 TEXT NOT NULL,
    device_id TEXT NOT NULL,
    PRIMARY KEY (sha256, device_id)
) WITHOUT ROWID;

CREATE TABLE rejected_seqs (
    device_id TEXT NOT NULL,
    device_seq INTEGER NOT NULL,
    visit_id TEXT,
    codes TEXT NOT NULL,
    rejected_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, device_seq)
) WITHOUT ROWID;

CREATE TABLE duplicates (
    household_a TEXT NOT NULL,
    household_b TEXT NOT NULL,
    kind TEXT NOT NULL,
    found_at INTEGER NOT NULL,
    dismissed_at INTEGER,
    PRIMARY KEY (household_a, household_b, kind)
) WITHOUT ROWID;
"#;

pub fn prepare(conn: &Connection) -> Result<(), DbError> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // An acknowledged visit must survive a power cut.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    keep_plans(conn)?;
    set_cache_kib(conn, WRITER_CACHE_KIB)
}

/// Turns on SQLite's query planner stability guarantee. Without it, a statement whose plan looked
/// at a bound value (here: the heuristic that asks whether `x = ?` is 0 or 1) is marked expired by
/// `sqlite3_clear_bindings`, which rusqlite's statement cache calls on every return: such a
/// statement was parsed and planned again at every use, 9% of the writer's time at ingest.
///
/// Prepared statements are kept by rusqlite's cache, sixteen by default: a push runs more than
/// that on the writer (checks, visits, tallies, the merged rows, keys, the change sequence), so
/// the least recently used were prepared again at every push.
pub fn keep_plans(conn: &Connection) -> Result<(), DbError> {
    conn.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

/// Prepared statements kept per connection: more than any one use (a push) runs.
const STATEMENTS_KEPT: usize = 128;

/// Page cache of the one writer: it touches households, visits and keys all over the file, and
/// reading pages back through the kernel showed in profiles. Readers get less (there are several,
/// and the server's memory budget is 300 MB at a million visits).
pub const WRITER_CACHE_KIB: i64 = 64 * 1024;
pub const READER_CACHE_KIB: i64 = 8 * 1024;

/// How much of the file a reader maps instead of copying pages into its cache. A reader's cache
/// is thrown away whenever another connection has committed since its last transaction, which
/// under ingest is every time: each push's plan re-read every page it touched, and half the
/// readers' time went to allocating, copying and freeing pages.
pub const MMAP_BYTES: i64 = 1 << 34;

pub fn set_cache_kib(conn: &Connection, kib: i64) -> Result<(), DbError> {
    conn.pragma_update(None, "cache_size", -kib)?;
    Ok(())
}

pub fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    match found {
        0 => tx.execute_batch(&format!("{SQL}{FROM_3}{FROM_4}{FROM_5}{FROM_6}"))?,
        1 => tx.execute_batch(&format!("{FROM_1}{FROM_2}{FROM_3}{FROM_4}{FROM_5}{FROM_6}"))?,
        2 => tx.execute_batch(&format!("{FROM_2}{FROM_3}{FROM_4}{FROM_5}{FROM_6}"))?,
        3 => tx.execute_batch(&format!("{FROM_3}{FROM_4}{FROM_5}{FROM_6}"))?,
        4 => tx.execute_batch(&format!("{FROM_4}{FROM_5}{FROM_6}"))?,
        5 => tx.execute_batch(&format!("{FROM_5}{FROM_6}"))?,
        6 => tx.execute_batch(FROM_6)?,
        VERSION => {}
        other => return Err(DbError::IncompatibleVersion(other)),
    }
    if found != VERSION {
        crate::campaigns::count_all_visited((&tx).into())?;
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_4_database_counts_the_households_its_campaigns_reached() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&format!("{SQL}{FROM_3}")).unwrap();
        // A campaign of Lahat (WIB) for 2 December 2025. Household h1 is visited twice on its
        // day, the second time at 23:30 WIB (16:30 UTC); h2 of the same village at 00:30 WIB on
        // 3 December (17:30 UTC on the 2nd), after the campaign; h3 of another kabupaten on its day.
        conn.execute_batch(
            "PRAGMA user_version = 4;
             INSERT INTO campaigns (campaign_id, region, name, starts_on, ends_on, created_by,
                 created_at)
             VALUES ('c1', '16.04', 'Verval', '2025-12-02', '2025-12-02', 'cli', 0);
             INSERT INTO households (household_id, region, source, state, state_hash, status,
                 change_seq)
             VALUES ('h1', '16.04.01.2001', 'P3KE', '', '', 'NOT_VISITED', 1),
                    ('h2', '16.04.01.2001', 'P3KE', '', '', 'NOT_VISITED', 2),
                    ('h3', '16.05.01.2001', 'P3KE', '', '', 'NOT_VISITED', 3);
             INSERT INTO visits (visit_id, household_id, enumerator_id, device_id, device_seq,
                 content_hash, body, received_at, skew_ms, order_time)
             VALUES ('v1', 'h1', 'e', 'd', 1, 'c1', '{}', 0, 0, 1764662400000),
                    ('v2', 'h1', 'e', 'd', 2, 'c2', '{}', 0, 0, 1764693000000),
                    ('v3', 'h2', 'e', 'd', 3, 'c3', '{}', 0, 0, 1764696600000),
                    ('v4', 'h3', 'e', 'd', 4, 'c4', '{}', 0, 0, 1764662400000);
             INSERT INTO baselines (household_id, baseline) VALUES ('h3', '{}');
             INSERT INTO household_keys (kind, key, household_id) VALUES ('KK', 'k', 'h3');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let villages: Vec<(String, String, i64)> = conn
            .prepare("SELECT campaign_id, region, households FROM campaign_villages")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(villages, [("c1".to_owned(), "16.04.01.2001".to_owned(), 1)]);
        // Version 7: each visit carries its household's region.
        let regions: Vec<(String, String)> = conn
            .prepare("SELECT visit_id, region FROM visits ORDER BY visit_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let village = |v: &str, r: &str| (v.to_owned(), r.to_owned());
        assert_eq!(
            regions,
            [
                village("v1", "16.04.01.2001"),
                village("v2", "16.04.01.2001"),
                village("v3", "16.04.01.2001"),
                village("v4", "16.05.01.2001")
            ]
        );
        for table in ["baselines", "household_keys"] {
            let region: String = conn
                .query_row(&format!("SELECT region FROM {table}"), [], |r| r.get(0))
                .unwrap();
            assert_eq!(region, "16.05.01.2001", "{table}");
        }
    }

    #[test]
    fn a_version_1_database_keeps_its_supervisors_with_the_roles_they_had_and_gains_audit_regions()
    {
        let mut conn = Connection::open_in_memory().unwrap();
        // Version 1's supervisors: a flag for whole NIKs where the role now is; its audit log
        // without regions.
        conn.execute_batch(SQL).unwrap();
        conn.execute_batch(
            "ALTER TABLE supervisors ADD COLUMN sees_nik INTEGER NOT NULL DEFAULT 0;
             ALTER TABLE supervisors DROP COLUMN role;
             DROP INDEX audit_log_by_region;
             ALTER TABLE audit_log DROP COLUMN region;
             PRAGMA user_version = 1;
             INSERT INTO supervisors (user_id, name, region, token_hash, created_at, sees_nik)
             VALUES ('a', 'Dinsos', '16.04', 'ha', 0, 1), ('b', 'Bappeda', '16.04', 'hb', 0, 0);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let roles: Vec<(String, String)> = conn
            .prepare("SELECT name, role FROM supervisors ORDER BY user_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            roles,
            [
                ("Dinsos".to_owned(), "DATA_OFFICER".to_owned()),
                ("Bappeda".to_owned(), "REVIEWER".to_owned())
            ]
        );
        let version: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, VERSION);
        let regions: i64 = conn
            .query_row(
                "SELECT count(*) FROM pragma_table_info('audit_log') WHERE name = 'region'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(regions, 1);
        // A role the server does not know is refused by the table itself.
        assert!(
            conn.execute(
                "UPDATE supervisors SET role = 'ROOT' WHERE user_id = 'a'",
                []
            )
            .is_err()
        );
    }
}
