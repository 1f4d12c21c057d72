//! `import-targets`: a district's target list (P3KE family and individual files, CSV or XLSX;
//! other layouts through a column mapping) into households.
//!
//! Real files are messy, and a poor family must never drop off the list for a clerical fault:
//! rows with a repairable problem (a NIK a spreadsheet turned into `1.60401E+15`, an empty NIK,
//! stray spaces, lower case) are imported, with what was there kept for the enumerator to correct
//! in the field, and flagged; rows that cannot be placed (no family id, an unknown village) are left
//! out. The report lists each flagged or left-out row with its rule and reason. The import is one
//! transaction, and ids derive from the source's ids, so importing the same file again changes
//! nothing. Families of the same source and kabupaten that a newer list no longer holds become
//! candidates for removal (`removals`), never deleted; the import and its report are kept in
//! `target_imports` for the report page.

mod columns;
mod history;
pub mod jobs;
pub mod table;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use verivali_core::model::*;
use verivali_core::validate::{Context, Severity, rules, validate_household};

use crate::db::{Db, DbError};
use crate::{audit, households, removals};
pub use columns::{Columns, FIELDS};
pub use history::{
    ImportLine, ImportRecord, Outcome, imports_in, read_import, record_failure, report_workbook,
};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("workbook: {0}")]
    Workbook(String),
    #[error("{file} has no column for {field} (name it with --map {field}=\"Header\")")]
    MissingColumn { file: String, field: &'static str },
    #[error("no region list yet: run import-regions first, so that villages can be checked")]
    NoRegions,
}

/// Why an import stored nothing, as a page shows it: a stable code and both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportFailure {
    pub code: String,
    pub message_id: String,
    pub message_en: String,
}

impl ImportError {
    pub fn failure(&self) -> ImportFailure {
        let (code, message_id, message_en) = match self {
            Self::Read { .. } | Self::Csv(_) | Self::Workbook(_) => (
                "IMP-20",
                format!("Berkas tidak dapat dibaca sebagai CSV atau XLSX: {self}"),
                format!("The file cannot be read as CSV or XLSX: {self}"),
            ),
            Self::MissingColumn { file, field } => (
                "IMP-21",
                format!("{file} tidak punya kolom untuk {field}: pilih kolomnya"),
                format!("{file} has no column for {field}: choose its column"),
            ),
            Self::NoRegions => (
                "IMP-22",
                "Daftar wilayah belum diimpor, desa tidak dapat diperiksa".to_owned(),
                "No region list yet, so villages cannot be checked".to_owned(),
            ),
            Self::Db(_) => (
                "IMP-23",
                "Penyimpanan gagal; tidak ada yang disimpan".to_owned(),
                "Storing failed; nothing was stored".to_owned(),
            ),
        };
        ImportFailure {
            code: code.to_owned(),
            message_id,
            message_en,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub family_file: PathBuf,
    pub individual_file: Option<PathBuf>,
    pub source: Source,
    /// Field name → header, for layouts other than P3KE's.
    pub columns: BTreeMap<String, String>,
    /// The importer's region: rows of villages outside it are left out (IMP-11). `None`: the
    /// whole country, as the CLI on the server imports.
    pub scope: Option<RegionCode>,
    /// Who imports, for the audit log and the list of imports.
    pub actor: String,
    pub import_id: Uuid,
}

/// One row the report names: where, which family, which rule, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowNote {
    pub file: String,
    pub line: u64,
    pub family_id: String,
    pub code: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Families of this source and kabupaten that the list no longer holds, newly put in the
    /// removal queue.
    pub removal_candidates: usize,
    /// Imported, with something for the enumerator to correct.
    pub flagged: Vec<RowNote>,
    /// Left out: they cannot be placed.
    pub rejected: Vec<RowNote>,
}

/// Rules of the import beyond domain.md §10's (IMP-01 is domain.md's).
struct ImportRule {
    code: &'static str,
    reason: &'static str,
}

const KK_NOT_KK: ImportRule = ImportRule {
    code: "IMP-01",
    reason: "Kolom ini bukan Nomor KK (harus 16 digit); nilai diabaikan / not a KK number (16 digits); value ignored",
};
const NIK_AS_NUMBER: ImportRule = ImportRule {
    code: "IMP-03",
    reason: "NIK rusak oleh spreadsheet (notasi ilmiah); perbaiki di lapangan / NIK damaged by a spreadsheet (scientific notation); correct it in the field",
};
const NO_FAMILY_ID: ImportRule = ImportRule {
    code: "IMP-04",
    reason: "Tidak ada ID keluarga; baris tidak dapat ditempatkan / no family id; the row cannot be placed",
};
const FAMILY_TWICE: ImportRule = ImportRule {
    code: "IMP-05",
    reason: "ID keluarga muncul dua kali; baris pertama dipakai / family id appears twice; the first row is used",
};
const NO_FAMILY_ROW: ImportRule = ImportRule {
    code: "IMP-06",
    reason: "Keluarga anggota ini tidak ada di file keluarga / this person's family is not in the family file",
};
const UNKNOWN_VALUE: ImportRule = ImportRule {
    code: "IMP-07",
    reason: "Nilai tidak dikenal, dikosongkan",
};
const NAME_SPACES: ImportRule = ImportRule {
    code: "IMP-08",
    reason: "Spasi berlebih di nama dirapikan; cocokkan dengan KK / extra spaces in the name tidied; check against the KK",
};
const NAME_LOWER_CASE: ImportRule = ImportRule {
    code: "IMP-09",
    reason: "Nama tidak ditulis huruf kapital seperti di KK; periksa ejaannya / name not in capitals as on the KK; check its spelling",
};
const OUTSIDE_SCOPE: ImportRule = ImportRule {
    code: "IMP-11",
    reason: "Desa di luar wilayah Anda; baris tidak diimpor / village outside your region; the row is left out",
};
const HEAD_NIK_DIFFERS: ImportRule = ImportRule {
    code: "IMP-10",
    reason: "NIK Kepala Keluarga di file keluarga berbeda dengan NIK kepala di file individu; yang di file individu dipakai / the family file's head NIK differs from the head's NIK in the individual file; the individual file's is used",
};

/// Households and members get ids derived from the source's ids: the same file, imported again,
/// gives the same households.
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x5645_5249_5641_4c49_0000_0000_0000_0001);

fn derived_id(parts: &[&str]) -> Uuid {
    Uuid::new_v5(&ID_NAMESPACE, parts.join("\u{1f}").as_bytes())
}

struct Notes<'a> {
    file: &'a str,
    report: &'a mut ImportReport,
}

impl Notes<'_> {
    fn note(&self, line: u64, family: &str, code: &str, reason: impl Into<String>) -> RowNote {
        RowNote {
            file: self.file.into(),
            line,
            family_id: family.into(),
            code: code.into(),
            reason: reason.into(),
        }
    }
    /// Imported, with something for the field to correct.
    fn flag(&mut self, line: u64, family: &str, code: &str, reason: impl Into<String>) {
        let note = self.note(line, family, code, reason);
        self.report.flagged.push(note);
    }
    /// Left out: the row cannot be placed.
    fn reject(&mut self, line: u64, family: &str, code: &str, reason: impl Into<String>) {
        let note = self.note(line, family, code, reason);
        self.report.rejected.push(note);
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Imports a target list. `progress` advances by one per row read.
pub fn import_targets(
    db: &Db,
    options: &ImportOptions,
    progress: &ProgressBar,
) -> Result<ImportReport, ImportError> {
    let villages: HashSet<String> = db
        .read_blocking(crate::store::enumerators::village_codes)?
        .into_iter()
        .collect();
    if villages.is_empty() {
        return Err(ImportError::NoRegions);
    }
    let mut report = ImportReport::default();
    let family_table = table::read_table(&options.family_file)?;
    let individual_table = options
        .individual_file
        .as_deref()
        .map(table::read_table)
        .transpose()?;
    progress.set_length(
        (family_table.rows.len() + individual_table.as_ref().map_or(0, |t| t.rows.len())) as u64,
    );

    let family_name = file_name(&options.family_file);
    let cols = Columns::find(&family_table.headers, &options.columns);
    for field in ["family_id", "region"] {
        if !cols.has(field) {
            return Err(ImportError::MissingColumn {
                file: family_name,
                field,
            });
        }
    }
    let today = Timestamp::now_utc();
    // Each family with its line and the family file's `NIK Kepala Keluarga`, which is compared
    // with the individual file's head.
    let mut families: BTreeMap<String, (u64, Household, Option<Entered<Nik>>)> = BTreeMap::new();
    let mut notes = Notes {
        file: &family_name,
        report: &mut report,
    };
    for (line, row) in &family_table.rows {
        progress.inc(1);
        let family_id = cols.get(row, "family_id").to_owned();
        if family_id.is_empty() {
            notes.reject(*line, "", NO_FAMILY_ID.code, NO_FAMILY_ID.reason);
            continue;
        }
        if families.contains_key(&family_id) {
            notes.flag(*line, &family_id, FAMILY_TWICE.code, FAMILY_TWICE.reason);
            continue;
        }
        let region = match RegionCode::parse(cols.get(row, "region")) {
            Ok(code) if options.scope.as_ref().is_some_and(|s| !s.contains(&code)) => {
                notes.reject(*line, &family_id, OUTSIDE_SCOPE.code, OUTSIDE_SCOPE.reason);
                continue;
            }
            Ok(code) if villages.contains(code.as_str()) => code,
            Ok(_) => {
                notes.reject(*line, &family_id, rules::REG_01.code, both(&rules::REG_01));
                continue;
            }
            Err(e) => {
                notes.reject(*line, &family_id, e.rule().code, both(e.rule()));
                continue;
            }
        };
        let mut household = Household {
            household_id: HouseholdId(derived_id(&[options.source.code(), &family_id])),
            source: options.source,
            source_id: Some(family_id.clone()),
            kk_number: None,
            decile: None,
            region,
            rw: Rw::parse(cols.get(row, "rw")).ok(),
            rt: Rt::parse(cols.get(row, "rt")).ok(),
            address: squeeze(cols.get(row, "address")),
            head_name: tidy_name(cols.raw(row, "head_name"), *line, &family_id, &mut notes),
            programs: programs(&cols, row),
            source_priority: columns::priority(cols.get(row, "priority")),
            target_status: TargetStatus::Active,
            members: Vec::new(),
        };
        let decile = cols.get(row, "decile");
        if !decile.is_empty() {
            match decile.parse::<u8>() {
                // P3KE ranks deciles 1–4 only; 5–10 is kept (a DTSEN rank pasted in) and flagged.
                Ok(d) if (1..=10).contains(&d) => {
                    household.decile = Some(d);
                    if options.source == Source::P3ke && d > 4 {
                        notes.flag(*line, &family_id, rules::DES_01.code, both(&rules::DES_01));
                    }
                }
                _ => notes.flag(*line, &family_id, rules::DES_01.code, both(&rules::DES_01)),
            }
        }
        let kk = cols.get(row, "kk_number");
        if !kk.is_empty() {
            match KkNumber::parse(kk) {
                Ok(k) => household.kk_number = Some(Entered::Valid(k)),
                Err(_) => notes.flag(*line, &family_id, KK_NOT_KK.code, KK_NOT_KK.reason),
            }
        }
        // The head's NIK is read and reported also when the individual file brings the members:
        // an empty or spreadsheet-mangled cell is flagged here, a disagreement below.
        // A family file without the column (a DTKS layout) leaves the NIKs to the individual file.
        let head_nik = if cols.has("head_nik") || individual_table.is_none() {
            entered_nik(cols.get(row, "head_nik"), *line, &family_id, &mut notes)
        } else {
            None
        };
        if individual_table.is_none() {
            // A family file alone: its head is the one member known.
            let member = Member {
                member_id: MemberId(derived_id(&[options.source.code(), &family_id, "head"])),
                source_member_id: None,
                details: MemberDetails {
                    name: Some(household.head_name.clone()),
                    nik: head_nik.clone(),
                    relation: Some(Relation::Head),
                    ..MemberDetails::default()
                },
                presence: Presence::Present,
                presence_date: None,
            };
            household.members.push(member);
        }
        families.insert(family_id, (*line, household, head_nik));
    }

    if let (Some(path), Some(table)) = (&options.individual_file, &individual_table) {
        let name = file_name(path);
        let cols = Columns::find(&table.headers, &options.columns);
        if !cols.has("family_id") {
            return Err(ImportError::MissingColumn {
                file: name,
                field: "family_id",
            });
        }
        let mut notes = Notes {
            file: &name,
            report: &mut report,
        };
        for (line, row) in &table.rows {
            progress.inc(1);
            let family_id = cols.get(row, "family_id");
            let Some((_, household, _)) = families.get_mut(family_id) else {
                let (code, reason) = if family_id.is_empty() {
                    (NO_FAMILY_ID.code, NO_FAMILY_ID.reason)
                } else {
                    (NO_FAMILY_ROW.code, NO_FAMILY_ROW.reason)
                };
                notes.reject(*line, family_id, code, reason);
                continue;
            };
            let person = cols.get(row, "person_id");
            let name = tidy_name(cols.raw(row, "name"), *line, family_id, &mut notes);
            let key = if person.is_empty() {
                format!("{name}/{}", cols.get(row, "birth_date"))
            } else {
                person.to_owned()
            };
            let mut details = MemberDetails {
                name: (!name.is_empty()).then_some(name),
                nik: entered_nik(cols.get(row, "nik"), *line, family_id, &mut notes),
                ..MemberDetails::default()
            };
            let mut recognise = |field: &str, found: bool| {
                let value = cols.get(row, field);
                if !found && !value.is_empty() {
                    notes.flag(
                        *line,
                        family_id,
                        UNKNOWN_VALUE.code,
                        format!(
                            "{} ({field}: {value:?}) / unknown value, left empty",
                            UNKNOWN_VALUE.reason
                        ),
                    );
                }
            };
            details.sex = columns::sex(cols.get(row, "sex"));
            recognise("sex", details.sex.is_some());
            details.relation = columns::relation(cols.get(row, "relation"));
            recognise("relation", details.relation.is_some());
            details.marital_status = columns::marital_status(cols.get(row, "marital_status"));
            recognise("marital_status", details.marital_status.is_some());
            details.education = columns::education(cols.get(row, "education"));
            recognise("education", details.education.is_some());
            details.occupation = columns::occupation(cols.get(row, "occupation"));
            recognise("occupation", details.occupation.is_some());
            details.birth_date = columns::date(cols.get(row, "birth_date"));
            recognise("birth_date", details.birth_date.is_some());
            household.members.push(Member {
                member_id: MemberId(derived_id(&[options.source.code(), family_id, &key])),
                source_member_id: (!person.is_empty()).then(|| person.to_owned()),
                details,
                presence: Presence::Present,
                presence_date: None,
            });
        }
    }

    // The family's shape (one head, …) is flagged for the field; the rest was flagged per row.
    let mut notes = Notes {
        file: &family_name,
        report: &mut report,
    };
    let ctx = Context::new(today);
    for (family_id, (line, household, head_nik)) in &families {
        for issue in validate_household(household, &ctx) {
            if issue.code.starts_with("HH-") && issue.severity != Severity::Info {
                let reason = format!("{} / {}", issue.message_id, issue.message_en);
                notes.flag(*line, family_id, &issue.code, reason);
            }
        }
        if individual_table.is_some()
            && let Some(listed) = head_nik.as_ref().and_then(Entered::valid)
            && head_nik_differs(household, listed)
        {
            notes.flag(
                *line,
                family_id,
                HEAD_NIK_DIFFERS.code,
                HEAD_NIK_DIFFERS.reason,
            );
        }
    }

    let households: Vec<Household> = families.into_values().map(|(_, h, _)| h).collect();
    let record = ImportRecord::of(options);
    let scope = options.scope.clone();
    let source = options.source;
    let report = db.write_blocking(move |tx| {
        for household in &households {
            let json = serde_json::to_string(household).map_err(DbError::from)?;
            match households::baseline_text(tx, household.household_id)? {
                Some(b) if b == json => report.unchanged += 1,
                Some(_) => {
                    households::save_baseline(tx, household, today)?;
                    report.updated += 1;
                }
                None => {
                    households::save_baseline(tx, household, today)?;
                    report.added += 1;
                }
            }
        }
        report.removal_candidates = removals::mark_unlisted(
            tx,
            record.import_id,
            source,
            scope.as_ref(),
            &households,
            today,
        )?;
        record.insert(tx, today, Ok(&report))?;
        audit::record_in(
            tx,
            record.region.as_deref(),
            &record.actor,
            "import:targets",
            Some(&record.import_id.to_string()),
            Some(&format!(
                "added {}, updated {}, unchanged {}, removal candidates {}",
                report.added, report.updated, report.unchanged, report.removal_candidates
            )),
        )?;
        Ok::<_, ImportError>(report)
    })?;
    progress.finish_and_clear();
    Ok(report)
}

/// A rule's reason in both languages, as the import's own rules give theirs.
fn both(rule: &verivali_core::validate::Rule) -> String {
    format!("{} / {}", rule.message_id, rule.message_en)
}

/// Whether the individual file's head carries a valid NIK other than `listed`.
fn head_nik_differs(household: &Household, listed: &Nik) -> bool {
    household
        .members
        .iter()
        .filter(|m| m.details.relation == Some(Relation::Head))
        .filter_map(|m| m.nik())
        .any(|nik| nik != listed)
}

/// Runs of spaces as one, none at the ends.
fn squeeze(cell: &str) -> String {
    cell.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A person's name: stray spaces are tidied and flagged; a name not in capitals, as the KK writes
/// it, is kept as written and flagged, for the enumerator to check against the card.
fn tidy_name(cell: &str, line: u64, family: &str, notes: &mut Notes<'_>) -> String {
    let name = squeeze(cell);
    if name != cell {
        notes.flag(line, family, NAME_SPACES.code, NAME_SPACES.reason);
    }
    if name.chars().any(char::is_lowercase) {
        notes.flag(line, family, NAME_LOWER_CASE.code, NAME_LOWER_CASE.reason);
    }
    name
}

fn programs(cols: &Columns, row: &[String]) -> std::collections::BTreeSet<SourceProgram> {
    [
        ("program_bpnt", SourceProgram::Bpnt),
        ("program_bpum", SourceProgram::Bpum),
        ("program_bst", SourceProgram::Bst),
        ("program_pkh", SourceProgram::Pkh),
        ("program_sembako", SourceProgram::Sembako),
        ("program_prakerja", SourceProgram::Prakerja),
        ("program_kur", SourceProgram::Kur),
    ]
    .into_iter()
    .filter(|(field, _)| columns::yes(cols.get(row, field)))
    .map(|(_, p)| p)
    .collect()
}

/// A NIK cell: kept as written when it cannot be a NIK, so the enumerator sees and corrects it.
fn entered_nik(cell: &str, line: u64, family: &str, notes: &mut Notes<'_>) -> Option<Entered<Nik>> {
    if cell.is_empty() {
        notes.flag(line, family, rules::NIK_10.code, both(&rules::NIK_10));
        return None;
    }
    let scientific = cell.contains(['E', 'e']) && cell.replace(',', ".").parse::<f64>().is_ok();
    if scientific {
        notes.flag(line, family, NIK_AS_NUMBER.code, NIK_AS_NUMBER.reason);
        return Some(Entered::Invalid(cell.to_owned()));
    }
    let entered = Entered::<Nik>::from_input(cell);
    if let Some(rule) = entered.problem() {
        notes.flag(line, family, rule.code, both(rule));
    }
    Some(entered)
}
