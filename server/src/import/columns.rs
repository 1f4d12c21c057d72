//! The columns of a target-list file and the spellings of their values. The defaults are the
//! P3KE exports' (domain.md §1.2); `--map field=Header` names another layout's columns (DTKS,
//! regional variants). Headers are compared without case, spaces or punctuation.

use std::collections::BTreeMap;

use verivali_core::model::*;

/// The fields an import understands, with the headers P3KE files use for them.
pub const FIELDS: &[(&str, &[&str])] = &[
    (
        "family_id",
        &["ID Keluarga P3KE", "ID Keluarga", "ID KK P3KE"],
    ),
    ("region", &["Kode Kemdagri", "Kode Wilayah", "Kode Desa"]),
    ("decile", &["Desil Kesejahteraan", "Desil"]),
    ("address", &["Alamat"]),
    ("head_name", &["Kepala Keluarga", "Nama Kepala Keluarga"]),
    ("head_nik", &["NIK Kepala Keluarga"]),
    (
        "kk_number",
        &["No KK", "Nomor KK", "No. KK", "Nomor Kartu Keluarga"],
    ),
    ("priority", &["Prioritas Verval"]),
    ("rw", &["RW"]),
    ("rt", &["RT"]),
    ("program_bpnt", &["Penerima BPNT"]),
    ("program_bpum", &["Penerima BPUM"]),
    ("program_bst", &["Penerima BST"]),
    ("program_pkh", &["Penerima PKH"]),
    ("program_sembako", &["Penerima SEMBAKO"]),
    ("program_prakerja", &["Penerima Prakerja"]),
    ("program_kur", &["Penerima KUR"]),
    ("person_id", &["ID Individu"]),
    ("name", &["Nama"]),
    ("nik", &["NIK"]),
    ("sex", &["Jenis Kelamin"]),
    ("relation", &["Hubungan dengan Kepala Keluarga", "Hubungan"]),
    ("birth_date", &["Tanggal Lahir"]),
    ("marital_status", &["Status Kawin"]),
    ("occupation", &["Pekerjaan"]),
    ("education", &["Pendidikan"]),
];

/// A header reduced to letters and digits, lower case.
pub fn header_key(header: &str) -> String {
    header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Which column holds which field in one file.
#[derive(Debug, Clone, Default)]
pub struct Columns(BTreeMap<&'static str, usize>);

impl Columns {
    /// Finds each field's column: an override by name first, then the P3KE names.
    pub fn find(headers: &[String], overrides: &BTreeMap<String, String>) -> Self {
        let keys: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
        let mut found = BTreeMap::new();
        for (field, aliases) in FIELDS {
            let wanted: Vec<String> = match overrides.get(*field) {
                Some(header) => vec![header_key(header)],
                None => aliases.iter().map(|a| header_key(a)).collect(),
            };
            if let Some(column) = wanted.iter().find_map(|w| keys.iter().position(|k| k == w)) {
                found.insert(*field, column);
            }
        }
        Self(found)
    }

    /// The column found for `field`.
    pub fn column(&self, field: &str) -> Option<usize> {
        self.0.get(field).copied()
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// The cell of `field`, trimmed of the stray spaces spreadsheets collect; "" if absent.
    pub fn get<'r>(&self, row: &'r [String], field: &str) -> &'r str {
        self.raw(row, field).trim()
    }

    /// The cell as written, spaces included (names are flagged for stray spaces).
    pub fn raw<'r>(&self, row: &'r [String], field: &str) -> &'r str {
        self.0
            .get(field)
            .and_then(|c| row.get(*c))
            .map_or("", String::as_str)
    }
}

fn folded(value: &str) -> String {
    value
        .trim()
        .to_uppercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn sex(value: &str) -> Option<Sex> {
    match folded(value).as_str() {
        "L" | "LAKI-LAKI" | "LAKI LAKI" | "PRIA" | "1" => Some(Sex::Male),
        "P" | "PEREMPUAN" | "WANITA" | "2" => Some(Sex::Female),
        _ => None,
    }
}

pub fn relation(value: &str) -> Option<Relation> {
    match folded(value).as_str() {
        "KEPALA KELUARGA" | "KEPALA RUMAH TANGGA" => Some(Relation::Head),
        "ISTRI/SUAMI" | "ISTRI" | "SUAMI" | "ISTRI / SUAMI" => Some(Relation::Spouse),
        "ANAK" => Some(Relation::Child),
        "MENANTU" => Some(Relation::ChildInLaw),
        "CUCU" => Some(Relation::Grandchild),
        "ORANG TUA" | "MERTUA" | "ORANG TUA/MERTUA" => Some(Relation::ParentOrInLaw),
        "FAMILI LAIN" => Some(Relation::OtherRelative),
        "PEMBANTU" => Some(Relation::HouseholdHelp),
        "LAINNYA" => Some(Relation::Other),
        _ => None,
    }
}

pub fn marital_status(value: &str) -> Option<MaritalStatus> {
    match folded(value).as_str() {
        "BELUM KAWIN" => Some(MaritalStatus::NeverMarried),
        "KAWIN" => Some(MaritalStatus::Married),
        "CERAI HIDUP" => Some(MaritalStatus::Divorced),
        "CERAI MATI" => Some(MaritalStatus::Widowed),
        _ => None,
    }
}

pub fn education(value: &str) -> Option<Education> {
    match folded(value).as_str() {
        "TIDAK/BELUM SEKOLAH" | "TIDAK SEKOLAH" | "BELUM SEKOLAH" => Some(Education::NoSchooling),
        "TIDAK TAMAT SD" | "TIDAK TAMAT SD/SEDERAJAT" => Some(Education::PrimaryNotCompleted),
        "MASIH SD" | "MASIH SD/SEDERAJAT" => Some(Education::InPrimary),
        "TAMAT SD" | "TAMAT SD/SEDERAJAT" => Some(Education::PrimaryCompleted),
        "MASIH SLTP" | "MASIH SLTP/SEDERAJAT" => Some(Education::InJuniorSecondary),
        "TAMAT SLTP" | "TAMAT SLTP/SEDERAJAT" => Some(Education::JuniorSecondaryCompleted),
        "MASIH SLTA" | "MASIH SLTA/SEDERAJAT" => Some(Education::InSeniorSecondary),
        "TAMAT SLTA" | "TAMAT SLTA/SEDERAJAT" => Some(Education::SeniorSecondaryCompleted),
        "MASIH PT/AKADEMI" | "MASIH PT" => Some(Education::InTertiary),
        "TAMAT PT/AKADEMI" | "TAMAT PT" => Some(Education::TertiaryCompleted),
        _ => None,
    }
}

pub fn occupation(value: &str) -> Option<Occupation> {
    match folded(value).as_str() {
        "TIDAK/BELUM BEKERJA" | "TIDAK BEKERJA" | "BELUM BEKERJA" => Some(Occupation::NotWorking),
        "PETANI" => Some(Occupation::Farmer),
        "NELAYAN" => Some(Occupation::Fisher),
        "PEDAGANG" => Some(Occupation::Trader),
        "PNS/TNI/POLRI" => Some(Occupation::CivilServant),
        "PEGAWAI SWASTA" => Some(Occupation::PrivateEmployee),
        "WIRASWASTA" => Some(Occupation::SelfEmployed),
        "PEKERJA LEPAS" => Some(Occupation::CasualWorker),
        "PENSIUNAN" => Some(Occupation::Retired),
        "PEJABAT NEGARA" => Some(Occupation::StateOfficial),
        "LAINNYA" => Some(Occupation::Other),
        _ => None,
    }
}

pub fn priority(value: &str) -> Option<SourcePriority> {
    let v = folded(value);
    if v.is_empty() {
        None
    } else if v.starts_with("NORMAL") {
        Some(SourcePriority::Normal)
    } else if v.contains("DUPLIKAT") {
        Some(SourcePriority::DuplicateFamily)
    } else if v.contains("NIK KOSONG") {
        Some(SourcePriority::NikEmpty)
    } else if v.contains("17") {
        Some(SourcePriority::NoMember17)
    } else {
        None
    }
}

pub fn yes(value: &str) -> bool {
    matches!(folded(value).as_str(), "YA" | "Y" | "1" | "TRUE")
}

/// A birth date as spreadsheets write it: `YYYY-MM-DD`, `DD-MM-YYYY` or `DD/MM/YYYY`.
pub fn date(value: &str) -> Option<time::Date> {
    let parts: Vec<&str> = value.trim().split(['-', '/', '.']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let (y, m, d) = if a.len() == 4 { (a, b, c) } else { (c, b, a) };
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}
