//! Backups of a data directory while the server runs (issue 17, items 1 and 2): the database as
//! one consistent snapshot (`VACUUM INTO`, read in one transaction while phones push), and the
//! photos by hash into a pool that every backup of the same destination shares, so a second
//! backup copies only the photos that arrived since. Each backup is a directory beside the pool
//! with the database and a manifest (counts, the database's sha256, the photos it holds):
//!
//! ```text
//! TO/photos/ab/ab12…                        every photo once, named by its sha256
//! TO/verivali-backup-20261205T101500.250Z/  verivali.db, manifest.json
//! ```
//!
//! A backup is written under `….partial` and renamed when whole, so a backup cut short is never
//! taken for one. `verify` checks a backup without restoring it; `restore` verifies, then fills an
//! empty data directory. Phones that pushed after the backup send those visits again: each pull
//! tells a phone the highest number the server holds of it (`PullResponse::stored_up_to`).

// The SQLite engine's own backup: its file (`VACUUM INTO`, `integrity_check`, the copy opened
// alone), as `db` is the engine. A PostgreSQL database is backed up by PostgreSQL's tools
// (`pg_basebackup`, or pgBackRest for point-in-time recovery; docs/storage.md).
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use time::OffsetDateTime;
use verivali_core::model::{Sha256, hex};

use crate::db::Db;

const DATABASE: &str = "verivali.db";
const MANIFEST: &str = "manifest.json";
const PHOTOS: &str = "photos";
const PREFIX: &str = "verivali-backup-";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("manifest: {0}")]
    Manifest(#[from] serde_json::Error),
    #[error("{0} holds no database to back up")]
    NoDatabase(PathBuf),
    #[error("{0} holds no backup (no manifest.json, no verivali-backup-* directory)")]
    NoBackup(PathBuf),
    #[error("{0} already holds data: restore into a new, empty data directory")]
    HoldsData(PathBuf),
    #[error("the backup is damaged: {0}")]
    Damaged(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |e| BackupError::Io(path.to_path_buf(), e)
}

/// What a backup holds, written beside it as `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// When the snapshot was taken, RFC 3339 UTC.
    pub taken_at: String,
    pub server_version: String,
    pub schema_version: u32,
    pub database_bytes: u64,
    pub database_sha256: String,
    pub counts: Counts,
    /// Every photo of the data directory when the backup was taken, by sha256, sorted.
    pub photos: Vec<Sha256>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub households: u64,
    pub visits: u64,
    pub reviews: u64,
    pub devices: u64,
}

/// A backup written: where, what it holds, and how many photos it copied (the others were in
/// the pool already).
#[derive(Debug, Clone)]
pub struct Taken {
    pub path: PathBuf,
    pub manifest: Manifest,
    pub photos_copied: u64,
}

/// Backs up `data_dir` into `to`, from a connection of its own: the CLI's, beside a running
/// server (SQLite lets another process read while the server writes).
pub fn take(data_dir: &Path, to: &Path) -> Result<Taken, BackupError> {
    let database = data_dir.join(DATABASE);
    if !database.is_file() {
        return Err(BackupError::NoDatabase(data_dir.to_path_buf()));
    }
    // Read-write without create: a read-only connection could not open the server's WAL index
    // if the server is not running. Nothing is written through it.
    let conn = Connection::open_with_flags(
        &database,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    take_from(&conn, data_dir, to)
}

/// Backs up the database open on `conn` (one of the server's readers for a scheduled backup)
/// and the photos of `data_dir` into `to`.
pub fn take_from(conn: &Connection, data_dir: &Path, to: &Path) -> Result<Taken, BackupError> {
    let now = OffsetDateTime::now_utc();
    let name = format!(
        "{PREFIX}{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    );
    let mut path = to.join(&name);
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = to.join(format!("{name}-{n}"));
    }
    let mut partial = path.clone().into_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    fs::create_dir_all(&partial).map_err(io(&partial))?;

    // The snapshot: one read transaction, whatever is committed meanwhile.
    let snapshot = partial.join(DATABASE);
    conn.execute("VACUUM INTO ?1", [snapshot.to_string_lossy()])?;
    let (counts, schema_version) = {
        let copy = Connection::open(&snapshot)?;
        // A plain rollback-journal file: it opens read-only anywhere, alone.
        copy.pragma_update(None, "journal_mode", "DELETE")?;
        // The database's own version: a newer CLI may back up an older server's data.
        let version: u32 = copy.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        (count(&copy)?, version)
    };
    let (database_bytes, database_sha256) = hash_file(&snapshot)?;
    sync_path(&snapshot)?;

    // The photos, after the snapshot: every photo its visits name that had arrived is there.
    let pool = to.join(PHOTOS);
    let mut photos = Vec::new();
    let mut photos_copied = 0;
    for (sha, source) in complete_photos(&data_dir.join("attachments"))? {
        let kept = shelved(&pool, &sha);
        if !kept.is_file() {
            copy_checked(&source, &kept, &sha)?;
            photos_copied += 1;
        }
        photos.push(sha);
    }
    photos.sort_by(|a, b| a.as_str().cmp(b.as_str()));

    let manifest = Manifest {
        taken_at: now
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        schema_version,
        database_bytes,
        database_sha256,
        counts,
        photos,
    };
    let manifest_path = partial.join(MANIFEST);
    fs::write(&manifest_path, serde_json::to_vec_pretty(&manifest)?).map_err(io(&manifest_path))?;
    sync_path(&manifest_path)?;
    fs::rename(&partial, &path).map_err(io(&path))?;
    sync_path(to)?;
    Ok(Taken {
        path,
        manifest,
        photos_copied,
    })
}

/// Backs up every `every` from one of the server's own readers, keeping the `keep` newest, on a
/// thread of its own for as long as the server runs. A failed backup is logged and tried again
/// at the next turn: serving goes on.
pub fn schedule(db: &Db, data_dir: &Path, to: &Path, every: std::time::Duration, keep: usize) {
    let (db, data_dir, to) = (db.clone(), data_dir.to_path_buf(), to.to_path_buf());
    let spawned = std::thread::Builder::new()
        .name("backup".into())
        .spawn(move || {
            loop {
                std::thread::sleep(every);
                let taken = db
                    .read_sqlite_blocking(|conn| take_from(conn, &data_dir, &to))
                    .and_then(|taken| prune(&to, keep).map(|_| taken));
                match taken {
                    Ok(t) => tracing::info!(
                        backup = %t.path.display(),
                        visits = t.manifest.counts.visits,
                        photos_copied = t.photos_copied,
                        "backup taken"
                    ),
                    Err(e) => tracing::error!(error = %e, "backup failed"),
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "the backup thread did not start");
    }
}

/// Keeps the `keep` newest backups in `to` and deletes the older ones (and any left `.partial`
/// by a backup cut short). Photos stay in the pool: they are few next to the database, and a
/// photo is never deleted on the server either.
pub fn prune(to: &Path, keep: usize) -> Result<Vec<PathBuf>, BackupError> {
    let mut backups = backups_in(to)?;
    let mut deleted = Vec::new();
    for entry in fs::read_dir(to).map_err(io(to))? {
        let path = entry.map_err(io(to))?.path();
        if path.extension().is_some_and(|e| e == "partial") {
            fs::remove_dir_all(&path).map_err(io(&path))?;
            deleted.push(path);
        }
    }
    let old = backups.len().saturating_sub(keep);
    for path in backups.drain(..old) {
        fs::remove_dir_all(&path).map_err(io(&path))?;
        deleted.push(path);
    }
    Ok(deleted)
}

/// Checks a backup (`from`: one backup, or a destination whose newest backup is checked) without
/// restoring it: the database's checksum and SQLite's integrity check, the counts, and every
/// photo whole. Returns its manifest and where it is.
pub fn verify(from: &Path) -> Result<(PathBuf, Manifest), BackupError> {
    let backup = resolve(from)?;
    let manifest_path = backup.join(MANIFEST);
    let text = fs::read(&manifest_path).map_err(io(&manifest_path))?;
    let manifest: Manifest = serde_json::from_slice(&text)?;
    let database = backup.join(DATABASE);
    let (bytes, sha) = hash_file(&database)?;
    if (bytes, sha.as_str()) != (manifest.database_bytes, manifest.database_sha256.as_str()) {
        return Err(BackupError::Damaged(format!(
            "{} does not match its checksum",
            database.display()
        )));
    }
    let conn = Connection::open_with_flags(&database, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if integrity != "ok" {
        return Err(BackupError::Damaged(format!(
            "integrity check: {integrity}"
        )));
    }
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version != manifest.schema_version || count(&conn)? != manifest.counts {
        return Err(BackupError::Damaged(
            "the database does not hold what the manifest counts".into(),
        ));
    }
    let pool = pool_of(&backup);
    for sha in &manifest.photos {
        if hash_file(&shelved(&pool, sha))?.1 != sha.as_str() {
            return Err(BackupError::Damaged(format!("photo {sha} is not whole")));
        }
    }
    Ok((backup, manifest))
}

/// Verifies the backup `from` and restores it into `data_dir`, which must hold no data: a
/// restore never overwrites a server's data. The server migrates the database when it starts.
pub fn restore(from: &Path, data_dir: &Path) -> Result<Manifest, BackupError> {
    let attachments = data_dir.join("attachments");
    let holds = |dir: &Path| fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some());
    if data_dir.join(DATABASE).exists() || holds(&attachments) {
        return Err(BackupError::HoldsData(data_dir.to_path_buf()));
    }
    let (backup, manifest) = verify(from)?;
    fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    let pool = pool_of(&backup);
    for sha in &manifest.photos {
        copy_checked(&shelved(&pool, sha), &shelved(&attachments, sha), sha)?;
    }
    // The database last, renamed into place when whole: a restore cut short leaves no database,
    // and can be run again.
    let database = data_dir.join(DATABASE);
    let partial = data_dir.join("verivali.db.restoring");
    fs::copy(backup.join(DATABASE), &partial).map_err(io(&partial))?;
    sync_path(&partial)?;
    fs::rename(&partial, &database).map_err(io(&database))?;
    sync_path(data_dir)?;
    Ok(manifest)
}

fn count(conn: &Connection) -> Result<Counts, BackupError> {
    let n = |table: &str| -> Result<u64, BackupError> {
        Ok(conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
    };
    Ok(Counts {
        households: n("households")?,
        visits: n("visits")?,
        reviews: n("reviews")?,
        devices: n("devices")?,
    })
}

/// A backup directory, or the newest backup of a destination.
fn resolve(from: &Path) -> Result<PathBuf, BackupError> {
    if from.join(MANIFEST).is_file() {
        return Ok(from.to_path_buf());
    }
    backups_in(from)?
        .pop()
        .ok_or_else(|| BackupError::NoBackup(from.to_path_buf()))
}

/// The finished backups of a destination, oldest first (their names sort by time).
fn backups_in(to: &Path) -> Result<Vec<PathBuf>, BackupError> {
    let Ok(entries) = fs::read_dir(to) else {
        return Err(BackupError::NoBackup(to.to_path_buf()));
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry.map_err(io(to))?.path();
        let named = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(PREFIX) && !n.ends_with(".partial"));
        if named && path.join(MANIFEST).is_file() {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// Where a photo is filed: under the first two letters of its hash, as the server files it.
fn shelved(root: &Path, sha: &Sha256) -> PathBuf {
    root.join(&sha.as_str()[..2]).join(sha.as_str())
}

fn pool_of(backup: &Path) -> PathBuf {
    backup.parent().unwrap_or(backup).join(PHOTOS)
}

fn complete_photos(attachments: &Path) -> Result<Vec<(Sha256, PathBuf)>, BackupError> {
    crate::attachments::complete_photos(attachments).map_err(io(attachments))
}

/// Copies a photo aside, checks its sha256 on the way, and renames it into place.
fn copy_checked(from: &Path, to: &Path, sha: &Sha256) -> Result<(), BackupError> {
    let dir = to.parent().unwrap_or(to);
    fs::create_dir_all(dir).map_err(io(dir))?;
    let bytes = fs::read(from).map_err(io(from))?;
    if Sha256::of(&bytes) != *sha {
        return Err(BackupError::Damaged(format!("photo {sha} is not whole")));
    }
    let aside = to.with_extension("partial");
    let mut file = File::create(&aside).map_err(io(&aside))?;
    file.write_all(&bytes).map_err(io(&aside))?;
    file.sync_all().map_err(io(&aside))?;
    fs::rename(&aside, to).map_err(io(to))
}

fn hash_file(path: &Path) -> Result<(u64, String), BackupError> {
    let mut file = File::open(path).map_err(io(path))?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(io(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok((bytes, hex(&hasher.finalize())))
}

/// Flushes a file, or a directory's entries (a rename into it), to the disk.
fn sync_path(path: &Path) -> Result<(), BackupError> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_without_photos_restores_into_a_directory_not_made_yet() {
        let dir = tempfile::TempDir::new().unwrap();
        let data = dir.path().join("data");
        Db::open(&data).unwrap().close();
        let taken = take(&data, &dir.path().join("backups")).unwrap();
        assert!(taken.manifest.photos.is_empty());
        let restored = dir.path().join("new").join("data");
        let manifest = restore(&dir.path().join("backups"), &restored).unwrap();
        assert_eq!(manifest, taken.manifest);
        assert!(restored.join(DATABASE).is_file());
    }

    #[test]
    fn pruning_keeps_the_newest_backups_and_clears_one_cut_short() {
        let to = tempfile::TempDir::new().unwrap();
        for stamp in ["20261201T000000Z", "20261202T000000Z", "20261203T000000Z"] {
            let backup = to.path().join(format!("{PREFIX}{stamp}"));
            fs::create_dir_all(&backup).unwrap();
            fs::write(backup.join(MANIFEST), "{}").unwrap();
        }
        let cut_short = to.path().join(format!("{PREFIX}20261204T000000Z.partial"));
        fs::create_dir_all(&cut_short).unwrap();
        fs::create_dir_all(to.path().join(PHOTOS)).unwrap();
        let mut deleted = prune(to.path(), 2).unwrap();
        deleted.sort();
        assert_eq!(
            deleted,
            [
                to.path().join(format!("{PREFIX}20261201T000000Z")),
                cut_short
            ]
        );
        let left = backups_in(to.path()).unwrap();
        assert_eq!(left.len(), 2);
        assert!(to.path().join(PHOTOS).is_dir(), "the photo pool stays");
        assert!(matches!(
            resolve(to.path()),
            Ok(newest) if newest.ends_with(format!("{PREFIX}20261203T000000Z"))
        ));
    }
}
