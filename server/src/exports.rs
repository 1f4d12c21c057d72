//! Exports of a region's households (DESIGN §7): CSV and XLSX for the list sent upward, GeoJSON for
//! a map. One row per household with its merged verdicts. NIK and KK numbers are masked unless
//! the supervisor's role allows whole numbers and asks for them; every export is audited.

use serde_json::{Value, json};
use verivali_core::merge::HouseholdState;
use verivali_core::model::{
    Assessment, Labelled, Outcome, Recommendation, RegionCode, Relation, VerificationStatus,
};

use crate::db::DbError;
use crate::privacy::mask_number;
use crate::reports::code_range;
use crate::store::{Conn, household_pages};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    GeoJson,
}

impl Format {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "csv" => Some(Self::Csv),
            "xlsx" => Some(Self::Xlsx),
            "geojson" => Some(Self::GeoJson),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::GeoJson => "application/geo+json",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::GeoJson => "geojson",
        }
    }
}

/// One household as exported: codes as stored; the XLSX shows their Indonesian labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub household_id: String,
    pub source: String,
    pub source_id: Option<String>,
    pub region: String,
    pub village: Option<String>,
    pub rw: Option<String>,
    pub rt: Option<String>,
    pub head_name: String,
    pub address: String,
    pub kk_number: Option<String>,
    pub head_nik: Option<String>,
    pub members: u64,
    pub status: String,
    pub outcome: Option<String>,
    pub assessment: Option<String>,
    pub recommendation: Option<String>,
    pub visits: u64,
    pub conflict: bool,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// Column headers, Bahasa Indonesia first, and the GeoJSON property names.
const COLUMNS: [(&str, &str); 20] = [
    ("ID keluarga / Household ID", "household_id"),
    ("Sumber / Source", "source"),
    ("ID sumber (mis. ID Keluarga P3KE) / Source ID", "source_id"),
    ("Kode wilayah / Region code", "region"),
    ("Desa/kelurahan / Village", "village"),
    ("RW", "rw"),
    ("RT", "rt"),
    ("Kepala keluarga / Head of family", "head_name"),
    ("Alamat / Address", "address"),
    ("No. KK / Family card no.", "kk_number"),
    ("NIK kepala keluarga / Head's NIK", "head_nik"),
    ("Jumlah anggota / Members", "members"),
    ("Status verifikasi / Verification status", "status"),
    ("Hasil kunjungan / Visit outcome", "outcome"),
    ("Penilaian / Assessment", "assessment"),
    ("Rekomendasi / Recommendation", "recommendation"),
    ("Jumlah kunjungan / Visits", "visits"),
    ("Konflik / Conflict", "conflict"),
    ("Lintang / Latitude", "lat"),
    ("Bujur / Longitude", "lon"),
];

/// The households of `region` (optionally of one status), by place and name, numbers masked
/// unless `whole_numbers`, written in `format` as they are read (a province's states are too
/// many to hold): the number of rows, and the file.
pub fn write_region(
    conn: Conn<'_>,
    region: &RegionCode,
    status: Option<VerificationStatus>,
    whole_numbers: bool,
    format: Format,
) -> Result<(usize, Vec<u8>), ExportError> {
    let (from, to) = code_range(region);
    let status = status.map(|s| s.code());
    // Refused before a row is written: a sheet of a million rows is gigabytes in memory.
    if format == Format::Xlsx
        && household_pages::count_exported(conn, (&from, &to), status)? > XLSX_ROWS as u64
    {
        return Err(ExportError::TooManyRows);
    }
    let mut sheet = Sheet::new(format)?;
    household_pages::exported(conn, (&from, &to), status, |h| {
        sheet.push(&row(h, whole_numbers)?)
    })?;
    Ok((sheet.rows(), sheet.finish()?))
}

/// One household's row, numbers masked unless `whole_numbers`.
fn row(h: household_pages::ExportedHousehold, whole_numbers: bool) -> Result<Row, DbError> {
    let shown = |number: &str| {
        if whole_numbers {
            number.to_owned()
        } else {
            mask_number(number)
        }
    };
    let state: HouseholdState = serde_json::from_str(&h.state)?;
    let household = &state.household;
    let head = household
        .members
        .iter()
        .find(|m| m.details.relation == Some(Relation::Head));
    Ok(Row {
        household_id: h.household_id,
        source: h.source,
        source_id: h.source_id,
        region: h.region,
        village: h.village,
        rw: h.rw,
        rt: h.rt,
        head_name: h.head_name,
        address: h.address,
        kk_number: household.kk_number.as_ref().map(|k| shown(k.as_str())),
        head_nik: head
            .and_then(|m| m.details.nik.as_ref())
            .map(|n| shown(n.as_str())),
        members: household.members.len() as u64,
        status: h.status,
        outcome: h.outcome,
        assessment: h.assessment,
        recommendation: h.recommendation,
        visits: state.visits_used.len() as u64,
        conflict: !state.conflicts.is_empty(),
        lat: state.location.as_ref().map(|l| micro_degrees(l.lat)),
        lon: state.location.as_ref().map(|l| micro_degrees(l.lon)),
    })
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Db(#[from] DbError),
    /// More households than one XLSX sheet holds.
    #[error("more than {XLSX_ROWS} rows for one sheet")]
    TooManyRows,
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The households one XLSX sheet holds below its header (Excel's 1,048,576 rows).
pub const XLSX_ROWS: usize = 1_048_575;

/// An export being written, a row at a time: only the file grows, never a copy of the rows.
struct Sheet {
    file: File,
    rows: usize,
    /// The rows an XLSX sheet takes ([`XLSX_ROWS`]).
    xlsx_rows: usize,
}

enum File {
    Csv(Box<csv::Writer<Vec<u8>>>),
    Xlsx(Box<rust_xlsxwriter::Worksheet>),
    /// A FeatureCollection of the households with a location, for a map; the others are left
    /// out (the CSV has them all).
    GeoJson(Vec<u8>),
}

impl Sheet {
    fn new(format: Format) -> Result<Self, ExportError> {
        Self::holding(format, XLSX_ROWS)
    }

    fn holding(format: Format, xlsx_rows: usize) -> Result<Self, ExportError> {
        let file = match format {
            Format::Csv => {
                // A byte-order mark, so that Excel on a district office's PC reads the names as
                // UTF-8.
                let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
                writer.write_record(COLUMNS.iter().map(|(header, _)| header))?;
                File::Csv(Box::new(writer))
            }
            Format::Xlsx => {
                let mut sheet = rust_xlsxwriter::Worksheet::new();
                sheet.set_name("Keluarga")?;
                let bold = rust_xlsxwriter::Format::new().set_bold();
                for (c, (header, _)) in COLUMNS.iter().enumerate() {
                    sheet.write_string_with_format(0, c as u16, *header, &bold)?;
                }
                sheet.set_freeze_panes(1, 0)?;
                File::Xlsx(Box::new(sheet))
            }
            Format::GeoJson => {
                File::GeoJson(br#"{"type":"FeatureCollection","features":["#.to_vec())
            }
        };
        Ok(Self {
            file,
            rows: 0,
            xlsx_rows,
        })
    }

    fn push(&mut self, row: &Row) -> Result<(), ExportError> {
        match &mut self.file {
            File::Csv(writer) => writer.write_record(cells(row).iter().map(Cell::text))?,
            File::Xlsx(sheet) => {
                if self.rows == self.xlsx_rows {
                    return Err(ExportError::TooManyRows);
                }
                xlsx_row(sheet, self.rows as u32 + 1, row)?;
            }
            File::GeoJson(out) => {
                if let Some(feature) = feature(row) {
                    if out.last() != Some(&b'[') {
                        out.push(b',');
                    }
                    serde_json::to_writer(&mut *out, &feature)?;
                }
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// The households written.
    fn rows(&self) -> usize {
        self.rows
    }

    fn finish(self) -> Result<Vec<u8>, ExportError> {
        match self.file {
            File::Csv(writer) => writer
                .into_inner()
                .map_err(|e| ExportError::Csv(csv::Error::from(e.into_error()))),
            File::Xlsx(sheet) => {
                let mut book = rust_xlsxwriter::Workbook::new();
                book.push_worksheet(*sheet);
                Ok(book.save_to_buffer()?)
            }
            File::GeoJson(mut out) => {
                out.extend_from_slice(b"]}");
                Ok(out)
            }
        }
    }
}

/// One cell, which each format writes its own way.
enum Cell {
    Text(String),
    Number(Option<f64>),
    /// A code of an enumeration: CSV and GeoJSON carry the code, the spreadsheet its label.
    Code(Option<String>, fn(&str) -> String),
}

/// A row's cells, in column order.
fn cells(row: &Row) -> [Cell; 20] {
    let text = |v: &Option<String>| Cell::Text(v.clone().unwrap_or_default());
    [
        Cell::Text(row.household_id.clone()),
        Cell::Text(row.source.clone()),
        text(&row.source_id),
        Cell::Text(row.region.clone()),
        text(&row.village),
        text(&row.rw),
        text(&row.rt),
        Cell::Text(row.head_name.clone()),
        Cell::Text(row.address.clone()),
        text(&row.kk_number),
        text(&row.head_nik),
        Cell::Number(Some(row.members as f64)),
        Cell::Code(Some(row.status.clone()), label::<VerificationStatus>),
        Cell::Code(row.outcome.clone(), label::<Outcome>),
        Cell::Code(row.assessment.clone(), label::<Assessment>),
        Cell::Code(row.recommendation.clone(), label::<Recommendation>),
        Cell::Number(Some(row.visits as f64)),
        Cell::Text(if row.conflict { "YA" } else { "TIDAK" }.to_owned()),
        Cell::Number(row.lat),
        Cell::Number(row.lon),
    ]
}

impl Cell {
    /// As CSV and GeoJSON write it.
    fn text(&self) -> String {
        match self {
            Self::Text(t) => t.clone(),
            Self::Number(n) => n.map(|n| n.to_string()).unwrap_or_default(),
            Self::Code(code, _) => code.clone().unwrap_or_default(),
        }
    }
}

/// A row of the spreadsheet people read: labels in Bahasa Indonesia instead of codes, numbers as
/// text (so that Excel never turns a NIK into `1.60401E+15`).
fn xlsx_row(
    sheet: &mut rust_xlsxwriter::Worksheet,
    line: u32,
    row: &Row,
) -> Result<(), ExportError> {
    for (c, cell) in cells(row).iter().enumerate() {
        let c = c as u16;
        match cell {
            Cell::Text(t) => sheet.write_string(line, c, t)?,
            Cell::Number(Some(n)) => sheet.write_number(line, c, *n)?,
            Cell::Number(None) | Cell::Code(None, _) => continue,
            Cell::Code(Some(code), label) => sheet.write_string(line, c, label(code))?,
        };
    }
    Ok(())
}

fn label<T: Labelled>(code: &str) -> String {
    T::from_code(code).map_or_else(|| code.to_owned(), |v| v.label_id().to_owned())
}

/// A household's feature of the map's FeatureCollection; none without a location.
fn feature(row: &Row) -> Option<Value> {
    let (lat, lon) = (row.lat?, row.lon?);
    let properties: serde_json::Map<String, Value> = COLUMNS
        .iter()
        .zip(cells(row))
        .filter(|((_, key), _)| !matches!(*key, "lat" | "lon"))
        .map(|((_, key), cell)| {
            let value = match cell {
                Cell::Number(Some(n)) => json!(n),
                Cell::Code(None, _) => Value::Null,
                other => Value::String(other.text()),
            };
            ((*key).to_owned(), value)
        })
        .collect();
    Some(json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": properties,
    }))
}

/// A coordinate to six decimals (about 0.1 m): what a GPS can tell, written short.
fn micro_degrees(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: usize, lat: Option<f64>) -> Row {
        Row {
            household_id: format!("h{n}"),
            source: "P3KE".into(),
            source_id: None,
            region: "16.04.01.2001".into(),
            village: Some("Talang Jawa".into()),
            rw: Some("001".into()),
            rt: None,
            head_name: "Siti Aminah, \"Bu RT\"".into(),
            address: "Jl. Merdeka".into(),
            kk_number: None,
            head_nik: Some("1604********0001".into()),
            members: 3,
            status: "VISITED".into(),
            outcome: Some("FOUND".into()),
            assessment: None,
            recommendation: None,
            visits: 1,
            conflict: false,
            lat,
            lon: lat.map(|l| l + 100.0),
        }
    }

    #[test]
    fn a_sheet_refuses_the_row_beyond_what_it_holds_and_keeps_the_rows_before() {
        let mut sheet = Sheet::holding(Format::Xlsx, 2).unwrap();
        sheet.push(&row(1, None)).unwrap();
        sheet.push(&row(2, None)).unwrap();
        assert!(matches!(
            sheet.push(&row(3, None)),
            Err(ExportError::TooManyRows)
        ));
        assert_eq!(sheet.rows(), 2);
        // CSV and GeoJSON have no such limit.
        let mut csv = Sheet::holding(Format::Csv, 2).unwrap();
        for n in 0..3 {
            csv.push(&row(n, None)).unwrap();
        }
        let text = String::from_utf8(csv.finish().unwrap()).unwrap();
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.contains(r#""Siti Aminah, ""Bu RT""""#), "{text}");
    }

    #[test]
    fn geojson_written_row_by_row_is_one_collection_of_the_rows_with_a_place() {
        let mut sheet = Sheet::new(Format::GeoJson).unwrap();
        for (n, lat) in [(1, Some(-3.1)), (2, None), (3, Some(-3.2))] {
            sheet.push(&row(n, lat)).unwrap();
        }
        assert_eq!(sheet.rows(), 3);
        let file: Value = serde_json::from_slice(&sheet.finish().unwrap()).unwrap();
        let ids: Vec<&str> = file["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["household_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["h1", "h3"]);
        assert_eq!(file["type"], "FeatureCollection");
        let empty = Sheet::new(Format::GeoJson).unwrap().finish().unwrap();
        assert_eq!(empty, br#"{"type":"FeatureCollection","features":[]}"#);
    }
}
