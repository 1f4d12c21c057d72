//! Deterministic sample data for the demo, tests and benchmarks: households with members whose
//! NIKs, birth dates and relations are consistent, and complete visits that pass validation.
//! Every value derives from an index, so the same index always gives the same household.
//! The names and numbers are made up; no real NIK is used.

use std::collections::BTreeSet;

use time::{Date, Duration, Month};
use uuid::Uuid;

use crate::model::*;

/// A small, fast, well-mixed hash of an index (splitmix64).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn uuid_for(kind: u64, index: u64) -> Uuid {
    Uuid::from_u64_pair(mix(kind), mix(index ^ kind.rotate_left(17)))
}

const GIVEN_FEMALE: [&str; 6] = ["Siti", "Sri", "Dewi", "Nur", "Wati", "Yuni"];
const GIVEN_MALE: [&str; 6] = ["Budi", "Agus", "Joko", "Rahmat", "Eko", "Slamet"];
const FAMILY: [&str; 8] = [
    "Rahayu",
    "Santoso",
    "Lestari",
    "Hidayat",
    "Wahyuni",
    "Saputra",
    "Kurniawan",
    "Handayani",
];

fn name(seed: u64, sex: Sex) -> String {
    let given = match sex {
        Sex::Female => GIVEN_FEMALE,
        Sex::Male => GIVEN_MALE,
    };
    format!(
        "{} {}",
        given[(seed % 6) as usize],
        FAMILY[((seed / 6) % 8) as usize]
    )
}

/// A structurally valid NIK for a person registered in `region` (its first six digits are the
/// district), born on `born`, with a serial drawn from `seed`.
pub fn nik(region: &RegionCode, sex: Sex, born: Date, seed: u64) -> Nik {
    let district: String = region.undotted().chars().take(6).collect();
    let day = born.day() + if sex == Sex::Female { 40 } else { 0 };
    let serial = 1 + seed % 9999;
    let text = format!(
        "{district}{day:02}{:02}{:02}{serial:04}",
        born.month() as u8,
        born.year() % 100
    );
    Nik::parse(&text).expect("sample NIKs are valid by construction")
}

fn birth_date(seed: u64, min_age: i32, max_age: i32) -> Date {
    let year = 2026 - min_age - (seed % (max_age - min_age + 1) as u64) as i32;
    let month = Month::try_from(1 + (seed / 7 % 12) as u8).unwrap_or(Month::January);
    let day = 1 + (seed / 13 % 28) as u8;
    Date::from_calendar_date(year, month, day).unwrap_or(Date::MIN)
}

fn member(
    household_seed: u64,
    slot: u64,
    region: &RegionCode,
    relation: Relation,
    sex: Sex,
    born: Date,
) -> Member {
    let seed = mix(household_seed * 16 + slot);
    Member {
        member_id: MemberId(uuid_for(2, household_seed * 16 + slot)),
        source_member_id: Some(format!("{}", 100_000_000 + household_seed * 16 + slot)),
        details: MemberDetails {
            name: Some(name(seed, sex)),
            nik: Some(Entered::Valid(nik(region, sex, born, seed))),
            sex: Some(sex),
            birth_date: Some(born),
            relation: Some(relation),
            marital_status: Some(match relation {
                Relation::Head | Relation::Spouse => MaritalStatus::Married,
                _ => MaritalStatus::NeverMarried,
            }),
            education: Some(Education::PrimaryCompleted),
            occupation: Some(match relation {
                Relation::Head => Occupation::Farmer,
                _ => Occupation::NotWorking,
            }),
            ..MemberDetails::default()
        },
        presence: Presence::Present,
        presence_date: None,
    }
}

/// Household number `index` of a P3KE list, in `region`, RW and RT given. Four members: a head,
/// a spouse and two children.
pub fn household(index: u64, region: &RegionCode, rw: u16, rt: u16) -> Household {
    let seed = mix(index);
    let head_born = birth_date(seed, 30, 60);
    let spouse_born = birth_date(seed / 3, 28, 55);
    let members = vec![
        member(index, 0, region, Relation::Head, Sex::Male, head_born),
        member(index, 1, region, Relation::Spouse, Sex::Female, spouse_born),
        member(
            index,
            2,
            region,
            Relation::Child,
            Sex::Female,
            birth_date(seed / 5, 3, 16),
        ),
        member(
            index,
            3,
            region,
            Relation::Child,
            Sex::Male,
            birth_date(seed / 11, 1, 12),
        ),
    ];
    Household {
        household_id: HouseholdId(uuid_for(1, index)),
        source: Source::P3ke,
        source_id: Some(format!("{}", 300_000_000 + index)),
        kk_number: None,
        decile: Some(1 + (seed % 4) as u8),
        region: region.clone(),
        rw: Rw::new(rw).ok(),
        rt: Rt::new(rt).ok(),
        address: format!("Dusun {} No. {}", 1 + seed % 5, 1 + index % 200),
        head_name: members[0].name().to_owned(),
        programs: BTreeSet::from([SourceProgram::Pkh, SourceProgram::Bpnt]),
        source_priority: Some(SourcePriority::Normal),
        target_status: TargetStatus::Active,
        members,
    }
}

/// A family card number (No. KK) of the household's district, recorded 1 January 2020, one per
/// household: 16 digits, as the card prints it.
pub fn family_card(household: &Household) -> String {
    let district: String = household.region.undotted().chars().take(6).collect();
    let serial = 1 + household.household_id.0.as_u128() % 9999;
    format!("{district}010120{serial:04}")
}

/// A complete FOUND visit to `household` that passes validation: housing, welfare, members
/// reviewed, GPS location, an assessment and a recommendation. `seq` varies the answers.
pub fn found_visit(
    household: &Household,
    enumerator_id: EnumeratorId,
    device_id: DeviceId,
    finished_at: Timestamp,
    seq: u64,
) -> Visit {
    let seed = mix(seq ^ household.household_id.0.as_u64_pair().0);
    let started_at = Timestamp(finished_at.0 - Duration::minutes(15));
    let mut visit = Visit::draft(
        Some(household.household_id),
        enumerator_id,
        device_id,
        started_at,
    );
    visit.visit_id = VisitId(uuid_for(3, seed));
    visit.finished_at = Some(finished_at);
    visit.outcome = Some(Outcome::Found);
    visit.rw = household.rw.clone().map(Entered::Valid);
    visit.rt = household.rt.clone().map(Entered::Valid);
    visit.consent = Some(Consent::Informed);
    visit.respondent_name = Some(household.head_name.clone());
    visit.respondent_relation = Some(Relation::Head);
    visit.members_reviewed = true;
    visit.location = Some(Location {
        lat: -3.8 + (seed % 1000) as f64 / 10_000.0,
        lon: 103.5 + (seed / 1000 % 1000) as f64 / 10_000.0,
        accuracy_m: 8.0 + (seed % 20) as f64,
        source: LocationSource::Gps,
    });
    visit.housing = Housing {
        tenure: Some(Tenure::Owned),
        floor_area_m2: Some(24.0 + (seed % 40) as f64),
        floor: Some(if seed.is_multiple_of(3) {
            FloorMaterial::Earth
        } else {
            FloorMaterial::Cement
        }),
        wall: Some(WallMaterial::Bamboo),
        roof: Some(RoofMaterial::AsbestosZinc),
        lighting: Some(Lighting::PlnMetered),
        power_rating: Some(PowerRating::W450),
        cooking_fuel: Some(CookingFuel::Firewood),
        drinking_water: Some(DrinkingWater::ProtectedWell),
        sanitation: Some(Sanitation::Shared),
        ..Housing::default()
    };
    visit.welfare = Welfare {
        assets: Some(BTreeSet::from([Asset::Television])),
        has_savings_500k: Some(false),
        meals_per_day: Some(2),
        meat_milk_per_week: Some((seed % 3) as u8),
        new_clothes_per_year: Some(1),
        can_afford_clinic: Some(seed.is_multiple_of(2)),
        monthly_expenditure_rp: Some(900_000 + (seed % 20) * 50_000),
        programs_received: Some(BTreeSet::from([ProgramReceived::Pkh])),
        ..Welfare::default()
    };
    visit.assessment = Some(if seed.is_multiple_of(4) {
        Assessment::Poor
    } else {
        Assessment::ExtremePoor
    });
    visit.recommendation = Some(Recommendation::Keep);
    visit
}

/// The answers of [`found_visit`] typed into an existing draft: it keeps the draft's ids and start
/// time and is not finished yet (`finish_visit` stamps `finished_at`).
pub fn fill_draft(draft: &Visit, household: &Household, now: Timestamp, seq: u64) -> Visit {
    let mut visit = found_visit(household, draft.enumerator_id, draft.device_id, now, seq);
    visit.visit_id = draft.visit_id;
    visit.started_at = draft.started_at;
    visit.finished_at = None;
    visit
}

/// The sample village the demo and tests use: Kab. Lahat, Sumatera Selatan (`16.04.01.2001`).
pub fn village() -> RegionCode {
    RegionCode::parse("16.04.01.2001").expect("the sample village code is valid")
}

/// The key of the stores of tests, benchmarks and the demo's made-up phones: fixed, so that a
/// test reopens its store and a restarted demo its phones. A real phone's key is random and kept
/// by the platform's key store.
#[cfg(feature = "store")]
pub fn store_key() -> crate::store::StoreKey {
    crate::store::StoreKey::from_array([0x5A; crate::store::StoreKey::LEN])
}
