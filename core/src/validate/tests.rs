use std::collections::BTreeSet;

use time::Duration;
use time::macros::date;
use uuid::Uuid;

use super::*;
use crate::sample;

fn now() -> Timestamp {
    Timestamp::parse("2026-11-21T10:00:00+07:00").unwrap()
}

fn household() -> Household {
    sample::household(3, &sample::village(), 1, 2)
}

fn visit_to(h: &Household) -> Visit {
    sample::found_visit(
        h,
        EnumeratorId(Uuid::from_u128(1)),
        DeviceId(Uuid::from_u128(2)),
        Timestamp(now().0 - Duration::hours(1)),
        1,
    )
}

fn codes(issues: &[Issue]) -> Vec<(String, String)> {
    issues
        .iter()
        .map(|i| (i.code.clone(), i.field.clone()))
        .collect()
}

fn has(issues: &[Issue], code: &str, field: &str) -> bool {
    issues.iter().any(|i| i.code == code && i.field == field)
}

#[test]
fn a_complete_visit_can_be_finished() {
    let h = household();
    let issues = validate_visit(
        &visit_to(&h),
        &Context {
            household: Some(&h),
            ..Context::new(now())
        },
    );
    assert!(
        issues.iter().all(|i| !i.blocks_finishing()),
        "{:?}",
        codes(&issues)
    );
}

#[test]
fn every_issue_carries_both_messages_and_its_rule() {
    let h = household();
    let mut v = Visit::draft(
        Some(h.household_id),
        EnumeratorId(Uuid::nil()),
        DeviceId(Uuid::nil()),
        now(),
    );
    v.outcome = Some(Outcome::Found);
    let issues = validate_visit(
        &v,
        &Context {
            household: Some(&h),
            ..Context::new(now())
        },
    );
    assert!(!issues.is_empty());
    for i in &issues {
        let rule = rules::ALL
            .iter()
            .find(|r| r.code == i.code && r.message_en == i.message_en)
            .unwrap();
        assert_eq!(rule.severity, i.severity);
        assert!(!i.message_id.is_empty() && !i.field.is_empty());
    }
    // VIS-01 names each missing part.
    for field in ["housing.floor", "members", "location"] {
        assert!(
            has(&issues, "VIS-01", field),
            "{field}: {:?}",
            codes(&issues)
        );
    }
}

#[test]
fn a_visit_without_outcome_cannot_be_finished() {
    let h = household();
    let mut v = visit_to(&h);
    v.outcome = None;
    let issues = validate_visit(&v, &Context::new(now()));
    assert!(has(&issues, "VIS-11", "outcome"));
}

#[test]
fn outcome_details_are_required() {
    let h = household();
    let ctx = Context::new(now());
    let mut v = visit_to(&h);
    v.outcome = Some(Outcome::MovedAway);
    assert!(has(&validate_visit(&v, &ctx), "VIS-02", "moved_to"));
    v.moved_to = Some("Palembang".into());
    assert!(!has(&validate_visit(&v, &ctx), "VIS-02", "moved_to"));
    v.outcome = Some(Outcome::DuplicateOf);
    assert!(has(
        &validate_visit(&v, &ctx),
        "VIS-02",
        "other_household_id"
    ));
}

#[test]
fn times_in_the_future_or_before_the_campaign_are_errors_and_short_interviews_warnings() {
    let h = household();
    let mut v = visit_to(&h);
    v.finished_at = Some(Timestamp(now().0 + Duration::hours(2)));
    assert!(has(
        &validate_visit(&v, &Context::new(now())),
        "VIS-05",
        "finished_at"
    ));
    // Within the clock tolerance: fine.
    v.finished_at = Some(Timestamp(now().0 + Duration::minutes(5)));
    v.started_at = Timestamp(now().0 - Duration::minutes(20));
    assert!(!has(
        &validate_visit(&v, &Context::new(now())),
        "VIS-05",
        "finished_at"
    ));
    let ctx = Context {
        campaign_start: Some(date!(2026 - 12 - 01)),
        ..Context::new(now())
    };
    assert!(has(&validate_visit(&v, &ctx), "VIS-05", "started_at"));
    let mut quick = visit_to(&h);
    quick.started_at = Timestamp(quick.finished_at.unwrap().0 - Duration::seconds(60));
    let issues = validate_visit(&quick, &Context::new(now()));
    let short = issues.iter().find(|i| i.code == "VIS-05").unwrap();
    assert_eq!(short.severity, Severity::Warning);
}

#[test]
fn a_visit_finished_before_it_started_or_before_the_programme_is_an_error() {
    let h = household();
    let mut backwards = visit_to(&h);
    backwards.started_at = Timestamp(backwards.finished_at.unwrap().0 + Duration::hours(2));
    let issues = validate_visit(&backwards, &Context::new(now()));
    assert!(has(&issues, "VIS-12", "finished_at"));
    let mut ancient = visit_to(&h);
    ancient.started_at = Timestamp::parse("1999-12-31T08:00:00Z").unwrap();
    ancient.finished_at = Some(Timestamp::parse("1999-12-31T08:30:00Z").unwrap());
    let issues = validate_visit(&ancient, &Context::new(now()));
    assert!(has(&issues, "VIS-05", "started_at") && has(&issues, "VIS-05", "finished_at"));
}

#[test]
fn texts_longer_than_their_field_are_errors_at_the_limit_plus_one() {
    let h = household();
    let mut v = visit_to(&h);
    // 120 characters of four bytes each: within the limit, though 480 bytes.
    v.respondent_name = Some("𝓐".repeat(120));
    v.notes = Some("n".repeat(2_000));
    assert!(
        !validate_visit(&v, &Context::new(now()))
            .iter()
            .any(|i| i.code == "TXT-01")
    );
    v.respondent_name = Some("𝓐".repeat(121));
    v.notes = Some("n".repeat(2_001));
    let issues = validate_visit(&v, &Context::new(now()));
    assert!(has(&issues, "TXT-01", "respondent_name") && has(&issues, "TXT-01", "notes"));
}

#[test]
fn a_warning_with_a_reason_no_longer_blocks() {
    let h = household();
    let mut v = visit_to(&h);
    v.location.as_mut().unwrap().accuracy_m = 120.0;
    let ctx = Context::new(now());
    let warning = validate_visit(&v, &ctx)
        .into_iter()
        .find(|i| i.code == "VIS-03")
        .unwrap();
    assert!(warning.blocks_finishing());
    v.warning_reasons
        .insert(warning.key(), "Di bawah pohon lebat".into());
    let again = validate_visit(&v, &ctx)
        .into_iter()
        .find(|i| i.code == "VIS-03")
        .unwrap();
    assert_eq!(again.reason.as_deref(), Some("Di bawah pohon lebat"));
    assert!(!again.blocks_finishing());
    v.warning_reasons.insert(warning.key(), "  ".into());
    assert!(
        validate_visit(&v, &ctx)
            .iter()
            .any(|i| i.code == "VIS-03" && i.blocks_finishing())
    );
}

#[test]
fn refusal_allows_only_outcome_and_notes() {
    let h = household();
    let mut v = visit_to(&h);
    v.outcome = Some(Outcome::FoundRefused);
    let issues = validate_visit(&v, &Context::new(now()));
    assert!(has(&issues, "VIS-06", "housing") && has(&issues, "VIS-06", "welfare"));
    let mut bare = Visit::draft(
        Some(h.household_id),
        EnumeratorId(Uuid::nil()),
        DeviceId(Uuid::nil()),
        now(),
    );
    bare.outcome = Some(Outcome::FoundRefused);
    bare.finished_at = Some(Timestamp(now().0 + Duration::minutes(3)));
    bare.notes = Some("Tidak mau diwawancara".into());
    assert!(
        validate_visit(&bare, &Context::new(now()))
            .iter()
            .all(|i| !i.blocks_finishing())
    );
}

#[test]
fn removing_a_family_needs_a_house_front_photo_that_is_stored() {
    let h = household();
    let mut v = visit_to(&h);
    v.recommendation = Some(Recommendation::Remove);
    let stored = |s: &Sha256| s == &Sha256::of(b"front");
    let ctx = Context {
        has_attachment: Some(&stored),
        ..Context::new(now())
    };
    assert!(has(&validate_visit(&v, &ctx), "VIS-04", "photos"));
    v.photos.push(Photo {
        sha256: Sha256::of(b"other"),
        kind: PhotoKind::HouseFront,
    });
    let issues = validate_visit(&v, &ctx);
    assert!(!has(&issues, "VIS-04", "photos"));
    assert!(has(
        &issues,
        "VIS-08",
        &format!("photos.{}", Sha256::of(b"other"))
    ));
    v.photos[0].sha256 = Sha256::of(b"front");
    assert!(validate_visit(&v, &ctx).iter().all(|i| i.code != "VIS-08"));
}

#[test]
fn housing_rules() {
    let h = household();
    let ctx = Context {
        household: Some(&h),
        ..Context::new(now())
    };
    let mut v = visit_to(&h);
    v.housing.floor_area_m2 = Some(0.5);
    assert!(has(
        &validate_visit(&v, &ctx),
        "HSE-01",
        "housing.floor_area_m2"
    ));
    v.housing.floor_area_m2 = Some(20.0); // 4 people: 5 m² each
    let info = validate_visit(&v, &ctx)
        .into_iter()
        .find(|i| i.code == "HSE-01")
        .unwrap();
    assert_eq!(info.severity, Severity::Info);
    v.housing.lighting = Some(Lighting::NotElectricity);
    assert!(has(
        &validate_visit(&v, &ctx),
        "HSE-02",
        "housing.power_rating"
    ));
    v.housing.tenure = Some(Tenure::Rented);
    v.housing.land_title = Some(true);
    assert!(has(
        &validate_visit(&v, &ctx),
        "HSE-02",
        "housing.land_title"
    ));
}

#[test]
fn family_card_rules() {
    let mut h = household();
    h.kk_number = Some(Entered::from_input("1604010101200001"));
    let ctx = Context {
        household: Some(&h),
        ..Context::new(now())
    };
    let mut v = visit_to(&h);
    v.kk_number = Some(Entered::from_input("1604 0101 0120"));
    assert!(has(&validate_visit(&v, &ctx), "KK-01", "kk_number"));
    v.kk_number = Some(Entered::from_input("1604010202200001"));
    assert!(has(&validate_visit(&v, &ctx), "KK-04", "kk_number"));
    v.kk_change_reason = Some(KkChangeReason::Split);
    assert!(!has(&validate_visit(&v, &ctx), "KK-04", "kk_number"));
    let head_nik = h.members[0].details.nik.clone().unwrap();
    v.kk_number = Some(Entered::from_input(head_nik.as_str()));
    assert!(has(&validate_visit(&v, &ctx), "KK-03", "kk_number"));
}

fn with_changes(h: &Household, changes: Vec<MemberChange>) -> Vec<Issue> {
    let mut v = visit_to(h);
    v.member_changes = changes;
    validate_visit(
        &v,
        &Context {
            household: Some(h),
            ..Context::new(now())
        },
    )
}

#[test]
fn member_nik_rules() {
    let h = household();
    let child = h.members[2].member_id;
    let field = format!("members.{child}.nik");
    let update = |nik: &str| MemberChange::Update {
        member_id: child,
        details: MemberDetails {
            nik: Some(Entered::from_input(nik)),
            ..MemberDetails::default()
        },
    };
    assert!(has(
        &with_changes(&h, vec![update("12345")]),
        "NIK-01",
        &field
    ));
    assert!(has(
        &with_changes(&h, vec![update("9901010101900001")]),
        "NIK-02",
        &field
    ));
    assert!(has(
        &with_changes(&h, vec![update("1604013201900001")]),
        "NIK-03",
        &field
    ));
    assert!(has(
        &with_changes(&h, vec![update("1604010101900000")]),
        "NIK-04",
        &field
    ));
    assert!(has(&with_changes(&h, vec![update("")]), "NIK-10", &field));
    let spouse_nik = h.members[1]
        .details
        .nik
        .as_ref()
        .unwrap()
        .as_str()
        .to_owned();
    assert!(has(
        &with_changes(&h, vec![update(&spouse_nik)]),
        "NIK-08",
        &field
    ));
    // The child is female and born on her own date: a male NIK with another date warns twice.
    let issues = with_changes(&h, vec![update("1604010101900001")]);
    assert!(has(&issues, "NIK-05", &format!("members.{child}.sex")));
    assert!(has(
        &issues,
        "NIK-06",
        &format!("members.{child}.birth_date")
    ));
    // A reason for a missing NIK satisfies NIK-10.
    let reason = MemberChange::Update {
        member_id: child,
        details: MemberDetails {
            nik: Some(Entered::from_input("")),
            nik_missing_reason: Some(NikMissingReason::NotYetIssued),
            ..MemberDetails::default()
        },
    };
    assert!(
        with_changes(&h, vec![reason])
            .iter()
            .all(|i| !i.code.starts_with("NIK"))
    );
}

#[test]
fn nik_elsewhere_and_unknown_region_prefix() {
    struct Directory(Nik, HouseholdId);
    impl NikDirectory for Directory {
        fn household_with_nik(
            &self,
            nik: &Nik,
            except: Option<HouseholdId>,
        ) -> Option<HouseholdId> {
            (nik == &self.0 && except != Some(self.1)).then_some(self.1)
        }
    }
    let h = household();
    let other = HouseholdId(Uuid::from_u128(99));
    let nik = sample::nik(&sample::village(), Sex::Female, date!(2012 - 03 - 04), 17);
    let dir = Directory(nik.clone(), other);
    let regions: BTreeSet<RegionCode> = BTreeSet::from([RegionCode::parse("16.04.02").unwrap()]);
    let mut v = visit_to(&h);
    let child = h.members[2].member_id;
    v.member_changes = vec![MemberChange::Update {
        member_id: child,
        details: MemberDetails {
            nik: Some(Entered::Valid(nik)),
            ..MemberDetails::default()
        },
    }];
    let ctx = Context {
        household: Some(&h),
        niks: Some(&dir),
        regions: Some(&regions),
        ..Context::new(now())
    };
    let issues = validate_visit(&v, &ctx);
    let elsewhere = issues.iter().find(|i| i.code == "NIK-09").unwrap();
    assert!(elsewhere.message_en.contains(&other.to_string()));
    assert!(has(&issues, "NIK-07", &format!("members.{child}.nik")));
}

#[test]
fn family_shape_rules() {
    let h = household();
    let head = h.members[0].member_id;
    let spouse = h.members[1].member_id;
    let issues = with_changes(
        &h,
        vec![MemberChange::MarkMoved {
            member_id: head,
            date: None,
        }],
    );
    assert!(has(&issues, "HH-01", "members"));
    let second_spouse = MemberChange::Add {
        member: Member {
            member_id: MemberId(Uuid::from_u128(5)),
            source_member_id: None,
            details: MemberDetails {
                name: Some("Wati".into()),
                relation: Some(Relation::Spouse),
                marital_status: Some(MaritalStatus::NeverMarried),
                birth_date: Some(date!(2010 - 05 - 05)),
                nik_missing_reason: Some(NikMissingReason::DocumentUnavailable),
                ..MemberDetails::default()
            },
            presence: Presence::New,
            presence_date: None,
        },
    };
    let issues = with_changes(&h, vec![second_spouse]);
    assert!(has(&issues, "HH-03", "members"));
    assert!(has(
        &issues,
        "MEM-03",
        "members.00000000-0000-0000-0000-000000000005.marital_status"
    ));
    let everyone_left: Vec<MemberChange> = h
        .members
        .iter()
        .map(|m| MemberChange::MarkMoved {
            member_id: m.member_id,
            date: None,
        })
        .collect();
    assert!(has(&with_changes(&h, everyone_left), "HH-04", "members"));
    let deceased = with_changes(
        &h,
        vec![MemberChange::MarkDeceased {
            member_id: spouse,
            date: None,
        }],
    );
    assert!(has(
        &deceased,
        "MEM-05",
        &format!("members.{spouse}.presence_date")
    ));
    let stranger = MemberId(Uuid::from_u128(77));
    let ghost = with_changes(
        &h,
        vec![MemberChange::MarkPresent {
            member_id: stranger,
        }],
    );
    assert!(has(&ghost, "MEM-07", &format!("members.{stranger}")));
}

#[test]
fn member_age_rules() {
    let h = household();
    let head_born = h.members[0].details.birth_date.unwrap();
    let child = h.members[2].member_id;
    let older_child = MemberChange::Update {
        member_id: child,
        details: MemberDetails {
            birth_date: Some(head_born - Duration::days(400)),
            ..MemberDetails::default()
        },
    };
    assert!(has(
        &with_changes(&h, vec![older_child]),
        "MEM-02",
        &format!("members.{child}.birth_date")
    ));
    let future = MemberChange::Update {
        member_id: child,
        details: MemberDetails {
            birth_date: Some(date!(2027 - 01 - 01)),
            ..MemberDetails::default()
        },
    };
    assert!(has(
        &with_changes(&h, vec![future]),
        "MEM-01",
        &format!("members.{child}.birth_date")
    ));
    let married_child = MemberChange::Update {
        member_id: child,
        details: MemberDetails {
            marital_status: Some(MaritalStatus::Married),
            ..MemberDetails::default()
        },
    };
    assert!(has(
        &with_changes(&h, vec![married_child]),
        "MEM-04",
        &format!("members.{child}.marital_status")
    ));
}

#[test]
fn new_household_proposals_need_place_and_head() {
    // A complete proposal, with its new id, passes.
    let mut complete = Visit::draft(
        Some(HouseholdId::new_v4()),
        EnumeratorId(Uuid::nil()),
        DeviceId(Uuid::nil()),
        now(),
    );
    complete.outcome = Some(Outcome::NobodyHome);
    complete.finished_at = Some(now());
    complete.proposal = Some(HouseholdProposal {
        region: sample::village(),
        rw: Some(Entered::from_input("1")),
        rt: Some(Entered::from_input("2")),
        address: "Dusun 3".into(),
        head_name: "Joko".into(),
    });
    assert!(
        validate_visit(&complete, &Context::new(now()))
            .iter()
            .all(|i| !i.blocks_finishing())
    );

    let mut v = Visit::draft(
        None,
        EnumeratorId(Uuid::nil()),
        DeviceId(Uuid::nil()),
        now(),
    );
    v.outcome = Some(Outcome::NobodyHome);
    v.finished_at = Some(now());
    assert!(has(
        &validate_visit(&v, &Context::new(now())),
        "VIS-09",
        "proposal"
    ));
    v.proposal = Some(HouseholdProposal {
        region: RegionCode::parse("16.04.01.2999").unwrap(),
        rw: Some(Entered::from_input("0")),
        rt: None,
        address: String::new(),
        head_name: "Joko".into(),
    });
    let regions = BTreeSet::from([sample::village()]);
    let issues = validate_visit(
        &v,
        &Context {
            regions: Some(&regions),
            ..Context::new(now())
        },
    );
    assert!(has(&issues, "REG-01", "proposal.region"));
    assert!(has(&issues, "REG-02", "proposal.rw"));
    assert!(
        has(&issues, "VIS-09", "household_id"),
        "a proposal carries the id the phone made"
    );
    assert!(has(&issues, "VIS-09", "proposal.rt"));
    assert!(has(&issues, "VIS-09", "proposal.address"));
}

#[test]
fn third_nobody_home_is_escalated() {
    let h = household();
    let mut v = Visit::draft(
        Some(h.household_id),
        EnumeratorId(Uuid::nil()),
        DeviceId(Uuid::nil()),
        now(),
    );
    v.outcome = Some(Outcome::NobodyHome);
    v.finished_at = Some(now());
    let ctx = Context {
        earlier_nobody_home: 2,
        ..Context::new(now())
    };
    let issue = validate_visit(&v, &ctx)
        .into_iter()
        .find(|i| i.code == "VIS-07")
        .unwrap();
    assert_eq!(issue.severity, Severity::Info);
    assert!(!issue.blocks_finishing());
}

#[test]
fn household_rules_for_imports() {
    let mut h = household();
    h.decile = Some(11);
    h.kk_number = Some(Entered::from_input("ID-300000003"));
    h.members[0].details.nik = Some(Entered::from_input("1.60401E+15"));
    let issues = validate_household(&h, &Context::new(now()));
    assert!(has(&issues, "DES-01", "decile"));
    assert!(has(&issues, "KK-01", "kk_number"));
    assert!(has(
        &issues,
        "NIK-01",
        &format!("members.{}.nik", h.members[0].member_id)
    ));
}

#[test]
fn the_rw_and_rt_where_a_family_was_found_are_numbers_and_asked_for_when_unknown() {
    // A P3KE family: no RW or RT on the list.
    let mut listed = household();
    (listed.rw, listed.rt) = (None, None);
    let ctx = |h| Context {
        household: Some(h),
        ..Context::new(now())
    };
    let mut visit = visit_to(&listed);
    assert_eq!((&visit.rw, &visit.rt), (&None, &None));
    let issues = validate_visit(&visit, &ctx(&listed));
    assert!(has(&issues, "VIS-13", "rt"), "{:?}", codes(&issues));
    assert!(issues.iter().any(Issue::blocks_finishing));

    visit.rw = Some(Entered::from_input("2"));
    visit.rt = Some(Entered::from_input("tiga"));
    let issues = validate_visit(&visit, &ctx(&listed));
    assert!(has(&issues, "REG-02", "rt"), "{:?}", codes(&issues));
    assert!(!has(&issues, "REG-02", "rw") && !has(&issues, "VIS-13", "rt"));

    let place_issue = |issues: &[Issue]| {
        issues
            .iter()
            .any(|i| i.code == "VIS-13" || i.code == "REG-02")
    };
    visit.rt = Some(Entered::from_input("3"));
    assert!(!place_issue(&validate_visit(&visit, &ctx(&listed))));
    // A family whose RT is known is not asked again; nobody home is not asked at all.
    let known = household();
    assert!(!place_issue(&validate_visit(
        &visit_to(&known),
        &ctx(&known)
    )));
    let mut nobody = visit_to(&listed);
    nobody.outcome = Some(Outcome::NobodyHome);
    assert!(!has(
        &validate_visit(&nobody, &ctx(&listed)),
        "VIS-13",
        "rt"
    ));
}
