//! `verivali-server demo`: a generated demo district, so that a newcomer sees the server work with
//! one command. Its region list is written here (a few made-up villages under real province and
//! regency codes); its households come from the core's deterministic sample data.

pub mod phones;

use crate::roles::Role;
use time::Duration;
use verivali_core::model::{
    Code, EnumeratorId, HouseholdId, Location, LocationSource, RegionCode, Timestamp,
};
use verivali_core::sample;

use crate::admin::{self, AdminError};
use crate::db::Db;
use crate::store::{enumerators, households as stored_households};
use crate::{households, sessions, tokens};
use phones::{Case, PhonePlan};

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

/// Where the demo's villages lie: squares of this many degrees (about 4.4 km) in a grid of three
/// columns south-west of Lahat town, a little apart.
const VILLAGE_SIZE_DEG: f64 = 0.04;
const VILLAGE_STEP_DEG: f64 = 0.045;

/// The south-west corner of a demo village's square.
fn village_corner(village: &RegionCode) -> Option<(f64, f64)> {
    let n = REGIONS
        .iter()
        .filter(|(c, _)| c.len() == 13)
        .position(|(c, _)| *c == village.as_str())?;
    let (row, col) = ((n / 3) as f64, (n % 3) as f64);
    Some((
        -3.86 + row * VILLAGE_STEP_DEG,
        103.44 + col * VILLAGE_STEP_DEG,
    ))
}

/// Where a demo household lives: a point inside its village, the same at every visit.
pub fn house_location(village: &RegionCode, household: HouseholdId) -> Option<Location> {
    let (south, west) = village_corner(village)?;
    let seed = household.0.as_u128();
    let share = |bits: u32| ((seed >> bits) % 1000) as f64 / 1000.0 * 0.9 + 0.05;
    Some(Location {
        lat: south + share(0) * VILLAGE_SIZE_DEG,
        lon: west + share(20) * VILLAGE_SIZE_DEG,
        accuracy_m: 6.0 + (seed % 15) as f64,
        source: LocationSource::Gps,
    })
}

/// The villages' outlines as a GeoJSON file, imported as a district's own file would be.
fn village_boundaries() -> Vec<u8> {
    let features: Vec<serde_json::Value> = REGIONS
        .iter()
        .filter_map(|(code, name)| {
            let (s, w) = village_corner(&RegionCode::parse(code).ok()?)?;
            let (n, e) = (s + VILLAGE_SIZE_DEG, w + VILLAGE_SIZE_DEG);
            Some(serde_json::json!({
                "type": "Feature",
                "properties": {"kode": code, "nama": name},
                "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]},
            }))
        })
        .collect();
    serde_json::json!({"type": "FeatureCollection", "features": features})
        .to_string()
        .into_bytes()
}

/// Households per village in the demo; 6 villages make 2,040.
const PER_VILLAGE: u64 = 340;

/// What the demo set up, for printing.
#[derive(Debug, Clone)]
pub struct DemoDistrict {
    pub households: u64,
    /// Enumerator name, area, one-time enrollment code: for a newcomer's own phone.
    pub enumerators: Vec<(String, String, String)>,
    /// The phones the demo runs itself ([`phones::spawn`]).
    pub phones: Vec<PhonePlan>,
    /// A district supervisor's API token (for the whole demo regency).
    pub supervisor_token: String,
    /// The same supervisor's browser sign-in: login name and a password made for this run.
    pub supervisor_login: String,
    pub supervisor_password: String,
}

/// The demo's people. Those without a phone print their enrollment code, for a newcomer's own
/// phone or the bindings; the others' phones are run by the demo, in areas of their own.
struct Person {
    name: &'static str,
    areas: &'static [&'static str],
    phone: Option<PhoneCase>,
}

#[derive(Clone, Copy)]
enum PhoneCase {
    Ordinary,
    /// Also visits the first household of the person named, and disagrees.
    Disagrees(&'static str),
    /// Loses its second area right after a visit there.
    LosesSecondArea,
    /// Its clock is five hours slow.
    SlowClock,
}

const PEOPLE: &[Person] = &[
    Person {
        name: "Ani (RT/RW Sukamaju)",
        areas: &["16.04.01.2001/1"],
        phone: None,
    },
    Person {
        name: "Budi (kader Harapan Jaya)",
        areas: &["16.04.01.2002"],
        phone: None,
    },
    Person {
        name: "Citra (operator Muara Indah)",
        areas: &["16.04.02.2001"],
        phone: None,
    },
    // Shares RW 1 of Sukamaju with Ani: the Android harness shows one's inbox telling of the
    // other's visits (conflicts, SYN-01).
    Person {
        name: "Hadi (kader Sukamaju RW 1)",
        areas: &["16.04.01.2001/1"],
        phone: None,
    },
    Person {
        name: "Dewi (kader Sukamaju RW 2)",
        areas: &["16.04.01.2001/2"],
        phone: Some(PhoneCase::Ordinary),
    },
    Person {
        name: "Eko (kader Sukamaju RW 3)",
        areas: &["16.04.01.2001/3", "16.04.01.2001/2"],
        phone: Some(PhoneCase::Disagrees("Dewi (kader Sukamaju RW 2)")),
    },
    Person {
        name: "Fajar (operator Tanjung Sari)",
        areas: &["16.04.01.2003", "16.04.02.2002"],
        phone: Some(PhoneCase::LosesSecondArea),
    },
    Person {
        name: "Gita (kader Pasar Lama)",
        areas: &["16.04.02.1003"],
        phone: Some(PhoneCase::SlowClock),
    },
];

/// Demo enumerators' ids are derived from their names, so a second run finds them.
const DEMO_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x5645_5249_5641_4c49_0000_0000_6465_6d6f);

/// The households of an area, in id order.
fn households_of(db: &Db, area: &str) -> Result<Vec<HouseholdId>, AdminError> {
    let area = admin::parse_area(area)?;
    let ids = db.read_blocking(move |c| {
        stored_households::ids_in(c, area.region.as_str(), area.rw.as_ref().map(Code::as_str))
            .map_err(AdminError::from)
    })?;
    Ok(ids
        .iter()
        .filter_map(|id| HouseholdId::parse(id).ok())
        .collect())
}

fn phone_plan(
    db: &Db,
    enumerator: EnumeratorId,
    person: &Person,
    case: PhoneCase,
    code: String,
) -> Result<PhonePlan, AdminError> {
    let households = households_of(db, person.areas[0])?;
    let case = match case {
        PhoneCase::Ordinary | PhoneCase::SlowClock => Case::None,
        PhoneCase::Disagrees(other) => {
            let theirs = PEOPLE
                .iter()
                .find(|p| p.name == other)
                .map_or("", |p| p.areas[0]);
            match households_of(db, theirs)?.first() {
                Some(first) => Case::Disagree(*first),
                None => Case::None,
            }
        }
        PhoneCase::LosesSecondArea => {
            let second = person.areas.get(1).copied().unwrap_or_default();
            match households_of(db, second)?.first() {
                Some(first) => Case::LosesArea(*first, admin::parse_area(second)?),
                None => Case::None,
            }
        }
    };
    Ok(PhonePlan {
        name: person.name,
        enumerator,
        code,
        households,
        clock_offset: if matches!(person.phone, Some(PhoneCase::SlowClock)) {
            Duration::hours(-5)
        } else {
            Duration::ZERO
        },
        case,
    })
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
    let existing = db.read_blocking(stored_households::count)?;
    if existing == 0 {
        let regions: Vec<(RegionCode, String)> = REGIONS
            .iter()
            .filter_map(|(c, n)| RegionCode::parse(c).ok().map(|c| (c, (*n).to_owned())))
            .collect();
        let villages = villages.clone();
        db.write_blocking(move |tx| {
            for (code, name) in &regions {
                enumerators::put_region(tx, code.as_str(), name)?;
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
    crate::map::import_boundaries(db, &village_boundaries(), None)?;
    let households = db.read_blocking(stored_households::count)?;

    let mut enumerators = Vec::new();
    let mut phones = Vec::new();
    for person in PEOPLE {
        let id = EnumeratorId(uuid::Uuid::new_v5(&DEMO_NAMESPACE, person.name.as_bytes()));
        let add = || {
            let areas = person
                .areas
                .iter()
                .map(|a| admin::parse_area(a))
                .collect::<Result<_, _>>()?;
            admin::add_enumerator_with_id(db, id, person.name, areas)
        };
        if existing == 0 {
            add()?;
        }
        // A directory seeded by an earlier version lacks the people added since.
        let code = match admin::enrollment_code(db, id, Duration::days(7)) {
            Err(AdminError::UnknownEnumerator(_)) => {
                add()?;
                admin::enrollment_code(db, id, Duration::days(7))?
            }
            code => code?,
        };
        match person.phone {
            None => enumerators.push((person.name.to_owned(), person.areas.join(" "), code)),
            Some(case) => phones.push(phone_plan(db, id, person, case, code)?),
        }
    }
    let regency = RegionCode::parse("16.04")
        .map_err(|e| AdminError::BadArea("16.04".into(), e.to_string()))?;
    let (supervisor, supervisor_token) =
        admin::add_supervisor(db, "Bappeda Lahat (demo)", regency, Role::Reviewer)?;
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
        phones,
        supervisor_token,
        supervisor_login: SUPERVISOR_LOGIN.to_owned(),
        supervisor_password,
    })
}
