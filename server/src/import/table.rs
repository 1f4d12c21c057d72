//! A spreadsheet as text: a header row and data rows, from CSV or XLSX, each row with its line
//! number for the report. Numbers that a spreadsheet stored as numbers come back as their digits.

use std::path::Path;

use calamine::{Data, Reader, open_workbook_auto_from_rs};

use super::ImportError;

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub headers: Vec<String>,
    /// Line (CSV) or row (XLSX) number, and the cells as text.
    pub rows: Vec<(u64, Vec<String>)>,
}

pub fn read_table(path: &Path) -> Result<Table, ImportError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bytes = std::fs::read(path).map_err(|source| ImportError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let workbook = matches!(extension.as_str(), "xlsx" | "xlsm" | "xls" | "ods");
    parse_table(&bytes, workbook)
}

/// A table from a file's bytes: a workbook's first sheet, or CSV. Also what the fuzzer feeds.
pub fn parse_table(bytes: &[u8], workbook: bool) -> Result<Table, ImportError> {
    if workbook {
        read_workbook(bytes)
    } else {
        read_csv(bytes)
    }
}

fn read_csv(bytes: &[u8]) -> Result<Table, ImportError> {
    // P3KE exports come with commas or semicolons; take whichever the header uses more.
    let head = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let count = |c: u8| head.iter().filter(|b| **b == c).count();
    let delimiter = if count(b';') > count(b',') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(bytes);
    let headers = reader.headers()?.iter().map(str::to_owned).collect();
    let mut lines = LineCounter::default();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        let line = record
            .position()
            .map_or(0, |p| lines.line_of_record_at(bytes, p.byte()));
        rows.push((line, record.iter().map(str::to_owned).collect()));
    }
    Ok(Table { headers, rows })
}

/// The line of the file a record starts on, as a clerk opening the file sees it. The csv crate's
/// own line numbers fall one short after each CRLF (Excel's line end) or blank line, so lines are
/// counted here from the record's byte position, which lies just after the previous record's
/// terminator: the line ends and blank lines that follow it are skipped first.
#[derive(Debug, Default)]
struct LineCounter {
    byte: usize,
    newlines: u64,
}

impl LineCounter {
    fn line_of_record_at(&mut self, bytes: &[u8], byte: u64) -> u64 {
        let at = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
        let start = at
            + bytes[at..]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
        if start >= self.byte {
            self.newlines += bytes[self.byte..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            self.byte = start;
        }
        self.newlines + 1
    }
}

fn read_workbook(bytes: &[u8]) -> Result<Table, ImportError> {
    let mut workbook = open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| ImportError::Workbook(e.to_string()))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| ImportError::Workbook("the workbook has no sheet".into()))?
        .map_err(|e| ImportError::Workbook(e.to_string()))?;
    let mut rows = range.rows();
    let headers = rows
        .next()
        .map(|r| r.iter().map(cell_text).collect())
        .unwrap_or_default();
    let rows = rows
        .enumerate()
        .map(|(i, r)| (i as u64 + 2, r.iter().map(cell_text).collect()))
        .collect();
    Ok(Table { headers, rows })
}

/// A cell as text. A whole number (a NIK stored as a number) is written out in digits; a date
/// as `YYYY-MM-DD`.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e17 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => excel_date(d.as_f64()),
    }
}

/// An Excel serial date (days since 1899-12-30) as `YYYY-MM-DD`; nothing for a serial outside
/// Excel's calendar (years 1900 to 9999), which would overflow a date.
fn excel_date(serial: f64) -> String {
    const LAST_SERIAL: f64 = 2_958_465.0;
    if !(0.0..=LAST_SERIAL).contains(&serial) {
        return String::new();
    }
    let epoch = time::macros::date!(1899 - 12 - 30);
    epoch
        .checked_add(time::Duration::days(serial.floor() as i64))
        .map(|d| d.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fuzzer's find: a workbook whose sheet declares its dimension reversed.
    #[test]
    fn a_workbook_with_a_reversed_dimension_reads_or_is_refused_without_a_panic() {
        let seed = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fuzz/corpus/target_table/reversed-dimension.xlsx"
        ))
        .unwrap();
        // The fuzz input's first byte chose a workbook.
        let _ = parse_table(&seed[1..], true);
    }

    #[test]
    fn an_excel_date_outside_excels_calendar_is_no_date() {
        assert_eq!(excel_date(45_627.0), "2024-12-01");
        for serial in [1e300, -1.0, f64::NAN, f64::INFINITY, 2_958_466.0] {
            assert_eq!(excel_date(serial), "", "{serial}");
        }
    }
}
