//! Storage: SQLite in the data directory, behind a narrow interface (DESIGN §8).
//!
//! - **One writer**, a dedicated thread owning the only write connection. Jobs queue on a channel;
//!   the thread takes every job waiting (up to [`MAX_JOBS_PER_COMMIT`]), runs each in its own
//!   savepoint inside one transaction and commits once, so fifty phones pushing at once share one
//!   fsync. A job's answer is sent only once its commit is fsynced, so an acknowledged visit is on
//!   disk; the fsync runs on a thread of its own while the writer goes on (`durability`).
//! - **Readers** in a small pool, used from `spawn_blocking`, at most `MAX_CONCURRENT_READS` at once.
//! - **Checkpoints** on a thread and connection of their own (`checkpoint_loop`).

mod durability;
pub mod postgres;
pub mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};

use durability::{Committed, Durability};
use rusqlite::{Connection, OpenFlags, Transaction};
use tokio::sync::oneshot;

use crate::store::Conn;

/// The most reads run at once. More than the cores only adds threads: each blocking thread that
/// reads warms its own allocator heap and connection, and fifty phones pushing at once made fifty
/// of them, spending a fifth of the CPU on fresh memory.
const MAX_CONCURRENT_READS: usize = 4;

/// WAL frames (pages) after which the checkpoint thread is woken: SQLite's automatic default.
const CHECKPOINT_FRAMES: i32 = 1000;

/// The WAL's bound. Readers are nearly always active on a busy server, so a passive checkpoint
/// never catches up and the log never starts over: it grew by 35 KB a visit, to 3.6 GB at 100,000
/// visits (issue 13). Past this size the checkpoint thread waits for the readers of old frames,
/// copies everything and truncates the log; after any restart of the log SQLite also cuts the
/// file back to this size (`journal_size_limit`).
pub const WAL_LIMIT_BYTES: u64 = 64 << 20;

/// The most jobs committed together.
pub const MAX_JOBS_PER_COMMIT: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database: {}", postgres_message(.0))]
    Postgres(#[from] ::postgres::Error),
    #[error("stored data unreadable: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the data directory holds a database of schema {0}, which this server does not know")]
    IncompatibleVersion(u32),
    #[error("the database writer has stopped")]
    WriterGone,
    #[error("commit failed: {0}")]
    Commit(CommitFailure),
    #[error("stored data is inconsistent: {0}")]
    Inconsistent(String),
    #[error("a write failed unexpectedly and was rolled back")]
    JobPanicked,
    #[error("this needs the embedded SQLite engine (a PostgreSQL database has its own tools)")]
    NotSqlite,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// PostgreSQL's message and code for an error it answered (the driver's own text says only "db
/// error"); never its detail, which may quote the values of a row.
fn postgres_message(e: &::postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

impl DbError {
    /// Whether the disk is full (SQLite's SQLITE_FULL, or ENOSPC from the file system, also when
    /// a commit or its fsync failed): the write was rolled back and may be tried again when space
    /// returns.
    pub fn is_disk_full(&self) -> bool {
        match self {
            Self::Sqlite(e) => sqlite_disk_full(e),
            Self::Io(e) => disk_full_io(e),
            Self::Commit(failure) => failure.disk_full,
            _ => false,
        }
    }
}

/// Why a commit, or the fsync after it, failed: told to every job of the commit, across the
/// writer's and the sync thread's boundaries.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct CommitFailure {
    pub message: String,
    pub disk_full: bool,
}

impl CommitFailure {
    fn of_commit(e: &rusqlite::Error) -> Self {
        Self {
            message: e.to_string(),
            disk_full: sqlite_disk_full(e),
        }
    }

    fn of_fsync(e: &std::io::Error) -> Self {
        Self {
            message: format!("fsync of the WAL failed: {e}"),
            disk_full: disk_full_io(e),
        }
    }
}

fn sqlite_disk_full(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
}

/// ENOSPC, or a quota exceeded.
pub fn disk_full_io(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull || e.kind() == std::io::ErrorKind::QuotaExceeded
}

type Finish = Box<dyn FnOnce(Option<&CommitFailure>) + Send>;
/// A queued write. Given the transaction and whether to guard itself with a savepoint, it runs
/// and returns whether it succeeded, and what answers its caller once the commit is known.
type Job = Box<dyn FnOnce(&Transaction<'_>, Guard) -> (bool, Finish) + Send>;

/// How a job is isolated from the others of its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guard {
    /// The first job of a transaction runs bare: if it fails, the whole transaction (which holds
    /// nothing else yet) is rolled back. A savepoint would make SQLite keep the original of every
    /// page the job touches, which made large jobs (imports) several times slower.
    Bare,
    /// Later jobs run in their own savepoint, so that one failing leaves the others intact.
    Savepoint,
}

/// The database, on either engine: the embedded SQLite of a data directory (the default), or a
/// PostgreSQL database shared by several server processes (docs/storage.md). Logic reads and
/// writes through it with a [`Conn`] and never sees which.
#[derive(Clone, Debug)]
pub struct Db(Engine);

#[derive(Clone, Debug)]
enum Engine {
    Sqlite(Sqlite),
    Postgres(Arc<PostgresDb>),
}

/// A PostgreSQL database and the connections this process may hold at once.
#[derive(Debug)]
struct PostgresDb {
    db: postgres::Postgres,
    permits: tokio::sync::Semaphore,
}

/// The most connections one process holds to PostgreSQL: several processes share its
/// `max_connections` (100 by default).
const POSTGRES_CONNECTIONS: usize = 16;

/// The SQLite engine: a handle to the writer thread and a pool of read connections.
#[derive(Clone, Debug)]
struct Sqlite {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    readers: Mutex<Vec<Connection>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    syncer: Mutex<Option<std::thread::JoinHandle<()>>>,
    checkpointer: Mutex<Option<std::thread::JoinHandle<()>>>,
    durability: Arc<Durability>,
    read_permits: tokio::sync::Semaphore,
    queue: Arc<WriterQueue>,
}

/// The writer's queue as monitoring sees it: the jobs waiting, and when the writer last took one
/// or committed (`/healthz` calls a writer stuck that has work and has not moved for a while).
#[derive(Debug, Default)]
pub struct WriterQueue {
    waiting: std::sync::atomic::AtomicU64,
    moved_at_ms: std::sync::atomic::AtomicI64,
}

impl WriterQueue {
    fn moved(&self) {
        let now = verivali_core::model::Timestamp::now_utc().unix_millis();
        self.moved_at_ms
            .store(now, std::sync::atomic::Ordering::Relaxed);
    }

    fn taken(&self) {
        self.waiting
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        self.moved();
    }
}

/// What the writer is doing: jobs waiting, and for how long it has not moved while some wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterHealth {
    pub waiting: u64,
    pub stalled_for: std::time::Duration,
}

impl Db {
    /// Opens (creating and migrating) `verivali.db` in `data_dir` and starts its writer.
    pub fn open(data_dir: &Path) -> Result<Self, DbError> {
        Ok(Self(Engine::Sqlite(Sqlite::open(data_dir)?)))
    }

    /// Connects to the PostgreSQL database at `url`, creating its schema when it is empty.
    pub fn open_postgres(url: &str) -> Result<Self, DbError> {
        Ok(Self(Engine::Postgres(Arc::new(PostgresDb {
            db: postgres::Postgres::open(url)?,
            permits: tokio::sync::Semaphore::new(POSTGRES_CONNECTIONS),
        }))))
    }

    /// The SQLite file; none on PostgreSQL.
    pub fn path(&self) -> Option<&Path> {
        match &self.0 {
            Engine::Sqlite(sqlite) => Some(&sqlite.inner.path),
            Engine::Postgres(_) => None,
        }
    }

    /// The writer's queue now, for `/metrics` and `/healthz`; PostgreSQL has no one writer to
    /// wait for.
    pub fn writer_health(&self) -> WriterHealth {
        match &self.0 {
            Engine::Sqlite(sqlite) => sqlite.writer_health(),
            Engine::Postgres(_) => WriterHealth {
                waiting: 0,
                stalled_for: std::time::Duration::ZERO,
            },
        }
    }

    /// Runs `op` in a transaction: on SQLite on the writer, inside its own savepoint of a group
    /// commit; on PostgreSQL in a transaction of its own. Answers once the commit is durable.
    pub async fn write<T, E>(
        &self,
        op: impl FnOnce(Conn<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        match &self.0 {
            Engine::Sqlite(sqlite) => sqlite.write(op).await,
            Engine::Postgres(pg) => pg.run(move |db| db.write_blocking(op)).await,
        }
    }

    /// The blocking form of [`Db::write`], for the CLI.
    pub fn write_blocking<T, E>(
        &self,
        op: impl FnOnce(Conn<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        match &self.0 {
            Engine::Sqlite(sqlite) => sqlite.write_blocking(op),
            Engine::Postgres(pg) => off_the_runtime(|| pg.db.write_blocking(op)),
        }
    }

    /// Runs a read off the async threads.
    pub async fn read<T, E>(
        &self,
        op: impl FnOnce(Conn<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        match &self.0 {
            Engine::Sqlite(sqlite) => sqlite.read_on(move |conn| op(conn.into())).await,
            Engine::Postgres(pg) => pg.run(move |db| db.read_blocking(op)).await,
        }
    }

    /// Whether the database answers a read.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.read(|c| c.value::<i64>("SELECT CAST(1 AS BIGINT)", &[]).map(|_| ()))
            .await
    }

    /// A read in one snapshot: everything `op` reads is of one moment, whatever commits meanwhile.
    pub async fn read_snapshot<T, E>(
        &self,
        op: impl FnOnce(Conn<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        match &self.0 {
            Engine::Sqlite(sqlite) => {
                sqlite
                    .read_on(move |conn| {
                        let snapshot = conn.unchecked_transaction().map_err(DbError::from)?;
                        op((&snapshot).into())
                    })
                    .await
            }
            // Every read on PostgreSQL is a snapshot.
            Engine::Postgres(pg) => pg.run(move |db| db.read_blocking(op)).await,
        }
    }

    pub fn read_blocking<T, E>(
        &self,
        op: impl FnOnce(Conn<'_>) -> Result<T, E> + Send,
    ) -> Result<T, E>
    where
        T: Send,
        E: From<DbError> + Send,
    {
        match &self.0 {
            Engine::Sqlite(sqlite) => sqlite.read_blocking(|conn| op(conn.into())),
            Engine::Postgres(pg) => off_the_runtime(|| pg.db.read_blocking(op)),
        }
    }

    /// A read on SQLite's own connection, for what only that engine does (its backups).
    pub(crate) fn read_sqlite_blocking<T, E>(
        &self,
        op: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<DbError>,
    {
        match &self.0 {
            Engine::Sqlite(sqlite) => sqlite.read_blocking(op),
            Engine::Postgres(_) => Err(E::from(DbError::NotSqlite)),
        }
    }

    /// Stops the engine's threads after the jobs already queued and closes its connections:
    /// afterwards nothing of this handle touches the data directory.
    pub fn close(&self) {
        match &self.0 {
            Engine::Sqlite(sqlite) => sqlite.close(),
            Engine::Postgres(pg) => pg.db.close(),
        }
    }
}

/// Runs `op` here, or on a thread of its own when called from an async thread: the PostgreSQL
/// driver blocks on a runtime of its own, which tokio refuses inside another.
fn off_the_runtime<T: Send>(op: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return op();
    }
    std::thread::scope(|scope| {
        scope
            .spawn(op)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

impl PostgresDb {
    /// Runs `op` on a blocking thread, with one of this process's connections.
    async fn run<T, E>(
        self: &Arc<Self>,
        op: impl FnOnce(&postgres::Postgres) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| E::from(DbError::WriterGone))?;
        let pg = self.clone();
        let result = tokio::task::spawn_blocking(move || op(&pg.db))
            .await
            .map_err(|_| E::from(DbError::WriterGone))?;
        drop(permit);
        result
    }
}

impl Sqlite {
    fn open(data_dir: &Path) -> Result<Self, DbError> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join("verivali.db");
        let mut conn = Connection::open(&path)?;
        schema::prepare(&conn)?;
        back_up_before_upgrade(&conn, data_dir)?;
        schema::migrate(&mut conn)?;
        // The sync thread fsyncs the WAL after each commit instead (`durability`).
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "journal_size_limit", WAL_LIMIT_BYTES as i64)?;
        // Pages its 64 MiB cache misses are read from the map, not copied in by a system call.
        conn.pragma_update(None, "mmap_size", schema::MMAP_BYTES)?;
        let checkpointer = Connection::open(&path)?;
        schema::prepare(&checkpointer)?;
        // A truncating checkpoint holds the writer while it waits for readers of old frames; it
        // gives up soon and tries again after the next commits, so that the writer never waits
        // out its own busy timeout (it did, under load, with the checkpoint waiting as long).
        checkpointer.busy_timeout(std::time::Duration::from_millis(100))?;
        // It copies frames from the WAL to the file, reading little through its own cache.
        schema::set_cache_kib(&checkpointer, schema::READER_CACHE_KIB)?;
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        // Replaces SQLite's automatic checkpoint, which ran inside the writer's commits.
        conn.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, frames: i32| {
            if frames >= CHECKPOINT_FRAMES {
                // Full means a wake-up is pending already.
                let _ = wake.try_send(());
            }
            Ok(())
        }))?;
        let wal = wal_path(&path);
        let checked = wal.clone();
        let checkpointer = std::thread::Builder::new()
            .name("db-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpointer, &checked, woken))?;
        let durability = Arc::new(Durability::new());
        let (commits, committed) = mpsc::channel::<Committed>();
        let syncing = durability.clone();
        let syncer = std::thread::Builder::new()
            .name("db-sync".into())
            .spawn(move || durability::sync_loop(wal, committed, syncing))?;
        let (sender, receiver) = mpsc::channel::<Job>();
        let numbering = durability.clone();
        let queue = Arc::new(WriterQueue::default());
        queue.moved();
        let watched = queue.clone();
        let writer = std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || write_loop(conn, receiver, &numbering, &commits, &watched))?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                jobs: Mutex::new(Some(sender)),
                readers: Mutex::new(Vec::new()),
                writer: Mutex::new(Some(writer)),
                syncer: Mutex::new(Some(syncer)),
                checkpointer: Mutex::new(Some(checkpointer)),
                durability,
                read_permits: tokio::sync::Semaphore::new(MAX_CONCURRENT_READS),
                queue,
            }),
        })
    }

    fn writer_health(&self) -> WriterHealth {
        use std::sync::atomic::Ordering;
        let queue = &self.inner.queue;
        let waiting = queue.waiting.load(Ordering::Relaxed);
        let now = verivali_core::model::Timestamp::now_utc().unix_millis();
        let idle = now.saturating_sub(queue.moved_at_ms.load(Ordering::Relaxed));
        WriterHealth {
            waiting,
            stalled_for: if waiting == 0 {
                std::time::Duration::ZERO
            } else {
                std::time::Duration::from_millis(u64::try_from(idle).unwrap_or(0))
            },
        }
    }

    async fn write<T, E>(
        &self,
        op: impl FnOnce(Conn<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, E>>();
        self.queue(op, move |result| {
            let _ = reply.send(result);
        })?;
        answer.await.map_err(|_| E::from(DbError::WriterGone))?
    }

    fn write_blocking<T, E>(
        &self,
        op: impl FnOnce(Conn<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (reply, answer) = mpsc::channel::<Result<T, E>>();
        self.queue(op, move |result| {
            let _ = reply.send(result);
        })?;
        answer.recv().map_err(|_| E::from(DbError::WriterGone))?
    }

    /// Queues `op` for the writer; `answer` receives its result once the commit is known.
    fn queue<T, E>(
        &self,
        op: impl FnOnce(Conn<'_>) -> Result<T, E> + Send + 'static,
        answer: impl FnOnce(Result<T, E>) + Send + 'static,
    ) -> Result<(), E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let job: Job = Box::new(move |tx, guard| {
            // A panic in one job must not stop the writer, or every later write would fail: it
            // counts as that job failing (and is a bug to fix, so it is logged).
            let run = std::panic::AssertUnwindSafe(|| match guard {
                Guard::Bare => op(tx.into()),
                Guard::Savepoint => in_savepoint(tx, |tx| op(tx.into())),
            });
            let result = std::panic::catch_unwind(run).unwrap_or_else(|_| {
                tracing::error!("a write job panicked; it was rolled back");
                if guard == Guard::Savepoint {
                    let _ = tx.execute_batch("ROLLBACK TO job; RELEASE job");
                }
                Err(E::from(DbError::JobPanicked))
            });
            let ok = result.is_ok();
            let finish: Finish = Box::new(move |commit_error: Option<&CommitFailure>| {
                answer(match commit_error {
                    Some(e) if ok => Err(E::from(DbError::Commit(e.clone()))),
                    _ => result,
                });
            });
            (ok, finish)
        });
        let sender = self.sender()?;
        let queue = &self.inner.queue;
        queue
            .waiting
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        sender.send(job).map_err(|_| {
            queue
                .waiting
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            E::from(DbError::WriterGone)
        })
    }

    /// Runs `op` on a pooled connection on a blocking thread, a few at a time, and answers once
    /// what it may have read is durable.
    async fn read_on<T, E>(
        &self,
        op: impl FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let permit = self
            .inner
            .read_permits
            .acquire()
            .await
            .map_err(|_| E::from(DbError::WriterGone))?;
        let db = self.clone();
        let (result, seen) = tokio::task::spawn_blocking(move || db.read_undurable(op))
            .await
            .map_err(|_| E::from(DbError::WriterGone))?;
        drop(permit);
        self.inner.durability.wait(seen).await;
        result
    }

    fn read_blocking<T, E>(&self, op: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DbError>,
    {
        let (result, seen) = self.read_undurable(op);
        self.inner.durability.wait_blocking(seen);
        result
    }

    /// Runs a read, and tells which commits it may have seen: the caller waits for them to be
    /// durable before it answers.
    fn read_undurable<T, E>(
        &self,
        op: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> (Result<T, E>, u64)
    where
        E: From<DbError>,
    {
        let pooled = self.inner.readers.lock().ok().and_then(|mut r| r.pop());
        let conn = match pooled {
            Some(c) => c,
            None => match open_reader(&self.inner.path) {
                Ok(c) => c,
                Err(e) => return (Err(E::from(e)), 0),
            },
        };
        let result = op(&conn);
        let seen = self.inner.durability.seen();
        if let Ok(mut readers) = self.inner.readers.lock() {
            readers.push(conn);
        }
        (result, seen)
    }

    /// Stops the writer after the jobs already queued, waits for it and the threads beside it, and
    /// closes the pooled read connections: afterwards nothing of this handle touches the files,
    /// so a closed data directory can be copied (a read after it opens a connection again).
    fn close(&self) {
        if let Ok(mut jobs) = self.inner.jobs.lock() {
            jobs.take();
        }
        // The writer first: it ends after the jobs queued, the sync thread after their commits,
        // and the checkpoint thread when the writer's hook, which wakes it, is gone.
        for thread in [
            &self.inner.writer,
            &self.inner.syncer,
            &self.inner.checkpointer,
        ] {
            let handle = thread.lock().ok().and_then(|mut t| t.take());
            if let Some(handle) = handle {
                let _ = handle.join();
            }
        }
        if let Ok(mut readers) = self.inner.readers.lock() {
            readers.clear();
        }
    }

    fn sender(&self) -> Result<mpsc::Sender<Job>, DbError> {
        self.inner
            .jobs
            .lock()
            .ok()
            .and_then(|j| j.clone())
            .ok_or(DbError::WriterGone)
    }
}

/// Before a newer server migrates a database of an older schema, a copy of it as it was, in
/// `<data_dir>/upgrade-backups/`: an upgrade that goes wrong can be undone with the older server.
/// A fresh database (schema 0) and a current one are left alone.
fn back_up_before_upgrade(conn: &Connection, data_dir: &Path) -> Result<(), DbError> {
    let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found == 0 || found >= schema::VERSION {
        return Ok(());
    }
    let dir = data_dir.join("upgrade-backups");
    std::fs::create_dir_all(&dir)?;
    let now = verivali_core::model::Timestamp::now_utc().unix_millis();
    let copy = dir.join(format!("verivali-schema-{found}-{now}.db"));
    conn.execute("VACUUM INTO ?1", [copy.to_string_lossy()])?;
    std::fs::File::open(&copy)?.sync_all()?;
    tracing::info!(
        from = found,
        to = schema::VERSION,
        backup = %copy.display(),
        "upgrading the database; its copy as it was is kept"
    );
    Ok(())
}

/// The WAL beside a database file: its name with `-wal` after it.
pub fn wal_path(database: &Path) -> PathBuf {
    let mut wal = database.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

fn open_reader(path: &Path) -> Result<Connection, DbError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    schema::keep_plans(&conn)?;
    schema::set_cache_kib(&conn, schema::READER_CACHE_KIB)?;
    conn.pragma_update(None, "mmap_size", schema::MMAP_BYTES)?;
    Ok(conn)
}

/// Runs `op` between `SAVEPOINT` and `RELEASE`, rolling back to the savepoint if it fails, so that
/// one failing job leaves the others of its commit intact.
fn in_savepoint<T, E: From<DbError>>(
    tx: &Transaction<'_>,
    op: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
) -> Result<T, E> {
    tx.execute_batch("SAVEPOINT job")
        .map_err(|e| E::from(DbError::from(e)))?;
    match op(tx) {
        Ok(value) => {
            tx.execute_batch("RELEASE job")
                .map_err(|e| E::from(DbError::from(e)))?;
            Ok(value)
        }
        Err(e) => {
            let _ = tx.execute_batch("ROLLBACK TO job; RELEASE job");
            Err(e)
        }
    }
}

/// Copies the WAL into the database file, on a connection and thread of its own, when the writer
/// says the WAL has grown (SQLite's own default size, in frames). The writer's commits no longer pay
/// for it: the automatic checkpoint was an eighth of the writer's time at ingest. A passive
/// checkpoint never blocks the writer or readers; past [`WAL_LIMIT_BYTES`] a truncating one holds
/// the writer for as long as it takes (a fraction of a second every 64 MiB of log). The thread ends
/// with the writer, whose hook holds the other end of `woken`.
fn checkpoint_loop(conn: Connection, wal: &Path, woken: mpsc::Receiver<()>) {
    use rusqlite::wal::CheckpointMode;
    while woken.recv().is_ok() {
        let oversize = std::fs::metadata(wal).is_ok_and(|m| m.len() > WAL_LIMIT_BYTES);
        let mode = if oversize {
            CheckpointMode::TRUNCATE
        } else {
            CheckpointMode::PASSIVE
        };
        match conn.wal_checkpoint_v2(None::<&str>, mode) {
            Ok(_) => {}
            // Readers held old frames past the busy timeout: the next commits try again.
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {
                tracing::debug!("WAL checkpoint waited for readers in vain; tried again later");
            }
            Err(e) => {
                tracing::warn!(error = %e, "WAL checkpoint failed; it is tried again after the next commits");
            }
        }
    }
}

fn write_loop(
    mut conn: Connection,
    jobs: mpsc::Receiver<Job>,
    durability: &Durability,
    commits: &mpsc::Sender<Committed>,
    queue: &WriterQueue,
) {
    while let Ok(first) = jobs.recv() {
        queue.taken();
        let mut batch = std::collections::VecDeque::from([first]);
        while batch.len() < MAX_JOBS_PER_COMMIT {
            match jobs.try_recv() {
                Ok(job) => {
                    queue.taken();
                    batch.push_back(job);
                }
                Err(_) => break,
            }
        }
        while let Some(first) = batch.pop_front() {
            let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            {
                Ok(tx) => tx,
                Err(e) => {
                    tracing::error!(error = %e, "cannot begin a write transaction");
                    // Dropping the jobs answers their callers that the writer failed.
                    batch.clear();
                    break;
                }
            };
            let (ok, finish) = first(&tx, Guard::Bare);
            if !ok {
                // Only this job ran: undo it alone, answer it, and go on with the others.
                drop(tx);
                finish(None);
                continue;
            }
            let mut finishers = vec![finish];
            finishers.extend(batch.drain(..).map(|job| job(&tx, Guard::Savepoint).1));
            let number = durability.begin();
            let error = tx.commit().err().map(|e| CommitFailure::of_commit(&e));
            queue.moved();
            if let Some(e) = &error {
                tracing::error!(error = %e, "commit failed");
            }
            let committed = Committed {
                number,
                finishers,
                error,
            };
            if let Err(mpsc::SendError(lost)) = commits.send(committed) {
                for finish in lost.finishers {
                    finish(Some(&CommitFailure {
                        message: "the sync thread has stopped".into(),
                        disk_full: false,
                    }));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `/healthz` reads to call the writer stuck: a job that holds the writer while another
    /// waits shows as a stall that grows; an idle writer is no stall.
    #[test]
    fn a_writer_held_by_a_job_while_others_wait_shows_a_growing_stall() {
        let dir = tempfile::TempDir::new().unwrap();
        let db = Db::open(dir.path()).unwrap();
        assert_eq!(db.writer_health().waiting, 0);
        let (started, release) = (mpsc::channel::<()>(), mpsc::channel::<()>());
        let (tell, hold) = (started.0, release.1);
        let holding = {
            let db = db.clone();
            std::thread::spawn(move || {
                db.write_blocking(move |_| {
                    let _ = tell.send(());
                    let _ = hold.recv();
                    Ok::<_, DbError>(())
                })
            })
        };
        started.1.recv().unwrap();
        let waiting = {
            let db = db.clone();
            std::thread::spawn(move || db.write_blocking(|_| Ok::<_, DbError>(())))
        };
        while db.writer_health().waiting == 0 {
            std::thread::yield_now();
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        let stalled = db.writer_health();
        assert_eq!(stalled.waiting, 1);
        assert!(
            stalled.stalled_for >= std::time::Duration::from_millis(250),
            "{stalled:?}"
        );
        release.0.send(()).unwrap();
        holding.join().unwrap().unwrap();
        waiting.join().unwrap().unwrap();
        assert_eq!(
            db.writer_health(),
            WriterHealth {
                waiting: 0,
                stalled_for: std::time::Duration::ZERO
            }
        );
        db.close();
    }

    #[test]
    fn a_full_disk_is_told_apart_wherever_the_write_failed() {
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        let enospc = std::io::Error::from_raw_os_error(28);
        assert!(DbError::Commit(CommitFailure::of_commit(&full)).is_disk_full());
        assert!(DbError::Commit(CommitFailure::of_fsync(&enospc)).is_disk_full());
        assert!(DbError::Sqlite(full).is_disk_full());
        assert!(DbError::Io(enospc).is_disk_full());
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert!(!DbError::Commit(CommitFailure::of_commit(&busy)).is_disk_full());
        assert!(!DbError::Io(std::io::Error::from_raw_os_error(5)).is_disk_full());
    }

    #[test]
    fn an_upgrade_keeps_a_copy_of_the_database_as_it_was() {
        let dir = tempfile::TempDir::new().unwrap();
        // A database of schema 4 with one household, as the previous release left it.
        {
            let conn = Connection::open(dir.path().join("verivali.db")).unwrap();
            conn.execute_batch(&format!("{}{}", schema::SQL, schema::FROM_3))
                .unwrap();
            conn.execute_batch(
                "PRAGMA user_version = 4;
                 INSERT INTO households (household_id, region, source, state, state_hash, status,
                     change_seq)
                 VALUES ('h1', '16.04.01.2001', 'P3KE', '', '', 'NOT_VISITED', 1);",
            )
            .unwrap();
        }
        let db = Db::open(dir.path()).unwrap();
        db.close();
        let copies: Vec<_> = std::fs::read_dir(dir.path().join("upgrade-backups"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(copies.len(), 1, "{copies:?}");
        let copy = Connection::open(&copies[0]).unwrap();
        let (version, households): (u32, i64) = copy
            .query_row(
                "SELECT (SELECT user_version FROM pragma_user_version),
                        (SELECT count(*) FROM households)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((version, households), (4, 1));
        // Opened again, current, it makes no other copy; nor does a fresh directory.
        Db::open(dir.path()).unwrap().close();
        assert_eq!(
            std::fs::read_dir(dir.path().join("upgrade-backups"))
                .unwrap()
                .count(),
            1
        );
        let fresh = tempfile::TempDir::new().unwrap();
        Db::open(fresh.path()).unwrap().close();
        assert!(!fresh.path().join("upgrade-backups").exists());
    }

    /// Two readers that never stop, one of them always holding a snapshot, as on a busy server,
    /// and 200 MiB written: the log stays near its bound instead of growing with every write (it
    /// reached 203 MiB with passive checkpoints alone), and shrinks back to it.
    #[test]
    fn the_wal_stays_bounded_while_readers_never_stop() {
        let dir = tempfile::TempDir::new().unwrap();
        let db = Db::open(dir.path()).unwrap();
        db.write_blocking(|tx| tx.execute("CREATE TABLE scratch (b BLOB)", &[]))
            .unwrap();
        let wal = dir.path().join("verivali.db-wal");
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (db, stop) = (db.clone(), stop.clone());
                std::thread::spawn(move || {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        // A read that takes a while (a pull page, an export), so that one of
                        // the two always holds a snapshot of frames not yet copied.
                        let _ = db.read_sqlite_blocking(|c| {
                            let tx = c.unchecked_transaction()?;
                            tx.query_row("SELECT count(*) FROM scratch", [], |r| {
                                r.get::<_, i64>(0)
                            })?;
                            std::thread::sleep(std::time::Duration::from_millis(20));
                            tx.commit().map_err(DbError::from)
                        });
                    }
                })
            })
            .collect();
        let mut largest = 0;
        for i in 0..200u32 {
            db.write_blocking(move |tx| {
                let blob = vec![(i % 251) as u8; 1 << 20];
                tx.execute("INSERT INTO scratch (b) VALUES (?1)", &[&blob])
            })
            .unwrap();
            largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for r in readers {
            r.join().unwrap();
        }
        // Writes go on while the checkpoint waits for the readers: a few commits past the bound.
        assert!(
            largest <= WAL_LIMIT_BYTES + (16 << 20),
            "the WAL reached {largest} bytes for 200 MiB written"
        );
        // One more commit past the bound, with no reader left: the log is cut back.
        db.write_blocking(|tx| tx.execute("DELETE FROM scratch", &[]))
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) > WAL_LIMIT_BYTES
            && std::time::Instant::now() < deadline
        {
            db.write_blocking(|tx| tx.execute("DELETE FROM scratch", &[]))
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert!(size <= WAL_LIMIT_BYTES, "the WAL stayed at {size} bytes");
    }

    /// Queues jobs behind a slow one so that they share a commit, and checks that a failing job,
    /// first in its transaction or not, undoes only itself.
    #[test]
    fn a_failing_job_leaves_the_others_of_its_commit_intact() {
        let dir = tempfile::TempDir::new().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let insert = |key: &'static str, fail: bool| {
            let db = db.clone();
            std::thread::spawn(move || {
                db.write_blocking(move |tx| {
                    tx.execute("INSERT INTO meta (key, value) VALUES (?1, 'x')", &[&key])?;
                    if fail {
                        Err(DbError::WriterGone)
                    } else {
                        Ok(())
                    }
                })
            })
        };
        let slow = {
            let db = db.clone();
            std::thread::spawn(move || {
                db.write_blocking(|tx| {
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    tx.execute("INSERT INTO meta (key, value) VALUES ('slow', 'x')", &[])?;
                    Ok::<_, DbError>(())
                })
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        // These queue while the slow job runs: the next commit holds all four.
        let jobs = [
            insert("a-fails", true),
            insert("b", false),
            insert("c-fails", true),
            insert("d", false),
        ];
        std::thread::sleep(std::time::Duration::from_millis(10));
        let results: Vec<bool> = jobs
            .into_iter()
            .map(|j| j.join().map(|r| r.is_ok()).unwrap_or(false))
            .collect();
        assert!(slow.join().is_ok_and(|r| r.is_ok()));
        let keys: Vec<String> = db
            .read_blocking(|c| {
                c.values::<String>("SELECT key FROM meta WHERE value = 'x' ORDER BY key", &[])
            })
            .unwrap();
        assert_eq!(keys, vec!["b", "d", "slow"]);
        assert_eq!(results.iter().filter(|ok| **ok).count(), 2);
        db.close();
    }

    #[test]
    fn a_job_that_panics_fails_alone_and_the_writer_goes_on() {
        let dir = tempfile::TempDir::new().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let failed = db.write_blocking(|tx| {
            let inserted = tx.execute("INSERT INTO meta (key, value) VALUES ('half', 'x')", &[])?;
            if inserted == 0 {
                return Ok::<_, DbError>(());
            }
            panic!("a bug in a job");
        });
        assert!(matches!(failed, Err(DbError::JobPanicked)));
        db.write_blocking(|tx| {
            tx.execute("INSERT INTO meta (key, value) VALUES ('after', 'x')", &[])?;
            Ok::<_, DbError>(())
        })
        .unwrap();
        let keys: Vec<String> = db
            .read_blocking(|c| c.values::<String>("SELECT key FROM meta WHERE value = 'x'", &[]))
            .unwrap();
        assert_eq!(
            keys,
            vec!["after"],
            "the panicked job's write was rolled back"
        );
        db.close();
    }
}
