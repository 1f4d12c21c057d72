use std::fmt::Debug;

use proptest::prelude::*;
use serde::Serialize;
use time::macros::date;

use super::*;
use crate::model::Sex;

#[test]
fn nik_accepts_the_typed_forms_and_keeps_digits_only() {
    let nik = Nik::parse(" 3201.0141.0190.0001 ").unwrap();
    assert_eq!(nik.as_str(), "3201014101900001");
    assert_eq!(nik.sex(), Sex::Female);
    assert_eq!(
        nik.birth_date(date!(2026 - 01 - 01)),
        Some(date!(1990 - 01 - 01))
    );
    assert_eq!(nik.region_prefix(), "320101");
}

#[test]
fn nik_errors_name_their_rule() {
    let cases = [
        ("320101010190001", "NIK-01"),   // 15 digits
        ("32010101019000012", "NIK-01"), // 17 digits
        ("320101O101900001", "NIK-01"),  // letter O
        ("9901010101900001", "NIK-02"),  // no province 99
        ("3201013201900001", "NIK-03"),  // day 32
        ("3201017201900001", "NIK-03"),  // day 72
        ("3201010113900001", "NIK-03"),  // month 13
        ("3201013102900001", "NIK-03"),  // 31 February
        ("3201010101900000", "NIK-04"),  // serial 0000
    ];
    for (input, code) in cases {
        let err = Nik::parse(input).unwrap_err();
        assert_eq!(err.rule().code, code, "{input}");
    }
}

#[test]
fn nik_century_is_the_latest_not_in_the_future() {
    let nik = Nik::parse("3201010101250001").unwrap();
    assert_eq!(
        nik.birth_date(date!(2026 - 06 - 01)),
        Some(date!(2025 - 01 - 01))
    );
    assert_eq!(
        nik.birth_date(date!(2024 - 06 - 01)),
        Some(date!(1925 - 01 - 01))
    );
}

#[test]
fn nik_never_shows_in_debug_output() {
    let nik = Nik::parse("3201010101900001").unwrap();
    let shown = format!("{nik:?} {:?}", Entered::Valid(nik.clone()));
    assert!(!shown.contains("3201010101900001"), "{shown}");
    assert!(shown.contains("3201********0001"));
    let typo: Entered<Nik> = Entered::from_input("320101010190000");
    assert!(!format!("{typo:?}").contains("3201010"));
}

#[test]
fn kk_number_checks_the_recording_date_without_the_female_offset() {
    assert!(KkNumber::parse("1604011503200002").is_ok());
    assert_eq!(
        KkNumber::parse("1604015503200002").unwrap_err().rule().code,
        "KK-02"
    );
    assert_eq!(
        KkNumber::parse("1604011503200000").unwrap_err().rule().code,
        "KK-02"
    );
    assert_eq!(
        KkNumber::parse("9904011503200002").unwrap_err().rule().code,
        "KK-02"
    );
    assert_eq!(
        KkNumber::parse("300401234").unwrap_err().rule().code,
        "KK-01"
    );
    let kk = KkNumber::parse("1604011503300002").unwrap();
    assert_eq!(
        kk.recording_date(date!(2026 - 01 - 01)),
        Some(date!(1930 - 03 - 15))
    );
}

#[test]
fn region_codes_parse_dotted_and_undotted_at_every_level() {
    let village = RegionCode::parse("1604012001").unwrap();
    assert_eq!(village.as_str(), "16.04.01.2001");
    assert_eq!(village, RegionCode::parse("16.04.01.2001").unwrap());
    assert_eq!(village.level(), RegionLevel::Village);
    assert_eq!(village.undotted(), "1604012001");
    let regency = RegionCode::parse("16.04").unwrap();
    assert_eq!(regency.level(), RegionLevel::Regency);
    assert!(regency.contains(&village));
    assert!(!RegionCode::parse("16.40").unwrap().contains(&village));
    assert_eq!(
        village.ancestor(RegionLevel::District).unwrap().as_str(),
        "16.04.01"
    );
    for bad in [
        "",
        "1",
        "16.4",
        "16.04.01.201",
        "16.04.01.2001.1",
        "99.01",
        "16.00",
        "16,04",
        "16.04.01.200a",
    ] {
        assert!(RegionCode::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn rt_and_rw_are_one_to_999_written_with_three_digits() {
    assert_eq!(Rt::parse("7").unwrap().as_str(), "007");
    assert_eq!(Rw::parse(" 012 ").unwrap().number(), 12);
    for bad in ["0", "000", "1000", "-1", "", "1a", "+5"] {
        assert_eq!(Rt::parse(bad).unwrap_err().rule().code, "REG-02", "{bad:?}");
    }
}

#[test]
fn entered_keeps_invalid_text_through_the_wire() {
    let typed: Entered<Nik> = serde_json::from_str("\"3201 0101 0190 000\"").unwrap();
    assert_eq!(typed.problem().map(|r| r.code), Some("NIK-01"));
    assert_eq!(
        serde_json::to_string(&typed).unwrap(),
        "\"3201 0101 0190 000\""
    );
    let good: Entered<Nik> = serde_json::from_str("\"3201.0101.0190.0001\"").unwrap();
    assert_eq!(
        serde_json::to_string(&good).unwrap(),
        "\"3201010101900001\""
    );
}

#[test]
fn strict_codes_reject_bad_wire_values() {
    assert!(serde_json::from_str::<RegionCode>("\"16.04.01.20\"").is_err());
    assert!(serde_json::from_str::<Nik>("\"123\"").is_err());
    assert!(
        serde_json::from_str::<Rt>("5").is_err(),
        "RT travels as text"
    );
}

#[test]
fn every_enumeration_has_distinct_codes_and_both_labels() {
    fn check<T: Labelled + Serialize + Debug>() {
        let mut codes = std::collections::BTreeSet::new();
        for v in T::ALL {
            assert!(codes.insert(v.code()), "{v:?} repeats a code");
            assert!(
                !v.label_id().is_empty() && !v.label_en().is_empty(),
                "{v:?}"
            );
            assert_eq!(
                serde_json::to_value(v).unwrap(),
                v.code(),
                "{v:?} wire form"
            );
            assert_eq!(T::from_code(v.code()).map(|x| x.code()), Some(v.code()));
        }
    }
    use crate::model::*;
    check::<Source>();
    check::<TargetStatus>();
    check::<SourcePriority>();
    check::<SourceProgram>();
    check::<NikMissingReason>();
    check::<Sex>();
    check::<Relation>();
    check::<MaritalStatus>();
    check::<Education>();
    check::<Occupation>();
    check::<EmploymentStatus>();
    check::<Disability>();
    check::<DukcapilMatch>();
    check::<Presence>();
    check::<Outcome>();
    check::<LocationSource>();
    check::<Consent>();
    check::<KkChangeReason>();
    check::<Tenure>();
    check::<Quality>();
    check::<FloorMaterial>();
    check::<WallMaterial>();
    check::<RoofMaterial>();
    check::<Lighting>();
    check::<PowerRating>();
    check::<CookingFuel>();
    check::<DrinkingWater>();
    check::<Sanitation>();
    check::<Asset>();
    check::<ProgramReceived>();
    check::<Assessment>();
    check::<Recommendation>();
    check::<PhotoKind>();
    check::<Decision>();
    check::<VerificationStatus>();
    check::<crate::validate::Severity>();
    check::<crate::suggest::BpsCriterion>();
    assert_eq!(Outcome::ALL.len(), 11);
    assert_eq!(PROVINCES.len(), 38);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parsers_never_panic_on_arbitrary_text(s in "\\PC*") {
        let _ = Nik::parse(&s);
        let _ = KkNumber::parse(&s);
        let _ = RegionCode::parse(&s);
        let _ = Rt::parse(&s);
        let _ = Rw::parse(&s);
        let _ = Entered::<Nik>::from_input(&s).problem();
    }

    #[test]
    fn what_parses_reparses_to_itself(s in "[0-9. -]{0,24}") {
        if let Ok(nik) = Nik::parse(&s) {
            prop_assert_eq!(Nik::parse(nik.as_str()).unwrap(), nik);
        }
        if let Ok(kk) = KkNumber::parse(&s) {
            prop_assert_eq!(KkNumber::parse(kk.as_str()).unwrap(), kk);
        }
        if let Ok(region) = RegionCode::parse(&s) {
            prop_assert_eq!(RegionCode::parse(region.as_str()).unwrap(), region.clone());
            prop_assert_eq!(RegionCode::parse(&region.undotted()).unwrap(), region);
        }
        if let Ok(rt) = Rt::parse(&s) {
            prop_assert_eq!(Rt::parse(rt.as_str()).unwrap(), rt);
        }
    }

    #[test]
    fn a_parsed_nik_reparses_to_itself(
        prov in proptest::sample::select(PROVINCES.iter().map(|p| p.0).collect::<Vec<_>>()),
        rest in "[0-9]{4}", day in 1u8..=28, female in any::<bool>(), month in 1u8..=12,
        yy in 0u8..=99, serial in 1u16..=9999,
    ) {
        let text = format!("{prov}{rest}{:02}{month:02}{yy:02}{serial:04}", day + if female { 40 } else { 0 });
        let nik = Nik::parse(&text).unwrap();
        prop_assert_eq!(Nik::parse(nik.as_str()).unwrap(), nik.clone());
        prop_assert_eq!(nik.sex() == Sex::Female, female);
    }
}
