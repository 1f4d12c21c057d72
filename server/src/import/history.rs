//! The imports of target lists, each with its report or the error that stored nothing
//! (`target_imports`), kept so that the report page and its XLSX outlive the import.

// SQL still here, to move to crate::store (issue 16, server/clippy.toml).
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use uuid::Uuid;
use verivali_core::model::{Code, Labelled, RegionCode, Source, Timestamp};

use super::{ImportFailure, ImportOptions, ImportReport, file_name};
use crate::audit;
use crate::db::{Db, DbError};

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
        tx: &Transaction<'_>,
        at: Timestamp,
        outcome: Result<&ImportReport, &ImportFailure>,
    ) -> Result<(), DbError> {
        let (report, error) = match outcome {
            Ok(report) => (Some(serde_json::to_string(report)?), None),
            Err(failure) => (None, Some(serde_json::to_string(failure)?)),
        };
        tx.prepare_cached(
            "INSERT INTO target_imports (import_id, region, actor, source, files, at, report, error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            self.import_id.to_string(),
            self.region.as_deref().unwrap_or_default(),
            self.actor,
            self.source.code(),
            self.files,
            at.unix_millis(),
            report,
            error
        ])?;
        Ok(())
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
            tx.into(),
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

/// An import's columns, with the importer's name where they are a supervisor.
const SELECT: &str = "SELECT t.import_id, t.region, coalesce(s.name, t.actor), t.source, t.files,
        t.at, t.report, t.error
    FROM target_imports t LEFT JOIN supervisors s ON t.actor = 'supervisor:' || s.user_id";

fn line(row: &rusqlite::Row<'_>) -> rusqlite::Result<ImportLine> {
    fn json<T: serde::de::DeserializeOwned>(column: usize, text: &str) -> rusqlite::Result<T> {
        serde_json::from_str(text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, e.into())
        })
    }
    let id: String = row.get(0)?;
    let report: Option<String> = row.get(6)?;
    let error: Option<String> = row.get(7)?;
    let outcome = match (report, error) {
        (Some(report), _) => Outcome::Done(json(6, &report)?),
        (None, error) => Outcome::Failed(json(7, error.as_deref().unwrap_or("null"))?),
    };
    Ok(ImportLine {
        import_id: Uuid::parse_str(&id).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
        })?,
        region: row.get(1)?,
        actor: row.get(2)?,
        source: row.get(3)?,
        files: row.get(4)?,
        at: Timestamp::from_unix_millis(row.get(5)?),
        outcome,
    })
}

/// One import with its whole report.
pub fn read_import(conn: &Connection, import_id: Uuid) -> Result<Option<ImportLine>, DbError> {
    Ok(conn
        .prepare_cached(&format!("{SELECT} WHERE t.import_id = ?1"))?
        .query_row([import_id.to_string()], line)
        .optional()?)
}

/// The latest imports made by admins of `region` or of a region inside it. The CLI's imports
/// (no region) are listed by the CLI and the audit log only.
pub fn imports_in(
    conn: &Connection,
    region: &RegionCode,
    limit: usize,
) -> Result<Vec<ImportLine>, DbError> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE t.region >= ?1 AND t.region < ?1 || '/' ORDER BY t.at DESC LIMIT ?2"
    ))?;
    let imports = stmt
        .query_map(params![region.as_str(), limit as i64], line)?
        .collect::<Result<_, _>>()?;
    Ok(imports)
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
