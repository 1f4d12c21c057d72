//! `verivali-server demo`: a generated demo district, so that a newcomer sees the server work with
//! one command. Its region list is written here (a few made-up villages under real province and
//! regency codes); its households come from the core's deterministic sample data.

use time::Duration;
use verivali_core::model::{Code, RegionCode, Timestamp};
use verivali_core::protocol::Area;
use verivali_core::sample;

use crate::admin::{self, AdminError};
use crate::db::Db;
use crate::{households, sessions, tokens};

/// The demo's regions: Kabupaten Lahat (16.04) with two kecamatan and six villages.
pub const REGIONS: &[(&str, &str)] = &[
    ("16", "Sumatera Selatan"),
    ("16.04", "Kabupaten Lahat (demo)"),
    ("16.04.01", "Kecamatan Contoh Utara"),
    ("16.04.01.2001", "Desa Sukamaju"),
    ("16.04.01.2002", "Desa Harapan Jaya"),
    ("16.04.01.2003", "Desa Tanjung Sari"),
    ("16.04.02", "Kecamatan Contoh Selatan"),
    ("16.04.02.2001", "Desa Muara Indah"),
    ("16.04.02.2002", "Desa Talang Baru"),
    ("16.04.02.1003", "Kelurahan Pasar Lama"),
];

/// Households per village in the demo; 6 villages make 2,040.
const PER_VILLAGE: u64 = 340;

/// What the demo set up, for printing.
#[derive(Debug, Clone)]
pub struct DemoDistrict {
    pub households: u64,
    /// Enumerator name, area, one-time enrollment code.
    pub enumerators: Vec<(String, String, String)>,
    /// A district supervisor's API token (for the whole demo regency).
    pub supervisor_token: String,
    /// The same supervisor's browser sign-in: login name and a password made for this run.
    pub supervisor_login: String,
    pub supervisor_password: String,
}

/// The demo supervisor's login name.
pub const SUPERVISOR_LOGIN: &str = "bappeda";

/// Fills an empty data directory with the demo district. A directory that already holds
/// households is left as it is (only new enrollment codes are issued).
pub fn seed(db: &Db) -> Result<DemoDistrict, AdminError> {
    let villages: Vec<RegionCode> = REGIONS
        .iter()
        .filter_map(|(code, _)| RegionCode::parse(code).ok())
        .filter(|c| c.level() == verivali_core::model::RegionLevel::Village)
        .collect();
    let existing: u64 = db.read_blocking(|c| {
        c.query_row("SELECT count(*) FROM households", [], |r| r.get(0))
            .map_err(AdminError::from)
    })?;
    if existing == 0 {
        let regions: Vec<(RegionCode, String)> = REGIONS
            .iter()
            .filter_map(|(c, n)| RegionCode::parse(c).ok().map(|c| (c, (*n).to_owned())))
            .collect();
        let villages = villages.clone();
        db.write_blocking(move |tx| {
            for (code, name) in &regions {
                tx.execute(
                    "INSERT OR IGNORE INTO regions (code, name) VALUES (?1, ?2)",
                    [code.as_str(), name],
                )?;
            }
            let now = Timestamp::now_utc();
            for (v, village) in villages.iter().enumerate() {
                for i in 0..PER_VILLAGE {
                    let index = v as u64 * PER_VILLAGE + i;
                    // 10 RW of 34 households, RT 1–3 within each.
                    let rw = 1 + (i / 34) as u16;
                    let rt = 1 + (i % 3) as u16;
                    households::save_baseline(tx, &sample::household(index, village, rw, rt), now)?;
                }
            }
            Ok::<_, AdminError>(())
        })?;
    }
    let households: u64 = db.read_blocking(|c| {
        c.query_row("SELECT count(*) FROM households", [], |r| r.get(0))
            .map_err(AdminError::from)
    })?;

    let people = [
        ("Ani (RT/RW Sukamaju)", "16.04.01.2001/1"),
        ("Budi (kader Harapan Jaya)", "16.04.01.2002"),
        ("Citra (operator Muara Indah)", "16.04.02.2001"),
    ];
    let mut enumerators = Vec::new();
    for (name, area) in people {
        let parsed: Area = admin::parse_area(area)?;
        let id = admin::add_enumerator(db, name, vec![parsed])?;
        let code = admin::enrollment_code(db, id, Duration::days(7))?;
        enumerators.push((name.to_owned(), area.to_owned(), code));
    }
    let regency = RegionCode::parse("16.04")
        .map_err(|e| AdminError::BadArea("16.04".into(), e.to_string()))?;
    let (supervisor, supervisor_token) =
        admin::add_supervisor(db, "Bappeda Lahat (demo)", regency)?;
    // A run on the same directory hands the login to this run's supervisor.
    admin::release_login(db, SUPERVISOR_LOGIN)?;
    let supervisor_password = tokens::new_token()
        .map_err(|e| AdminError::Random(e.to_string()))?
        .chars()
        .take(14)
        .collect::<String>();
    sessions::set_password(db, supervisor, SUPERVISOR_LOGIN, &supervisor_password)?;
    Ok(DemoDistrict {
        households,
        enumerators,
        supervisor_token,
        supervisor_login: SUPERVISOR_LOGIN.to_owned(),
        supervisor_password,
    })
}
