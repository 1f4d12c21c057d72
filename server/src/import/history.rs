//! The imports of target lists, each with its report or the error that stored nothing
//! (`target_imports`), kept so that the report page and its XLSX outlive the import.

use uuid::Uuid;
use verivali_core::model::{Code, Labelled, RegionCode, Source, Timestamp};

use super::{ImportFailure, ImportOptions, ImportReport, file_name};
use crate::audit;
use crate::db::{Db, DbError};
use crate::store::{Conn, imports::StoredImport};

/// Who imported what, for the list of imports.
#[derive(Debug, Clone)]
pub struct ImportRecord {
    pub import_id: Uuid,
    /// The importer's scope; `None` for the CLI's whole country.
    pub region: Option<String>,
    pub actor: String,
    pub source: Source,
    /// The files' names, as the clerk chose them.
    pub files: String,
}

impl ImportRecord {
    pub fn of(options: &ImportOptions) -> Self {
        let files = std::iter::once(&options.family_file)
            .chain(&options.individual_file)
            .map(|p| file_name(p))
            .collect::<Vec<_>>()
            .join(", ");
        Self {
            import_id: options.import_id,
            region: options.scope.as_ref().map(|r| r.as_str().to_owned()),
            actor: options.actor.clone(),
            source: options.source,
            files,
        }
    }

    pub fn insert(
        &self,
        tx: Conn<'_>,
        at: Timestamp,
        outcome: Result<&ImportReport, &ImportFailure>,
    ) -> Result<(), DbError> {
        let (report, error) = match outcome {
            Ok(report) => (Some(serde_json::to_string(report)?), None),
            Err(failure) => (None, Some(serde_json::to_string(failure)?)),
        };
        crate::store::imports::insert(
            tx,
            &StoredImport {
                import_id: self.import_id.to_string(),
                region: self.region.clone().unwrap_or_default(),
                actor: self.actor.clone(),
                source: self.source.code().to_owned(),
                files: self.files.clone(),
                at: at.unix_millis(),
                report,
                error,
            },
        )
    }
}

/// Records an import that stored nothing, with its reason, and audits it.
pub fn record_failure(
    db: &Db,
    options: &ImportOptions,
    failure: &ImportFailure,
) -> Result<(), DbError> {
    let record = ImportRecord::of(options);
    let failure = failure.clone();
    db.write_blocking(move |tx| {
        record.insert(tx, Timestamp::now_utc(), Err(&failure))?;
        audit::record_in(
            tx,
            record.region.as_deref(),
            &record.actor,
            "import:failed",
            Some(&record.import_id.to_string()),
            Some(&failure.code),
        )
    })
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Done(ImportReport),
    Failed(ImportFailure),
}

/// An import as the pages show it.
#[derive(Debug, Clone)]
pub struct ImportLine {
    pub import_id: Uuid,
    pub region: String,
    /// The importer's name, or the CLI's actor.
    pub actor: String,
    pub source: String,
    pub files: String,
    pub at: Timestamp,
    pub outcome: Outcome,
}

impl TryFrom<StoredImport> for ImportLine {
    type Error = DbError;

    fn try_from(stored: StoredImport) -> Result<Self, DbError> {
        let outcome = match (stored.report, stored.error) {
            (Some(report), _) => Outcome::Done(serde_json::from_str(&report)?),
            (None, error) => {
                Outcome::Failed(serde_json::from_str(error.as_deref().unwrap_or("null"))?)
            }
        };
        Ok(ImportLine {
            import_id: Uuid::parse_str(&stored.import_id)
                .map_err(|e| DbError::Inconsistent(format!("import id: {e}")))?,
            region: stored.region,
            actor: stored.actor,
            source: stored.source,
            files: stored.files,
            at: Timestamp::from_unix_millis(stored.at),
            outcome,
        })
    }
}

/// One import with its whole report.
pub fn read_import(conn: Conn<'_>, import_id: Uuid) -> Result<Option<ImportLine>, DbError> {
    crate::store::imports::by_id(conn, &import_id.to_string())?
        .map(ImportLine::try_from)
        .transpose()
}

/// The latest imports made by admins of `region` or of a region inside it. The CLI's imports
/// (no region) are listed by the CLI and the audit log only.
pub fn imports_in(
    conn: Conn<'_>,
    region: &RegionCode,
    limit: usize,
) -> Result<Vec<ImportLine>, DbError> {
    crate::store::imports::latest_in(
        conn,
        region.as_str(),
        i64::try_from(limit).unwrap_or(i64::MAX),
    )?
    .into_iter()
    .map(ImportLine::try_from)
    .collect()
}

/// The report as a spreadsheet for the clerks who fix the list: each flagged and each left-out
/// row with its file, line, family, rule and reason.
pub fn report_workbook(report: &ImportReport) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    const HEADERS: [&str; 6] = [
        "Berkas / File",
        "Baris / Line",
        "ID Keluarga / Family ID",
        "Hasil / Outcome",
        "Kode / Code",
        "Alasan / Reason",
    ];
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Laporan impor")?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, header) in HEADERS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *header, &bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let rows = report
        .rejected
        .iter()
        .map(|n| (n, "Tidak diimpor / Left out"))
        .chain(report.flagged.iter().map(|n| (n, "Ditandai / Flagged")));
    for (r, (note, outcome)) in rows.enumerate() {
        let line = r as u32 + 1;
        sheet.write_string(line, 0, &note.file)?;
        sheet.write_number(line, 1, note.line as f64)?;
        // The family id as text: a spreadsheet would turn a long number into 9.0E+8.
        sheet.write_string(line, 2, &note.family_id)?;
        sheet.write_string(line, 3, outcome)?;
        sheet.write_string(line, 4, &note.code)?;
        sheet.write_string(line, 5, &note.reason)?;
    }
    book.save_to_buffer()
}
