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
/// unless `whole_numbers`.
pub fn rows(
    conn: Conn<'_>,
    region: &RegionCode,
    status: Option<VerificationStatus>,
    whole_numbers: bool,
) -> Result<Vec<Row>, DbError> {
    let (from, to) = code_range(region);
    let shown = |number: &str| {
        if whole_numbers {
            number.to_owned()
        } else {
            mask_number(number)
        }
    };
    household_pages::exported(conn, (&from, &to), status.map(|s| s.code()))?
        .into_iter()
        .map(|h| {
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
        })
        .collect()
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

pub fn write(format: Format, rows: &[Row]) -> Result<Vec<u8>, ExportError> {
    match format {
        Format::Csv => csv(rows),
        Format::Xlsx => xlsx(rows),
        Format::GeoJson => geojson(rows),
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

fn csv(rows: &[Row]) -> Result<Vec<u8>, ExportError> {
    // A byte-order mark, so that Excel on a district office's PC reads the names as UTF-8.
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        writer.write_record(COLUMNS.iter().map(|(header, _)| header))?;
        for row in rows {
            writer.write_record(cells(row).iter().map(Cell::text))?;
        }
        writer.flush().map_err(csv::Error::from)?;
    }
    Ok(out)
}

/// The spreadsheet people read: labels in Bahasa Indonesia instead of codes, numbers as text
/// (so that Excel never turns a NIK into `1.60401E+15`), and the header frozen.
fn xlsx(rows: &[Row]) -> Result<Vec<u8>, ExportError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Keluarga")?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, (header, _)) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *header, &bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    for (r, row) in rows.iter().enumerate() {
        let line = r as u32 + 1;
        for (c, cell) in cells(row).iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(t) => sheet.write_string(line, c, t)?,
                Cell::Number(Some(n)) => sheet.write_number(line, c, *n)?,
                Cell::Number(None) | Cell::Code(None, _) => continue,
                Cell::Code(Some(code), label) => sheet.write_string(line, c, label(code))?,
            };
        }
    }
    Ok(book.save_to_buffer()?)
}

fn label<T: Labelled>(code: &str) -> String {
    T::from_code(code).map_or_else(|| code.to_owned(), |v| v.label_id().to_owned())
}

/// A FeatureCollection of the households with a location, for a map; the others are left out
/// (the CSV has them all).
fn geojson(rows: &[Row]) -> Result<Vec<u8>, ExportError> {
    let features: Vec<Value> = rows
        .iter()
        .filter_map(|row| {
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
        })
        .collect();
    Ok(serde_json::to_vec(
        &json!({"type": "FeatureCollection", "features": features}),
    )?)
}

/// A coordinate to six decimals (about 0.1 m): what a GPS can tell, written short.
fn micro_degrees(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}
