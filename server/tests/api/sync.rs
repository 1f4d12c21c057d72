use reqwest::StatusCode;
use serde_json::json;
use verivali_core::merge::Merged;
use verivali_core::model::*;
use verivali_core::protocol::{ErrorBody, PushItem, PushStatus};
use verivali_core::sample;

use crate::helpers::{TestApp, VILLAGE_A, VILLAGE_B, household};

fn statuses(r: &verivali_core::protocol::PushResponse) -> Vec<PushStatus> {
    r.results.iter().map(|r| r.status).collect()
}

#[tokio::test]
async fn retried_push_stores_each_visit_once() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let items: Vec<_> = (0..5).map(|i| phone.visit(i, 30)).collect();
    let first = app.push(&phone, &items).await;
    assert_eq!(statuses(&first), vec![PushStatus::Accepted; 5]);
    for _ in 0..3 {
        let retry = app.push(&phone, &items).await;
        assert_eq!(statuses(&retry), vec![PushStatus::Duplicate; 5]);
    }
    assert_eq!(app.visit_count().await, 5);
    let states = app.pull_all(&phone).await;
    let used: usize = states.iter().map(|m| m.state.visits_used.len()).sum();
    assert_eq!(used, 5);
}

#[tokio::test]
async fn a_reused_visit_id_with_other_content_is_rejected() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let original = phone.visit(1, 30);
    app.push(&phone, std::slice::from_ref(&original)).await;
    let mut other = phone.visit(2, 20);
    other.visit.visit_id = original.visit.visit_id;
    let answer = app.push(&phone, &[other]).await;
    assert_eq!(statuses(&answer), vec![PushStatus::Rejected]);
    assert_eq!(answer.results[0].issues[0].code, "SYN-02");
    assert_eq!(app.visit_count().await, 1);
}

#[tokio::test]
async fn the_same_content_under_a_new_id_is_not_counted_twice() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let first = phone.visit(3, 30);
    let twin = twin_of(&first);
    let answer = app.push(&phone, &[first, twin]).await;
    assert_eq!(
        statuses(&answer),
        vec![PushStatus::Accepted, PushStatus::Duplicate]
    );
    assert_eq!(app.visit_count().await, 2, "kept for audit");
    assert_eq!(visits_merged(&app, &phone, 3).await, 1);
}

/// The same visit content under a new id, numbered after it.
fn twin_of(item: &PushItem) -> PushItem {
    let mut twin = item.clone();
    twin.visit.visit_id = VisitId::new_v7();
    twin.device_seq = item.device_seq + 1;
    twin
}

/// How many visits household `i`'s merged state, as the phone pulls it, is made of.
async fn visits_merged(app: &TestApp, phone: &crate::helpers::Phone, i: u64) -> usize {
    let states = app.pull_all(phone).await;
    let h = states
        .iter()
        .find(|m| m.state.household.household_id == household(i).household_id)
        .unwrap();
    h.state.visits_used.len()
}

/// A push is planned against a snapshot, off the writer (`ingest::plan`). When another push changes
/// its household before it is written, the plan is stale and is made again on the writer: the
/// visit of the same content that arrived in between makes it a duplicate, merged once.
#[tokio::test]
async fn a_plan_overtaken_by_another_push_is_made_again_on_the_writer() {
    use verivali_server::auth::DeviceAuth;
    use verivali_server::{admin, ingest};

    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let stale = phone.visit(3, 30);
    let overtaking = twin_of(&stale);
    let device = DeviceAuth {
        device_id: phone.device_id,
        enumerator_id: phone.enumerator_id,
        areas: vec![admin::parse_area(VILLAGE_A).unwrap()],
        former_areas: Vec::new(),
    };
    let now = Timestamp::now_utc();
    let slots = ingest::decode(vec![serde_json::value::to_raw_value(&stale).unwrap()]);
    let (db, planner) = (app.db.clone(), device.clone());
    let (slots, plan) = tokio::task::spawn_blocking(move || {
        let plan = db
            .read_blocking(|c| ingest::plan(c, &planner, &slots, now, now))
            .unwrap();
        (slots, plan)
    })
    .await
    .unwrap();

    let answer = app.push(&phone, &[overtaking]).await;
    assert_eq!(statuses(&answer), vec![PushStatus::Accepted]);
    let answer = app
        .db
        .write(move |tx| ingest::store(tx, &device, &slots, Some(plan), now, now))
        .await
        .unwrap();
    assert_eq!(
        statuses(&answer),
        vec![PushStatus::Duplicate],
        "written as planned, it would have been accepted and merged twice"
    );
    assert_eq!(app.visit_count().await, 2, "kept for audit");
    assert_eq!(visits_merged(&app, &phone, 3).await, 1);
}

#[tokio::test]
async fn arrival_order_does_not_change_any_merged_state() {
    let (one, two) = (TestApp::spawn().await, TestApp::spawn().await);
    // The same two phones (same ids) on both servers.
    let ids = [
        (
            EnumeratorId(uuid::Uuid::from_u128(1)),
            DeviceId(uuid::Uuid::from_u128(11)),
        ),
        (
            EnumeratorId(uuid::Uuid::from_u128(2)),
            DeviceId(uuid::Uuid::from_u128(12)),
        ),
    ];
    let mut a = one.phone_with_ids(&[VILLAGE_A], ids[0].0, ids[0].1).await;
    let mut b = one.phone_with_ids(&[VILLAGE_A], ids[1].0, ids[1].1).await;
    let (a2, b2) = (
        two.phone_with_ids(&[VILLAGE_A], ids[0].0, ids[0].1).await,
        two.phone_with_ids(&[VILLAGE_A], ids[1].0, ids[1].1).await,
    );
    let from_a: Vec<_> = (0..12).map(|i| a.visit(i % 6, 60 - i as i64)).collect();
    let mut from_b: Vec<_> = (0..12).map(|i| b.visit(i % 6, 50 - i as i64)).collect();
    for item in &mut from_b {
        item.visit.assessment = Some(Assessment::Vulnerable); // disagreements: conflicts too
    }
    // Server one: all of A in one batch, then all of B. Server two: B first, one visit at a time,
    // newest first, interleaved with A, and every batch sent twice.
    one.push(&a, &from_a).await;
    one.push(&b, &from_b).await;
    for k in (0..12).rev() {
        for _ in 0..2 {
            two.push(&b2, &from_b[k..k + 1]).await;
            two.push(&a2, &from_a[k..k + 1]).await;
        }
    }
    let (s1, s2) = (one.pull_all(&a).await, two.pull_all(&a2).await);
    assert_eq!(s1.len(), 20);
    let hashes = |s: &[Merged]| {
        s.iter()
            .map(|m| (m.state.household.household_id, m.state_hash.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(hashes(&s1), hashes(&s2));
    assert!(
        s1.iter()
            .filter(|m| m.state.status == VerificationStatus::NeedsReview)
            .count()
            >= 6
    );
}

#[tokio::test]
async fn households_outside_the_areas_are_refused_and_not_pulled() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[&format!("{VILLAGE_A}/1")]).await;
    let inside = phone.visit(2, 30); // A, RW 1
    let other_rw = phone.visit(12, 30); // A, RW 2
    let other_village = phone.visit(22, 30);
    assert_eq!(household(22).region.as_str(), VILLAGE_B);
    let answer = app.push(&phone, &[inside, other_rw, other_village]).await;
    assert_eq!(
        statuses(&answer),
        vec![
            PushStatus::Accepted,
            PushStatus::Rejected,
            PushStatus::Rejected
        ]
    );
    assert!(
        answer.results[1..]
            .iter()
            .all(|r| r.issues[0].code == "SYN-05")
    );
    let states = app.pull_all(&phone).await;
    assert_eq!(states.len(), 10);
    assert!(
        states
            .iter()
            .all(|m| m.state.household.region.as_str() == VILLAGE_A
                && m.state.household.rw.as_ref().map(|r| r.number()) == Some(1))
    );
}

#[tokio::test]
async fn bad_items_are_rejected_alone_and_the_good_ones_stored() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let good = phone.visit(4, 30);
    let mut bad_nik = phone.visit(5, 30);
    let child = household(5).members[2].member_id;
    bad_nik.visit.member_changes.push(MemberChange::Update {
        member_id: child,
        details: MemberDetails {
            nik: Some(Entered::from_input("1604 0101 01")),
            ..MemberDetails::default()
        },
    });
    let mut unknown = phone.visit(6, 30);
    unknown.visit.household_id = Some(HouseholdId(uuid::Uuid::from_u128(404)));
    let mut wrong_device = phone.visit(7, 30);
    wrong_device.visit.device_id = DeviceId(uuid::Uuid::from_u128(9));
    let body = json!({
        "sent_at": Timestamp::now_utc(),
        "items": [
            good,
            {"device_seq": 2, "visit": {"visit_id": "not-a-uuid"}},
            {"device_seq": "three", "visit": 3},
            bad_nik,
            unknown,
            wrong_device,
        ]
    });
    let response = app.push_raw(&phone, &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: verivali_core::protocol::PushResponse = response.json().await.unwrap();
    let codes: Vec<(PushStatus, Option<String>)> = answer
        .results
        .iter()
        .map(|r| {
            (
                r.status,
                r.issues
                    .iter()
                    .find(|i| i.blocks_finishing())
                    .map(|i| i.code.clone()),
            )
        })
        .collect();
    assert_eq!(codes[0].0, PushStatus::Accepted);
    assert_eq!(codes[1], (PushStatus::Rejected, Some("SYN-03".into())));
    assert_eq!(codes[2], (PushStatus::Rejected, Some("SYN-03".into())));
    assert_eq!(codes[3], (PushStatus::Rejected, Some("NIK-01".into())));
    assert_eq!(
        answer.results[3].issues[0].field,
        format!("members.{child}.nik")
    );
    assert_eq!(codes[4], (PushStatus::Rejected, Some("SYN-04".into())));
    assert_eq!(codes[5], (PushStatus::Rejected, Some("SYN-06".into())));
    assert_eq!(app.visit_count().await, 1);
}

#[tokio::test]
async fn malformed_and_oversize_bodies_get_clear_errors() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let not_json = app
        .client
        .post(app.url("/api/v1/sync/push"))
        .bearer_auth(&phone.token)
        .header("content-type", "application/json")
        .body("{\"sent_at\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    let body: ErrorBody = not_json.json().await.unwrap();
    assert_eq!(body.code, "API-01");

    let wrong_shape = app
        .push_raw(&phone, &json!({"sent_at": 5, "items": []}))
        .await;
    assert_eq!(wrong_shape.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        wrong_shape.json::<ErrorBody>().await.unwrap().code,
        "API-01"
    );

    let big_note = "x".repeat(9 * 1024 * 1024);
    let mut item = phone.visit(1, 10);
    item.visit.notes = Some(big_note);
    let oversize = app
        .push_raw(
            &phone,
            &json!({"sent_at": Timestamp::now_utc(), "items": [item]}),
        )
        .await;
    assert_eq!(oversize.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(oversize.json::<ErrorBody>().await.unwrap().code, "API-02");

    let many: Vec<_> = (0..501).map(|_| phone.visit(1, 10)).collect();
    let too_many = app
        .push_raw(
            &phone,
            &json!({"sent_at": Timestamp::now_utc(), "items": many}),
        )
        .await;
    assert_eq!(too_many.status(), StatusCode::BAD_REQUEST);
    assert_eq!(too_many.json::<ErrorBody>().await.unwrap().code, "SYN-09");
    assert_eq!(app.visit_count().await, 0);
}

#[tokio::test]
async fn a_wrong_phone_clock_is_corrected_and_flagged_not_dropped() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    // A phone whose clock is two days behind: its visit looks old, its send time too.
    let mut item = phone.visit(8, 30);
    let behind = time::Duration::days(2);
    item.visit.started_at = Timestamp(item.visit.started_at.0 - behind);
    item.visit.finished_at = item.visit.finished_at.map(|t| Timestamp(t.0 - behind));
    let sent_at = Timestamp(Timestamp::now_utc().0 - behind);
    let response = app
        .push_raw(&phone, &json!({"sent_at": sent_at, "items": [item]}))
        .await;
    let answer: verivali_core::protocol::PushResponse = response.json().await.unwrap();
    assert_eq!(answer.results[0].status, PushStatus::Accepted);
    let db = app.db.clone();
    let (skew, flags): (i64, String) = tokio::task::spawn_blocking(move || {
        db.read_blocking(|c| {
            c.row("SELECT skew_ms, flags FROM visits", &[], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
        })
        .unwrap()
    })
    .await
    .unwrap();
    assert!(
        (skew - behind.whole_milliseconds() as i64).abs() < 60_000,
        "skew {skew}"
    );
    assert!(flags.contains("CLOCK_SKEW"));
}

#[tokio::test]
async fn pull_pages_through_every_household_of_the_areas() {
    let app = TestApp::spawn().await;
    let phone = app.phone(&[VILLAGE_A]).await;
    let states = app.pull_all(&phone).await; // pages of 7
    assert_eq!(states.len(), 20);
    let bad = app
        .client
        .get(app.url("/api/v1/sync/pull?cursor=abc"))
        .bearer_auth(&phone.token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad.json::<ErrorBody>().await.unwrap().code, "SYN-10");
}

#[tokio::test]
async fn a_visit_sees_the_earlier_visits_of_its_own_batch() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let newborn = MemberId(uuid::Uuid::from_u128(77));
    let mut first = phone.visit(9, 40);
    first.visit.member_changes.push(MemberChange::Add {
        member: Member {
            member_id: newborn,
            source_member_id: None,
            details: MemberDetails {
                name: Some("Bayi".into()),
                relation: Some(Relation::Child),
                birth_date: Some(time::macros::date!(2026 - 09 - 01)),
                nik_missing_reason: Some(NikMissingReason::NotYetIssued),
                ..MemberDetails::default()
            },
            presence: Presence::New,
            presence_date: None,
        },
    });
    let mut second = phone.visit(9, 20);
    second.visit.member_changes.push(MemberChange::Update {
        member_id: newborn,
        details: MemberDetails {
            name: Some("Putri".into()),
            ..MemberDetails::default()
        },
    });
    let answer = app.push(&phone, &[first, second]).await;
    assert_eq!(
        statuses(&answer),
        vec![PushStatus::Accepted, PushStatus::Accepted],
        "{:?}",
        answer.results[1].issues
    );
    let states = app.pull_all(&phone).await;
    let h = states
        .iter()
        .find(|m| m.state.household.household_id == household(9).household_id)
        .unwrap();
    assert!(
        h.state
            .household
            .members
            .iter()
            .any(|m| m.member_id == newborn && m.name() == "Putri")
    );
}

#[tokio::test]
async fn an_impossible_device_seq_is_rejected_alone() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let good = phone.visit(1, 30);
    let mut zero = phone.visit(2, 30);
    zero.device_seq = 0;
    let mut huge = phone.visit(3, 30);
    huge.device_seq = u64::MAX;
    let mut near_max = phone.visit(4, 30);
    near_max.device_seq = (1 << 63) - 2;
    let answer = app.push(&phone, &[good, zero, huge, near_max]).await;
    assert_eq!(
        statuses(&answer),
        vec![
            PushStatus::Accepted,
            PushStatus::Rejected,
            PushStatus::Rejected,
            PushStatus::Rejected
        ]
    );
    assert!(
        answer.results[1..]
            .iter()
            .all(|r| r.issues[0].code == "SYN-03" && r.issues[0].field == "device_seq")
    );
    let supervisor = app.supervisor(VILLAGE_A).await;
    let report = app
        .get_as(&supervisor, "/api/v1/reports/completeness")
        .await;
    assert_eq!(report.status(), StatusCode::OK);
    let report: serde_json::Value = report.json().await.unwrap();
    assert!(
        report.to_string().contains("\"missing_count\":0"),
        "{report}"
    );
}

/// A careless or hostile phone cannot store a visit that would break its household for good or
/// weigh on every phone of the village: a clock at year 9999 when sending, a visit finished
/// before it started, a name of megabytes. Each is rejected alone with its code; the household
/// still answers and the good visit is kept.
#[tokio::test]
async fn a_visit_that_would_break_its_household_is_rejected_alone() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let good = phone.visit(1, 30);
    let sent_from_9999 = phone.visit(1, 20);
    let body = json!({"sent_at": "9999-12-31T23:59:59Z", "items": [sent_from_9999]});
    let response = app.push_raw(&phone, &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: verivali_core::protocol::PushResponse = response.json().await.unwrap();
    assert_eq!(
        (
            answer.results[0].status,
            answer.results[0].issues[0].code.as_str()
        ),
        (PushStatus::Rejected, "VIS-05")
    );
    let mut backwards = phone.visit(1, 10);
    backwards.visit.started_at =
        Timestamp(backwards.visit.finished_at.unwrap().0 + time::Duration::hours(2));
    let mut long_name = phone.visit(1, 5);
    long_name.visit.respondent_name = Some("A".repeat(2 << 20));
    let answer = app.push(&phone, &[good, backwards, long_name]).await;
    assert_eq!(
        statuses(&answer),
        vec![
            PushStatus::Accepted,
            PushStatus::Rejected,
            PushStatus::Rejected
        ]
    );
    let codes: Vec<(&str, &str)> = answer.results[1..]
        .iter()
        .map(|r| (r.issues[0].code.as_str(), r.issues[0].field.as_str()))
        .collect();
    assert_eq!(
        codes,
        [("VIS-12", "finished_at"), ("TXT-01", "respondent_name")]
    );
    let supervisor = app.supervisor(VILLAGE_A).await;
    let page = app
        .get_as(
            &supervisor,
            &format!("/api/v1/households/{}", household(1).household_id),
        )
        .await;
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn absurd_clocks_are_refused_and_the_server_keeps_working() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let mut far = phone.visit(1, 30);
    far.visit.started_at = Timestamp::parse("9999-12-31T23:00:00Z").unwrap();
    far.visit.finished_at = Some(Timestamp::parse("9999-12-31T23:59:59Z").unwrap());
    let body = json!({"sent_at": "0000-01-01T00:00:00Z", "items": [far]});
    let response = app.push_raw(&phone, &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: verivali_core::protocol::PushResponse = response.json().await.unwrap();
    assert_eq!(answer.results[0].status, PushStatus::Rejected);
    assert_eq!(answer.results[0].issues[0].code, "VIS-05");
    // The writer is alive: the next push is stored.
    let next = phone.visit(2, 10);
    assert_eq!(
        statuses(&app.push(&phone, &[next]).await),
        vec![PushStatus::Accepted]
    );
}

#[tokio::test]
async fn bad_query_strings_and_unknown_paths_answer_with_error_codes() {
    let app = TestApp::spawn().await;
    let phone = app.phone(&[VILLAGE_A]).await;
    let bad_limit = app.get_as(&phone.token, "/api/v1/sync/pull?limit=-1").await;
    assert_eq!(bad_limit.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad_limit.json::<ErrorBody>().await.unwrap().code, "API-01");
    let supervisor = app.supervisor(VILLAGE_A).await;
    let bad = app
        .get_as(&supervisor, "/api/v1/households?limit=many")
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad.json::<ErrorBody>().await.unwrap().code, "API-01");
    let nowhere = app.get_as(&phone.token, "/api/v1/nowhere").await;
    assert_eq!(nowhere.status(), StatusCode::NOT_FOUND);
    assert_eq!(nowhere.json::<ErrorBody>().await.unwrap().code, "API-03");

    // What the layers under the routes refuse keeps the contract too: an encoding other than
    // gzip, a photo over its limit.
    let brotli = app
        .client
        .post(app.url("/api/v1/sync/push"))
        .bearer_auth(&phone.token)
        .header("content-encoding", "br")
        .header("content-type", "application/json")
        .body(b"\x0b\x02\x80{}\x03".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(brotli.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(brotli.json::<ErrorBody>().await.unwrap().code, "API-06");
    let huge = app
        .client
        .put(app.url(&format!("/api/v1/attachments/{}", Sha256::of(b"x"))))
        .bearer_auth(&phone.token)
        .body(vec![0u8; 9 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: ErrorBody = huge.json().await.unwrap();
    assert_eq!(body.code, "API-02");
    assert!(!body.message_id.is_empty() && !body.message_en.is_empty());
}

/// A visit to a family not on the list, found in RW `rw` of village A.
pub fn proposal(phone: &mut crate::helpers::Phone, rw: u16) -> PushItem {
    let mut item = phone.visit(0, 30);
    let new_id = HouseholdId(uuid::Uuid::now_v7());
    item.visit.household_id = Some(new_id);
    item.visit.proposal = Some(HouseholdProposal {
        region: RegionCode::parse(VILLAGE_A).unwrap(),
        rw: Some(Entered::from_input(&rw.to_string())),
        rt: Some(Entered::from_input("3")),
        address: "Kebun belakang masjid".into(),
        head_name: "Sumarni".into(),
    });
    item.visit.recommendation = Some(Recommendation::ProposeNew);
    item.visit.photos.push(Photo {
        sha256: Sha256::of(b"front"),
        kind: PhotoKind::HouseFront,
    });
    item.visit.member_changes = vec![MemberChange::Add {
        member: Member {
            member_id: MemberId(uuid::Uuid::now_v7()),
            source_member_id: None,
            details: MemberDetails {
                name: Some("Sumarni".into()),
                relation: Some(Relation::Head),
                birth_date: Some(time::macros::date!(1970 - 06 - 01)),
                sex: Some(Sex::Female),
                nik_missing_reason: Some(NikMissingReason::DocumentUnavailable),
                ..MemberDetails::default()
            },
            presence: Presence::New,
            presence_date: None,
        },
    }];
    item
}

#[tokio::test]
async fn a_family_not_on_the_list_is_proposed_inside_the_areas_only() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[&format!("{VILLAGE_A}/1")]).await;
    let inside = proposal(&mut phone, 1);
    let new_id = inside.visit.household_id.unwrap();
    let outside = proposal(&mut phone, 2);
    let answer = app.push(&phone, &[inside, outside]).await;
    assert_eq!(
        statuses(&answer),
        vec![PushStatus::Accepted, PushStatus::Rejected],
        "{:?}",
        answer.results
    );
    assert_eq!(answer.results[1].issues[0].code, "SYN-05");

    let states = app.pull_all(&phone).await;
    let proposed = states
        .iter()
        .find(|m| m.state.household.household_id == new_id)
        .expect("the phone pulls the new household");
    assert_eq!(
        proposed.state.household.target_status,
        TargetStatus::Proposed
    );
    assert_eq!(proposed.state.household.source, Source::NewProposal);
    assert_eq!(proposed.state.household.head_name, "Sumarni");
    assert_eq!(proposed.state.household.members.len(), 1);
    assert_eq!(
        proposed.state.recommendation,
        Some(Recommendation::ProposeNew)
    );
    let supervisor = app.supervisor(VILLAGE_A).await;
    let detail = app
        .get_as(&supervisor, &format!("/api/v1/households/{new_id}"))
        .await;
    assert_eq!(detail.status(), StatusCode::OK);
}

#[tokio::test]
async fn households_of_a_removed_area_leave_the_phone_and_its_finished_visits_still_count() {
    let app = TestApp::spawn().await;
    let enumerator = EnumeratorId(uuid::Uuid::now_v7());
    let mut phone = app
        .phone_with_ids(
            &[&format!("{VILLAGE_A}/1"), &format!("{VILLAGE_A}/2")],
            enumerator,
            DeviceId(uuid::Uuid::now_v7()),
        )
        .await;
    let first: verivali_core::protocol::PullResponse = app
        .get_as(&phone.token, "/api/v1/sync/pull?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first.households.len(), 20);
    assert!(first.removed.is_empty());

    let db = app.db.clone();
    let area = verivali_server::admin::parse_area(&format!("{VILLAGE_A}/2")).unwrap();
    assert!(
        tokio::task::spawn_blocking(move || verivali_server::admin::remove_area(
            &db, enumerator, area
        )
        .unwrap())
        .await
        .unwrap()
    );

    let next: verivali_core::protocol::PullResponse = app
        .get_as(
            &phone.token,
            &format!("/api/v1/sync/pull?cursor={}", first.next_cursor),
        )
        .await
        .json()
        .await
        .unwrap();
    let expected: Vec<String> = {
        let mut ids: Vec<String> = (10..20)
            .map(|i| household(i).household_id.to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        next.removed
            .iter()
            .map(|h| h.to_string())
            .collect::<Vec<_>>(),
        expected
    );
    let again: verivali_core::protocol::PullResponse = app
        .get_as(
            &phone.token,
            &format!("/api/v1/sync/pull?cursor={}", next.next_cursor),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(again.removed.is_empty(), "told once");

    // A visit finished there before the phone heard of it is still accepted, and flagged.
    let late = phone.visit(12, 60);
    assert_eq!(
        statuses(&app.push(&phone, &[late]).await),
        vec![PushStatus::Accepted]
    );
    let db = app.db.clone();
    let flags: String = tokio::task::spawn_blocking(move || {
        db.read_blocking(|c| c.value::<String>("SELECT flags FROM visits", &[]))
            .unwrap()
    })
    .await
    .unwrap();
    assert!(flags.contains("LEFT_AREA"));
}

/// A push answer is no NIK lookup of the district: a phone that gives a member a NIK listed in
/// another village's household hears nothing of it (NIK-09 names only households its areas
/// hold), while the pair still reaches the district's duplicates queue.
#[tokio::test]
async fn a_push_answer_names_no_household_outside_the_phones_areas() {
    let app = TestApp::spawn().await;
    let listed_elsewhere = household(1).members[0].details.nik.clone();
    let with_nik = |phone: &mut crate::helpers::Phone, i: u64| {
        let mut item = phone.visit(i, 20);
        item.visit.member_changes.push(MemberChange::Update {
            member_id: household(i).members[0].member_id,
            details: MemberDetails {
                nik: listed_elsewhere.clone(),
                ..MemberDetails::default()
            },
        });
        item
    };
    let nik_09 = |answer: &verivali_core::protocol::PushResponse| -> Vec<String> {
        answer.results[0]
            .issues
            .iter()
            .filter(|i| i.code == "NIK-09")
            .map(|i| format!("{} {}", i.message_id, i.message_en))
            .collect()
    };
    let mut in_b = app.phone(&[VILLAGE_B]).await;
    let item = with_nik(&mut in_b, 20);
    let answer = app.push(&in_b, &[item]).await;
    assert_eq!(answer.results[0].status, PushStatus::Accepted);
    assert!(nik_09(&answer).is_empty(), "{:?}", answer.results[0].issues);
    let text = serde_json::to_string(&answer).unwrap();
    assert!(!text.contains(&household(1).household_id.to_string()));

    // A phone of village A, which holds household 1, is told.
    let mut in_a = app.phone(&[VILLAGE_A]).await;
    let item = with_nik(&mut in_a, 2);
    let answer = app.push(&in_a, &[item]).await;
    let warned = nik_09(&answer);
    assert_eq!(warned.len(), 1, "{:?}", answer.results[0].issues);
    assert!(warned[0].contains(&household(1).household_id.to_string()));

    let district = app.supervisor("16.04").await;
    let pairs: serde_json::Value = app
        .get_as(&district, "/api/v1/queues/duplicates?region=16.04")
        .await
        .json()
        .await
        .unwrap();
    let with = |id: HouseholdId| {
        pairs
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["household_a"] == id.to_string() || p["household_b"] == id.to_string())
    };
    assert!(with(household(20).household_id), "{pairs}");
    // On household 1's page, village A's supervisor is not told of village B's household; the
    // district's supervisor is.
    let named_on_page = |token: String| {
        let app = &app;
        async move {
            let page: serde_json::Value = app
                .get_as(
                    &token,
                    &format!("/api/v1/households/{}", household(1).household_id),
                )
                .await
                .json()
                .await
                .unwrap();
            page.to_string()
                .contains(&household(20).household_id.to_string())
        }
    };
    assert!(named_on_page(district).await);
    assert!(!named_on_page(app.supervisor(VILLAGE_A).await).await);
}

/// Issue 15, item 2: P3KE families carry no RW or RT. Every RT head of the village sees them
/// until a visit records where the family was found; from then on the family is that RT's only.
#[tokio::test]
async fn families_without_an_rt_are_every_rt_heads_until_a_visit_places_them() {
    let app = TestApp::spawn().await;
    let unplaced: Vec<Household> = (30..34)
        .map(|i| {
            let mut h = sample::household(i, &RegionCode::parse(VILLAGE_A).unwrap(), 1, 1);
            (h.rw, h.rt) = (None, None);
            h
        })
        .collect();
    let db = app.db.clone();
    let seeded = unplaced.clone();
    tokio::task::spawn_blocking(move || {
        db.write_blocking(move |tx| {
            for h in &seeded {
                verivali_server::households::save_baseline(tx, h, Timestamp::now_utc())?;
            }
            Ok::<_, verivali_server::db::DbError>(())
        })
        .unwrap()
    })
    .await
    .unwrap();
    let ids = |states: &[Merged]| -> Vec<HouseholdId> {
        let mut ids: Vec<_> = states
            .iter()
            .map(|m| m.state.household.household_id)
            .collect();
        ids.sort();
        ids
    };
    let mut rt1 = app.phone(&[&format!("{VILLAGE_A}/1/1")]).await;
    let rt2 = app.phone(&[&format!("{VILLAGE_A}/1/2")]).await;
    let first_rt1 = app.pull_page(&rt1.token, "", 1000).await;
    let first_rt2 = app.pull_all(&rt2).await;
    for (pulled, rt) in [(&first_rt1.households, 1), (&first_rt2, 2)] {
        // Five families of their own RT (RW 1 holds 0..10, RT 1 the even ones) and the four unplaced.
        assert_eq!(pulled.len(), 9, "RT {rt}");
        for h in &unplaced {
            assert!(
                ids(pulled).contains(&h.household_id),
                "RT {rt} sees the unplaced families"
            );
        }
    }

    // RT 1's head visits one of them and finds it in RT 2: accepted, and it moves to RT 2.
    let family = &unplaced[0];
    let mut visit = sample::found_visit(
        family,
        rt1.enumerator_id,
        rt1.device_id,
        Timestamp(Timestamp::now_utc().0 - time::Duration::minutes(5)),
        rt1.next_seq,
    );
    visit.rw = Some(Entered::from_input("1"));
    visit.rt = Some(Entered::from_input("2"));
    let item = PushItem {
        device_seq: rt1.next_seq,
        visit,
    };
    rt1.next_seq += 1;
    assert_eq!(
        statuses(&app.push(&rt1, &[item]).await),
        [PushStatus::Accepted]
    );
    let merged = app.merged(family.household_id).await;
    assert_eq!(
        merged.state.household.rt.as_ref().map(Code::as_str),
        Some("002")
    );

    let next = app
        .pull_page(&rt1.token, &first_rt1.next_cursor, 1000)
        .await;
    assert_eq!(
        next.removed,
        [family.household_id],
        "it leaves RT 1's phone"
    );
    assert!(next.households.is_empty());
    let now_rt2 = app.pull_all(&rt2).await;
    let placed = now_rt2
        .iter()
        .find(|m| m.state.household.household_id == family.household_id)
        .expect("RT 2's phone holds it");
    assert_eq!(placed.state_hash, merged.state_hash);
    assert_eq!(app.pull_all(&rt1).await.len(), 8);
}
