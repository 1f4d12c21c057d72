//! The PostgreSQL engine (issue 16, docs/storage.md): for a province or the nation, with several
//! server processes on one database. Each write is a transaction of its own (PostgreSQL commits
//! side by side and flushes its WAL at commit, so an answer after `COMMIT` is on disk); each read
//! is a read-only snapshot. The store's statements run on it through [`Conn`].
//!
//! The driver is the `postgres` crate, the blocking face of `tokio-postgres`: the store's logic is
//! blocking, as on SQLite, and runs on blocking threads either way. Connections are kept in a
//! small pool of our own, as the SQLite readers are, because each keeps the statements it
//! prepared (the driver keeps none).

use std::sync::Mutex;

use super::DbError;
use crate::store::Conn;
use crate::store::sql::PgSession;

/// The schema, at [`super::schema::VERSION`].
const SCHEMA: &str = include_str!("postgres.sql");

/// The lock two processes starting on one new database take, so that one creates the schema.
const SCHEMA_LOCK: i64 = 0x7665_7269_7661_6c69;

/// A PostgreSQL database: where it is, and the connections not in use.
/// (The driver's `Config` shows no password in its `Debug`.)
#[derive(Debug)]
pub struct Postgres {
    config: postgres::Config,
    idle: Mutex<Vec<PgSession>>,
}

impl Postgres {
    /// Connects to the database at `url` (`postgres://user:password@host:port/name`), creating
    /// its schema when it is empty; a database of another schema version is refused.
    pub fn open(url: &str) -> Result<Self, DbError> {
        Self::open_with(url.parse()?)
    }

    pub fn open_with(config: postgres::Config) -> Result<Self, DbError> {
        let db = Self {
            config,
            idle: Mutex::new(Vec::new()),
        };
        let session = db.session()?;
        migrate(&session)?;
        db.give_back(session);
        Ok(db)
    }

    /// Runs `op` in a transaction of its own and commits it; rolls it back when `op` fails.
    pub fn write_blocking<T, E: From<DbError>>(
        &self,
        op: impl FnOnce(Conn<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.in_transaction("BEGIN", op)
    }

    /// Runs `op` in a read-only snapshot: everything it reads is of one moment.
    pub fn read_blocking<T, E: From<DbError>>(
        &self,
        op: impl FnOnce(Conn<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.in_transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", op)
    }

    fn in_transaction<T, E: From<DbError>>(
        &self,
        begin: &str,
        op: impl FnOnce(Conn<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let session = self.session()?;
        session.begin(begin)?;
        let result = op(Conn::postgres(&session));
        let result = match result {
            Ok(_) if session.take_failed() => Err(E::from(DbError::Inconsistent(
                "a statement failed inside a write that went on; it was rolled back".into(),
            ))),
            other => other,
        };
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        session.batch(end)?;
        self.give_back(session);
        result
    }

    /// Closes the connections not in use.
    pub fn close(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    fn session(&self) -> Result<PgSession, DbError> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match idle {
            Some(session) => Ok(session),
            None => {
                let session = PgSession::new(self.config.connect(postgres::NoTls)?);
                // A statement is planned once per connection, as on SQLite. PostgreSQL would
                // plan a statement on the partitioned tables again at every call (it compares
                // one plan of any values with plans of the values given, and prefers the latter
                // where a partition may be left out): 3 ms a call for one join of the push.
                // Partitions are still left out when the statement runs, by its values.
                session.batch("SET plan_cache_mode = force_generic_plan")?;
                Ok(session)
            }
        }
    }

    /// Keeps a connection for the next use, unless it broke.
    fn give_back(&self, session: PgSession) {
        if session.is_closed() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(session);
        }
    }
}

impl Drop for Postgres {
    /// Each connection of the driver runs a runtime of its own, which refuses to close inside an
    /// async thread: they are closed on a thread of their own.
    fn drop(&mut self) {
        let idle = self.idle.get_mut().map(std::mem::take).unwrap_or_default();
        if !idle.is_empty() {
            let _ = std::thread::Builder::new()
                .name("postgres-close".into())
                .spawn(move || drop(idle));
        }
    }
}

/// Creates the schema in an empty database, or checks the version of the one there.
fn migrate(session: &PgSession) -> Result<(), DbError> {
    session.begin("BEGIN")?;
    let conn = Conn::postgres(session);
    // Region codes are compared as ranges (`region >= '16.04' AND region < '16.04/'`) and lists
    // are sorted as SQLite sorts them: bytewise. A linguistic collation ignores the punctuation
    // those ranges rest on.
    let collation: String = conn.value(
        "SELECT datcollate FROM pg_database WHERE datname = current_database()",
        &[],
    )?;
    if !(collation == "C" || collation == "POSIX" || collation.starts_with("C.")) {
        session.batch("ROLLBACK")?;
        return Err(DbError::Inconsistent(format!(
            "the database sorts text by {collation}; create it with LC_COLLATE 'C' \
             (docs/storage.md)"
        )));
    }
    conn.execute("SELECT pg_advisory_xact_lock(?1)", &[&SCHEMA_LOCK])?;
    let created: bool = conn.value("SELECT to_regclass('meta') IS NOT NULL", &[])?;
    let version = i64::from(super::schema::VERSION);
    if created {
        let found: i64 = conn.value(
            "SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'schema_version'",
            &[],
        )?;
        if found != version {
            session.batch("ROLLBACK")?;
            return Err(DbError::IncompatibleVersion(
                u32::try_from(found).unwrap_or(u32::MAX),
            ));
        }
    } else {
        session.batch(SCHEMA)?;
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
            &[&version.to_string()],
        )?;
    }
    session.batch("COMMIT")
}

/// Databases for tests, in the cluster `VERIVALI_TEST_POSTGRES` names (`scripts/postgres.sh`
/// starts one; `scripts/test-all.sh` does, and sets `VERIVALI_REQUIRE_POSTGRES` so that no test
/// of this engine is skipped there).
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::Postgres;

    /// A new, empty database with the schema; `None` when no cluster is given (the test says it
    /// was skipped).
    pub fn fresh() -> Option<Postgres> {
        let Ok(url) = std::env::var("VERIVALI_TEST_POSTGRES") else {
            assert!(
                std::env::var_os("VERIVALI_REQUIRE_POSTGRES").is_none(),
                "VERIVALI_REQUIRE_POSTGRES is set but VERIVALI_TEST_POSTGRES is not"
            );
            eprintln!("skipped: no VERIVALI_TEST_POSTGRES (scripts/postgres.sh starts a cluster)");
            return None;
        };
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "verivali_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            verivali_core::model::Timestamp::now_utc().unix_millis()
        );
        let config: postgres::Config = url.parse().expect("VERIVALI_TEST_POSTGRES is a URL");
        let mut admin = config
            .connect(postgres::NoTls)
            .expect("the test cluster answers");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("a test database is created");
        let mut config = config;
        config.dbname(&name);
        Some(Postgres::open_with(config).expect("the test database opens"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_gets_the_schema_and_opening_it_again_checks_the_version() {
        let Some(db) = testing::fresh() else { return };
        let again = Postgres::open_with(db.config.clone()).unwrap();
        let version: String = again
            .read_blocking(|conn| {
                conn.value::<String>("SELECT value FROM meta WHERE key = 'schema_version'", &[])
            })
            .unwrap();
        assert_eq!(version, super::super::schema::VERSION.to_string());
        // A database of another version is refused, not touched.
        db.write_blocking(|conn| {
            conn.execute(
                "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
                &[],
            )
        })
        .unwrap();
        assert!(matches!(
            Postgres::open_with(db.config.clone()),
            Err(DbError::IncompatibleVersion(99))
        ));
        let kept: String = db
            .read_blocking(|conn| {
                conn.value::<String>("SELECT value FROM meta WHERE key = 'schema_version'", &[])
            })
            .unwrap();
        assert_eq!(kept, "99");
    }

    #[test]
    fn a_failed_write_leaves_nothing_and_the_connection_serves_the_next() {
        let Some(db) = testing::fresh() else { return };
        let failed: Result<(), DbError> = db.write_blocking(|conn| {
            conn.execute(
                "INSERT INTO enumerators (enumerator_id, name, created_at) VALUES ('e1', 'Sri', 0)",
                &[],
            )?;
            Err(DbError::Inconsistent("the job failed".into()))
        });
        assert!(failed.is_err());
        let stored: i64 = db
            .read_blocking(|conn| conn.value("SELECT count(*) FROM enumerators", &[]))
            .unwrap();
        assert_eq!(stored, 0);
    }

    #[test]
    fn a_query_of_one_region_reads_one_province_and_a_household_moves_with_its_village() {
        let Some(db) = testing::fresh() else { return };
        for table in ["households", "visits", "reviews"] {
            let plan = db
                .read_blocking(|conn| {
                    conn.values::<String>(
                        &format!(
                            "EXPLAIN SELECT count(*) FROM {table}
                             WHERE region >= '16.04' AND region < '16.04/'"
                        ),
                        &[],
                    )
                })
                .unwrap()
                .join("\n");
            assert!(plan.contains(&format!(" on {table}_16 ")), "{plan}");
            for other in ["11", "15", "17", "96", "other"] {
                assert!(!plan.contains(&format!("{table}_{other}")), "{plan}");
            }
        }
        // A household listed in another province's village moves to that province's partition.
        let listing = |region| crate::store::households::Listing {
            household_id: "h1",
            region,
            rw: None,
            rt: None,
            source: "P3KE",
            source_id: Some("p1"),
            baseline: "{}",
        };
        let kept_in = |db: &Postgres| {
            db.read_blocking(|conn| {
                conn.values::<String>(
                    "SELECT CAST(tableoid::regclass AS TEXT) FROM households",
                    &[],
                )
            })
            .unwrap()
        };
        db.write_blocking(|conn| {
            crate::store::households::write_baseline(conn, &listing("16.04.01.2001"))
        })
        .unwrap();
        assert_eq!(kept_in(&db), ["households_16"]);
        db.write_blocking(|conn| {
            crate::store::households::write_baseline(conn, &listing("17.01.01.2001"))
        })
        .unwrap();
        assert_eq!(kept_in(&db), ["households_17"]);
        // A push finds it by its id and the region its baseline names, reading one partition.
        let (found, plan) = db
            .read_blocking(|conn| {
                use crate::store::households::{region_of, version};
                let region = region_of(conn, "h1")?.unwrap_or_default();
                let found = (
                    version(conn, ("h1", &region))?.is_some(),
                    version(conn, ("h1", "16.04.01.2001"))?.is_some(),
                );
                let plan = conn.values::<String>(
                    "EXPLAIN SELECT change_seq FROM households WHERE household_id = ?1
                     AND region = ?2",
                    &[&"h1", &region],
                )?;
                Ok::<_, DbError>((found, plan.join("\n")))
            })
            .unwrap();
        assert_eq!(found, (true, false));
        assert!(plan.contains("households_17"), "{plan}");
        assert!(!plan.contains("households_16"), "{plan}");
    }

    #[test]
    fn a_range_is_planned_for_its_values_and_the_lookups_after_it_for_any_values() {
        let Some(db) = testing::fresh() else { return };
        let modes = db
            .read_blocking(|conn| {
                let show = || conn.value::<String>("SHOW plan_cache_mode", &[]);
                let before = show()?;
                let inside = conn.planned_for_values(show)?;
                Ok::<_, DbError>((before, inside, show()?))
            })
            .unwrap();
        assert_eq!(
            modes,
            (
                "force_generic_plan".into(),
                "force_custom_plan".into(),
                "force_generic_plan".into()
            )
        );
    }
}
