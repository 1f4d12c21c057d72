//! Target lists imported from the browser (issue 14, item 1): the uploaded files are staged in
//! the data directory, the admin picks the columns, and the import runs in the background while
//! the page shows its progress; its report is then read from `target_imports`.
//!
//! The staged files hold NIKs: they are deleted when the import ends, and files staged but never
//! imported are deleted a day later. A running import writes its progress into the database
//! (`running_imports`), so that any server process answers its page; an import whose process
//! died stops moving, and may be started again once it has not moved for [`DEAD_AFTER`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use indicatif::ProgressBar;
use uuid::Uuid;
use verivali_core::model::{Code, Labelled, RegionCode, Source, Timestamp};

use super::{FIELDS, ImportLine, ImportOptions, import_targets, read_import, record_failure};
use crate::auth::SupervisorAuth;
use crate::db::Db;
use crate::error::{self, ApiError};
use crate::roles;
use crate::store::running_imports;

/// A kabupaten's individual file is tens of megabytes; this leaves room for a province's.
pub const MAX_LIST_BYTES: usize = 512 * 1024 * 1024;

/// How long files may wait staged for their import.
const STAGED_FOR: Duration = Duration::from_secs(24 * 3600);

/// The two files of a list: the families, and optionally their members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Families,
    Individuals,
}

impl Part {
    pub fn of_field(name: &str) -> Option<Self> {
        match name {
            "family" => Some(Self::Families),
            "individuals" => Some(Self::Individuals),
            _ => None,
        }
    }

    fn dir(self) -> &'static str {
        match self {
            Self::Families => "family",
            Self::Individuals => "individuals",
        }
    }
}

/// How often a running import writes its progress, and how long after its last write it is
/// taken for dead: its process was killed, and the import may be started again.
const BEAT: Duration = Duration::from_secs(1);
const DEAD_AFTER: Duration = Duration::from_secs(30);

fn dead_before(now: Timestamp) -> i64 {
    now.unix_millis() - DEAD_AFTER.as_millis() as i64
}

/// Where uploads wait for their import, one directory each.
fn uploads_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("imports")
}

/// A new staging directory for `who`'s upload of a list of `source`; older ones left unimported
/// are deleted.
pub fn new_upload(data_dir: &Path, who: &SupervisorAuth, source: &str) -> Result<Staged, ApiError> {
    who.check_role(roles::IMPORT)?;
    let source =
        Source::from_code(source).ok_or_else(|| ApiError::bad_request(error::MALFORMED))?;
    sweep(&uploads_dir(data_dir));
    let id = Uuid::new_v4();
    let dir = uploads_dir(data_dir).join(id.to_string());
    std::fs::create_dir_all(&dir).map_err(ApiError::internal)?;
    std::fs::write(dir.join("owner"), who.actor()).map_err(ApiError::internal)?;
    std::fs::write(dir.join("source"), source.code()).map_err(ApiError::internal)?;
    Ok(Staged { id, dir })
}

fn sweep(uploads: &Path) {
    let Ok(entries) = std::fs::read_dir(uploads) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|at| SystemTime::now().duration_since(at).ok())
            .is_some_and(|age| age > STAGED_FOR);
        if old {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// An upload's directory.
#[derive(Debug, Clone)]
pub struct Staged {
    pub id: Uuid,
    dir: PathBuf,
}

impl Staged {
    /// `who`'s staged upload `id`; 404 for another person's or none.
    pub fn find(data_dir: &Path, who: &SupervisorAuth, id: Uuid) -> Result<Self, ApiError> {
        who.check_role(roles::IMPORT)?;
        let dir = uploads_dir(data_dir).join(id.to_string());
        match std::fs::read_to_string(dir.join("owner")) {
            Ok(owner) if owner == who.actor() => Ok(Self { id, dir }),
            _ => Err(ApiError::not_found()),
        }
    }

    /// The path to write an uploaded file to, under a safe form of the name the clerk gave it
    /// (the report names files by it).
    pub fn file_path(&self, part: Part, name: &str) -> Result<PathBuf, ApiError> {
        let dir = self.dir.join(part.dir());
        std::fs::create_dir_all(&dir).map_err(ApiError::internal)?;
        let name: String = Path::new(name)
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || "._- ".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .take(120)
            .collect();
        let name = match name.trim_matches(['.', ' ']) {
            "" => "list.csv",
            name => name,
        };
        Ok(dir.join(name))
    }

    fn file(&self, part: Part) -> Option<PathBuf> {
        std::fs::read_dir(self.dir.join(part.dir()))
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0))
    }

    fn remove(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// The import of these files by `who`, with the columns they chose.
    fn options(
        &self,
        who: &SupervisorAuth,
        columns: BTreeMap<String, String>,
    ) -> Result<ImportOptions, ApiError> {
        let source = std::fs::read_to_string(self.dir.join("source"))
            .ok()
            .and_then(|s| Source::from_code(&s))
            .unwrap_or(Source::P3ke);
        let family_file = self
            .file(Part::Families)
            .ok_or_else(|| ApiError::bad_request(error::NO_LIST_FILE))?;
        Ok(ImportOptions {
            family_file,
            individual_file: self.file(Part::Individuals),
            source,
            columns,
            scope: Some(who.scope.clone()),
            actor: who.actor(),
            import_id: self.id,
        })
    }
}

/// What the column page shows: each field with the file's headers to choose from, the one found
/// chosen.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub id: Uuid,
    pub files: Vec<String>,
    pub headers: Vec<String>,
    /// (field, the header found for it, if any), in `FIELDS` order.
    pub fields: Vec<(&'static str, Option<String>)>,
}

/// The column page, or the import ended already: a file that cannot be read is recorded as a
/// failed import (IMP-20), with nothing stored, and its upload deleted.
#[derive(Debug, Clone)]
pub enum Prepared {
    Columns(Mapping),
    Failed,
}

/// Reads the staged files' headers and finds the P3KE columns among them.
pub async fn mapping(
    db: &Db,
    data_dir: &Path,
    who: &SupervisorAuth,
    id: Uuid,
) -> Result<Prepared, ApiError> {
    let staged = Staged::find(data_dir, who, id)?;
    let options = staged.options(who, BTreeMap::new())?;
    let db = db.clone();
    tokio::task::spawn_blocking(move || {
        let mut headers: Vec<String> = Vec::new();
        let mut files = Vec::new();
        let paths = std::iter::once(&options.family_file).chain(&options.individual_file);
        for path in paths {
            let table = match super::table::read_table(path) {
                Ok(table) => table,
                Err(e) => {
                    record_failure(&db, &options, &e.failure())?;
                    staged.remove();
                    return Ok(Prepared::Failed);
                }
            };
            files.push(super::file_name(path));
            for header in table.headers {
                if !header.trim().is_empty() && !headers.contains(&header) {
                    headers.push(header);
                }
            }
        }
        let found = super::Columns::find(&headers, &BTreeMap::new());
        let fields = FIELDS
            .iter()
            .map(|(field, _)| (*field, found.column(field).map(|c| headers[c].clone())))
            .collect();
        Ok(Prepared::Columns(Mapping {
            id,
            files,
            headers,
            fields,
        }))
    })
    .await
    .map_err(ApiError::internal)?
}

/// Starts the import of a staged upload with the columns the admin chose (field → header;
/// fields left empty are found by their P3KE names). It runs in the background; its progress
/// and then its report are read with [`status`].
pub async fn start(
    db: &Db,
    data_dir: &Path,
    who: &SupervisorAuth,
    id: Uuid,
    columns: BTreeMap<String, String>,
) -> Result<(), ApiError> {
    let staged = Staged::find(data_dir, who, id)?;
    let columns = columns
        .into_iter()
        .filter(|(field, header)| !header.is_empty() && FIELDS.iter().any(|(f, _)| f == field))
        .collect();
    let options = staged.options(who, columns)?;
    let region = who.scope.to_string();
    let begun = db
        .write(move |tx| {
            let now = Timestamp::now_utc();
            running_imports::begin(
                tx,
                &id.to_string(),
                &region,
                now.unix_millis(),
                dead_before(now),
            )
        })
        .await?;
    if !begun {
        return Ok(());
    }
    let bar = ProgressBar::hidden();
    tokio::spawn(report_progress(db.clone(), id, bar.clone()));
    let db = db.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = import_targets(&db, &options, &bar) {
            let failure = e.failure();
            tracing::warn!(import = %id, code = %failure.code, "target list import failed");
            if let Err(e) = record_failure(&db, &options, &failure) {
                tracing::error!(import = %id, error = %e, "recording a failed import");
            }
        }
        staged.remove();
        bar.finish();
        if let Err(e) = db.write_blocking(move |tx| running_imports::end(tx, &id.to_string())) {
            tracing::error!(import = %id, error = %e, "ending a running import");
        }
    });
    Ok(())
}

/// Writes the import's progress every [`BEAT`] until it ends.
async fn report_progress(db: Db, id: Uuid, bar: ProgressBar) {
    let mut beat = tokio::time::interval(BEAT);
    while !bar.is_finished() {
        beat.tick().await;
        let (done, total) = (bar.position(), bar.length().unwrap_or(0));
        let written = db
            .write(move |tx| {
                running_imports::beat(
                    tx,
                    &id.to_string(),
                    i64::try_from(done).unwrap_or(i64::MAX),
                    i64::try_from(total).unwrap_or(i64::MAX),
                    Timestamp::now_utc().unix_millis(),
                )
            })
            .await;
        if let Err(e) = written {
            tracing::warn!(import = %id, error = %e, "writing an import's progress");
        }
    }
}

/// A browser import as its page shows it.
#[derive(Debug, Clone)]
pub enum Status {
    Running { done: u64, total: u64 },
    Ended(Box<ImportLine>),
}

/// The progress of an import, or its report once it ended; 404 for an import of another region.
pub async fn status(db: &Db, who: &SupervisorAuth, id: Uuid) -> Result<Status, ApiError> {
    who.check_role(roles::IMPORT)?;
    // One snapshot: an import that ends meanwhile is found either running or in the table.
    let (running, ended) = db
        .read_snapshot(move |conn| {
            let running = running_imports::progress(
                conn,
                &id.to_string(),
                dead_before(Timestamp::now_utc()),
            )?;
            Ok::<_, ApiError>((running, read_import(conn, id)?))
        })
        .await?;
    if let Some((region, done, total)) = running {
        check_region(who, &region)?;
        let (done, total) = (done.max(0) as u64, total.max(0) as u64);
        return Ok(Status::Running { done, total });
    }
    let import = ended.ok_or_else(ApiError::not_found)?;
    check_region(who, &import.region)?;
    Ok(Status::Ended(Box::new(import)))
}

/// 404 for an import of a region `who` does not see.
fn check_region(who: &SupervisorAuth, region: &str) -> Result<(), ApiError> {
    let region = RegionCode::parse(region).map_err(|_| ApiError::not_found())?;
    who.check_household(&region)
}

/// The latest imports of `who`'s region, for the import page.
pub async fn recent(db: &Db, who: &SupervisorAuth) -> Result<Vec<ImportLine>, ApiError> {
    who.check_role(roles::IMPORT)?;
    let scope = who.scope.clone();
    db.read(move |conn| Ok::<_, ApiError>(super::imports_in(conn, &scope, 20)?))
        .await
}

/// An ended import's report as an XLSX file; audited as a download.
pub async fn report_workbook(db: &Db, who: &SupervisorAuth, id: Uuid) -> Result<Vec<u8>, ApiError> {
    let Status::Ended(import) = status(db, who, id).await? else {
        return Err(ApiError::not_found());
    };
    let super::Outcome::Done(report) = &import.outcome else {
        return Err(ApiError::not_found());
    };
    let xlsx = super::report_workbook(report).map_err(ApiError::internal)?;
    let (actor, region) = (who.actor(), import.region.clone());
    db.write(move |tx| {
        crate::audit::record_in(
            tx,
            Some(&region),
            &actor,
            "import:report-download",
            Some(&id.to_string()),
            None,
        )
    })
    .await?;
    Ok(xlsx)
}
