//! The guarantees of the server path, one test each (issue 10): the merged state does not depend
//! on how visits arrive, a phone given an area receives all of it, the same visit is counted once
//! whichever phone sends it, and no visit of a phone is stuck.

use reqwest::StatusCode;
use serde_json::json;
use verivali_core::merge::ExclusionReason;
use verivali_core::model::*;
use verivali_core::protocol::{PushItem, PushStatus};

use crate::helpers::{Phone, TestApp, VILLAGE_A, VILLAGE_B, household};

fn statuses(r: &verivali_core::protocol::PushResponse) -> Vec<PushStatus> {
    r.results.iter().map(|r| r.status).collect()
}

/// The same enumerator and device on two servers.
async fn twin_phones(one: &TestApp, two: &TestApp, areas: &[&str]) -> (Phone, Phone) {
    let (enumerator, device) = (
        EnumeratorId(uuid::Uuid::now_v7()),
        DeviceId(uuid::Uuid::now_v7()),
    );
    (
        one.phone_with_ids(areas, enumerator, device).await,
        two.phone_with_ids(areas, enumerator, device).await,
    )
}

/// The item with its times written as a phone in WIB (UTC+7) writes them.
fn in_wib(mut item: PushItem) -> PushItem {
    let wib = time::UtcOffset::from_hms(7, 0, 0).unwrap();
    item.visit.started_at = Timestamp(item.visit.started_at.0.to_offset(wib));
    item.visit.finished_at = item
        .visit
        .finished_at
        .map(|t| Timestamp(t.0.to_offset(wib)));
    item
}

#[tokio::test]
async fn a_time_written_with_an_offset_merges_to_one_state_whatever_the_arrival() {
    let (one, two) = (TestApp::spawn().await, TestApp::spawn().await);
    let (mut a, a2) = twin_phones(&one, &two, &[VILLAGE_A]).await;
    let older = in_wib(a.visit(4, 90));
    let newer = in_wib(a.visit(4, 30));
    // One server merges the latest visit in the push that brings it, the other reads it back
    // from its database when the older one arrives.
    one.push(&a, &[older.clone(), newer.clone()]).await;
    two.push(&a2, std::slice::from_ref(&newer)).await;
    two.push(&a2, std::slice::from_ref(&older)).await;
    let (s1, s2) = (
        one.merged(household(4).household_id).await,
        two.merged(household(4).household_id).await,
    );
    let last = s1.state.last_visit_at.unwrap();
    assert_eq!(last.0.offset(), time::UtcOffset::UTC, "stored in UTC");
    assert_eq!(last, newer.visit.finished_at.unwrap());
    assert_eq!(s1.state_hash, s2.state_hash);
    assert_eq!(s1, s2);
}

#[tokio::test]
async fn the_smaller_id_of_a_double_tap_is_merged_whichever_arrives_first() {
    let (one, two) = (TestApp::spawn().await, TestApp::spawn().await);
    let (mut a, a2) = twin_phones(&one, &two, &[VILLAGE_A]).await;
    let first = a.visit(5, 30);
    let mut twin = first.clone();
    twin.visit.visit_id = VisitId::new_v7();
    twin.device_seq = first.device_seq + 1;
    let (small, large) = if first.visit.visit_id < twin.visit.visit_id {
        (first, twin)
    } else {
        (twin, first)
    };
    let answer = one.push(&a, &[small.clone(), large.clone()]).await;
    assert_eq!(
        statuses(&answer),
        [PushStatus::Accepted, PushStatus::Duplicate]
    );
    let answer = two.push(&a2, std::slice::from_ref(&large)).await;
    assert_eq!(statuses(&answer), [PushStatus::Accepted]);
    let answer = two.push(&a2, std::slice::from_ref(&small)).await;
    assert_eq!(statuses(&answer), [PushStatus::Duplicate], "held already");

    let (s1, s2) = (
        one.merged(household(5).household_id).await,
        two.merged(household(5).household_id).await,
    );
    assert_eq!(s1.state.visits_used, [small.visit.visit_id]);
    assert_eq!(s1.state_hash, s2.state_hash);
    // The page shows which of the two was counted.
    let token = two.supervisor("16.04").await;
    let detail: serde_json::Value = two
        .get_as(
            &token,
            &format!("/api/v1/households/{}", household(5).household_id),
        )
        .await
        .json()
        .await
        .unwrap();
    let line = |id: VisitId| {
        detail["visits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["visit_id"] == id.to_string())
            .unwrap()
            .clone()
    };
    assert_eq!(
        line(large.visit.visit_id)["duplicate_of"],
        small.visit.visit_id.to_string()
    );
    assert!(line(small.visit.visit_id)["duplicate_of"].is_null());
}

#[tokio::test]
async fn a_reinstalled_phone_sending_the_same_visits_again_is_counted_once() {
    let app = TestApp::spawn().await;
    let mut old = app.phone(&[VILLAGE_A]).await;
    let sent = old.visit(6, 40);
    app.push(&old, std::slice::from_ref(&sent)).await;
    // The same content from the new install: new device id, new visit id, its own numbering.
    let new = app.another_phone(&old).await;
    let mut again = sent.clone();
    again.visit.visit_id = VisitId::new_v7();
    again.visit.device_id = new.device_id;
    again.device_seq = 1;
    let answer = app.push(&new, &[again.clone()]).await;
    assert_eq!(statuses(&answer), [PushStatus::Duplicate]);
    let merged = app.merged(household(6).household_id).await;
    assert_eq!(merged.state.visits_used.len(), 1);
    let excluded = &merged.state.visits_excluded;
    assert_eq!(excluded.len(), 1);
    assert!(matches!(
        excluded[0].reason,
        ExclusionReason::DuplicateOf { .. }
    ));
    // And the export counts it once.
    let token = app.supervisor("16.04").await;
    let csv = app
        .get_as(
            &token,
            &format!("/api/v1/exports/households?region={VILLAGE_A}&format=csv"),
        )
        .await
        .text()
        .await
        .unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let column = rows
        .headers()
        .unwrap()
        .iter()
        .position(|h| h.contains("Visits"))
        .unwrap();
    let visits: u64 = rows
        .records()
        .map(|r| r.unwrap()[column].parse::<u64>().unwrap())
        .sum();
    assert_eq!(visits, 1);
}

#[tokio::test]
async fn a_store_restored_onto_a_new_enrollment_sends_its_unsent_visits() {
    let app = TestApp::spawn().await;
    let mut old = app.phone(&[VILLAGE_A]).await;
    let delivered = old.visit(7, 50);
    app.push(&old, &[delivered]).await;
    // Finished on the old phone, never sent: the store restored onto a new enrollment holds them
    // under the old device id and numbers.
    let unsent: Vec<PushItem> = (0..3).map(|_| old.visit(8, 40)).collect();
    let new = app.another_phone(&old).await;
    let answer = app.push(&new, &unsent).await;
    assert_eq!(statuses(&answer), [PushStatus::Accepted; 3]);
    // Each is filed under the phone that numbered it: the old phone's numbers are complete.
    let report = completeness_of_village_a(&app).await;
    let of_old = report
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device_id"] == old.device_id.to_string())
        .unwrap();
    assert_eq!(of_old["received"], 4, "{of_old}");
    assert_eq!(of_old["missing"].as_array().unwrap().len(), 0);
    // Another enumerator's phone is still refused.
    let stranger = app.phone(&[VILLAGE_A]).await;
    let foreign = old.visit(9, 30);
    let answer = app.push(&stranger, &[foreign]).await;
    assert_eq!(answer.results[0].issues[0].code, "SYN-06");
}

#[tokio::test]
async fn an_added_area_brings_all_its_households_to_the_phone() {
    let app = TestApp::spawn().await;
    let enumerator = EnumeratorId(uuid::Uuid::now_v7());
    let phone = app
        .phone_with_ids(&[VILLAGE_B], enumerator, DeviceId(uuid::Uuid::now_v7()))
        .await;
    // The phone has pulled its village; time passes and a few households of village A change.
    let first = app.pull_page(&phone.token, "", 1000).await;
    assert_eq!(first.households.len(), 10);
    let mut other = app.phone(&[VILLAGE_A]).await;
    let changed = other.visit(3, 20);
    app.push(&other, &[changed]).await;

    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        use verivali_server::admin::{add_area, parse_area, remove_area};
        assert!(remove_area(&db, enumerator, parse_area(VILLAGE_B).unwrap()).unwrap());
        add_area(&db, enumerator, parse_area(VILLAGE_A).unwrap()).unwrap();
    })
    .await
    .unwrap();

    // Every household of the new village arrives, changed since the cursor or not; the old
    // village's leave.
    let mut cursor = first.next_cursor;
    let (mut got, mut removed) = (Vec::new(), Vec::new());
    loop {
        let page = app.pull_page(&phone.token, &cursor, 7).await;
        got.extend(
            page.households
                .iter()
                .map(|m| m.state.household.household_id),
        );
        removed.extend(page.removed);
        cursor = page.next_cursor;
        if !page.more {
            break;
        }
    }
    got.sort();
    got.dedup();
    let mut village_a: Vec<HouseholdId> = (0..20).map(|i| household(i).household_id).collect();
    village_a.sort();
    assert_eq!(got, village_a);
    removed.sort();
    let mut village_b: Vec<HouseholdId> = (20..30).map(|i| household(i).household_id).collect();
    village_b.sort();
    assert_eq!(removed, village_b);
}

#[tokio::test]
async fn both_enumerators_of_a_resolved_conflict_hear_of_it() {
    let app = TestApp::spawn().await;
    let token = app.supervisor("16.04").await;
    let (mut a, mut b) = (app.phone(&[VILLAGE_A]).await, app.phone(&[VILLAGE_A]).await);
    let from_a = a.visit(2, 60);
    let mut from_b = b.visit(2, 30);
    from_b.visit.assessment = Some(Assessment::NotPoor);
    app.push(&a, std::slice::from_ref(&from_a)).await;
    let answer = app.push(&b, std::slice::from_ref(&from_b)).await;
    assert_eq!(statuses(&answer), [PushStatus::Accepted], "{answer:?}");
    let before: Vec<String> = [&a, &b].iter().map(|p| p.token.clone()).collect();
    let mut cursors = Vec::new();
    for t in &before {
        let page = app.pull_page(t, "", 1000).await;
        cursors.push(page.next_cursor);
    }
    assert_eq!(
        app.merged(household(2).household_id).await.state.status,
        VerificationStatus::NeedsReview
    );
    let decided = app
        .review(
            &token,
            &json!({"household_id": household(2).household_id, "visit_id": from_a.visit.visit_id,
                    "decision": "RESOLVE_CONFLICT", "comment": "Dicek ke RT"}),
        )
        .await;
    assert_eq!(decided.status(), StatusCode::OK);
    for (t, cursor) in before.iter().zip(&cursors) {
        let page = app.pull_page(t, cursor, 1000).await;
        assert_eq!(page.reviews.len(), 1, "each phone hears of the resolution");
        assert_eq!(page.reviews[0].decision, Decision::ResolveConflict);
        assert_eq!(page.reviews[0].visit_id, Some(from_a.visit.visit_id));
    }
    // A third enumerator of the village, not in the conflict, is not told.
    let c = app.phone(&[VILLAGE_A]).await;
    let page = app.pull_page(&c.token, "", 1000).await;
    assert!(page.reviews.is_empty());
}

#[tokio::test]
async fn a_decision_sent_twice_is_stored_once() {
    let app = TestApp::spawn().await;
    let token = app.supervisor("16.04").await;
    let mut a = app.phone(&[VILLAGE_A]).await;
    let visit = a.visit(1, 30);
    app.push(&a, std::slice::from_ref(&visit)).await;
    let review_id = uuid::Uuid::now_v7();
    let body = json!({"review_id": review_id, "household_id": household(1).household_id,
                      "visit_id": visit.visit.visit_id, "decision": "RETURN", "comment": "Foto buram"});
    let first: serde_json::Value = app.review(&token, &body).await.json().await.unwrap();
    let again = app.review(&token, &body).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(first, again);
    let page = app.pull_page(&a.token, "", 1000).await;
    assert_eq!(page.reviews.len(), 1);
    // The same id for another decision is refused.
    let mut other = body.clone();
    other["decision"] = json!("APPROVE");
    let refused = app.review(&token, &other).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert_eq!(
        refused.json::<serde_json::Value>().await.unwrap()["code"],
        "SUP-05"
    );
}

#[tokio::test]
async fn a_visit_about_a_member_another_phone_added_is_kept_whichever_arrives_first() {
    let (one, two) = (TestApp::spawn().await, TestApp::spawn().await);
    let (mut a, a2) = twin_phones(&one, &two, &[VILLAGE_A]).await;
    let (mut b, b2) = twin_phones(&one, &two, &[VILLAGE_A]).await;
    // A adds a newborn; B, who pulled A's visit, records her NIK a day later.
    let mut adds = a.visit(3, 24 * 60);
    let baby = Member {
        member_id: MemberId::new_v4(),
        source_member_id: None,
        details: MemberDetails {
            name: Some("Putri".into()),
            relation: Some(Relation::Child),
            sex: Some(Sex::Female),
            birth_date: Some(time::macros::date!(2026 - 10 - 01)),
            nik_missing_reason: Some(NikMissingReason::NotYetIssued),
            ..MemberDetails::default()
        },
        presence: Presence::Present,
        presence_date: None,
    };
    adds.visit.member_changes.push(MemberChange::Add {
        member: baby.clone(),
    });
    let mut updates = b.visit(3, 30);
    updates.visit.member_changes.push(MemberChange::Update {
        member_id: baby.member_id,
        details: MemberDetails {
            education: Some(Education::NoSchooling),
            ..MemberDetails::default()
        },
    });
    one.push(&a, std::slice::from_ref(&adds)).await;
    one.push(&b, std::slice::from_ref(&updates)).await;
    // On the other server B's visit arrives first: it is kept, flagged, and merged the same.
    let answer = two.push(&b2, std::slice::from_ref(&updates)).await;
    assert_eq!(statuses(&answer), [PushStatus::Accepted]);
    two.push(&a2, std::slice::from_ref(&adds)).await;
    let (s1, s2) = (
        one.merged(household(3).household_id).await,
        two.merged(household(3).household_id).await,
    );
    assert_eq!(s1.state_hash, s2.state_hash);
    let putri = s1
        .state
        .household
        .members
        .iter()
        .find(|m| m.member_id == baby.member_id)
        .unwrap();
    assert_eq!(putri.details.education, Some(Education::NoSchooling));

    // What a visit says itself is judged alike in either order: a malformed NIK for the newborn
    // is refused before and after the visit that added her.
    let mut malformed = b.visit(3, 20);
    malformed.visit.member_changes.push(MemberChange::Update {
        member_id: baby.member_id,
        details: MemberDetails {
            nik: Some(Entered::from_input("16040112345")),
            ..MemberDetails::default()
        },
    });
    for (server, phone) in [(&one, &b), (&two, &b2)] {
        let answer = server.push(phone, std::slice::from_ref(&malformed)).await;
        assert_eq!(statuses(&answer), [PushStatus::Rejected]);
        assert_eq!(answer.results[0].issues[0].code, "NIK-01");
    }
    let fresh = TestApp::spawn().await;
    let b3 = fresh
        .phone_with_ids(&[VILLAGE_A], b.enumerator_id, b.device_id)
        .await;
    let answer = fresh.push(&b3, std::slice::from_ref(&malformed)).await;
    assert_eq!(
        statuses(&answer),
        [PushStatus::Rejected],
        "refused also where the newborn is not known yet"
    );
}

#[tokio::test]
async fn visits_finished_and_never_sent_show_in_completeness() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    // Five visits finished; the first batch of two arrives, saying five were finished; the phone
    // is lost before the rest.
    let items: Vec<PushItem> = (0..5).map(|n| phone.visit(n, 30)).collect();
    let push = app
        .push_raw(
            &phone,
            &serde_json::json!({"sent_at": Timestamp::now_utc(), "items": &items[..2], "finished_up_to": 5}),
        )
        .await;
    assert_eq!(push.status(), StatusCode::OK);
    // A number no phone reaches is ignored, and the push's visit stored all the same.
    let wild = app
        .push_raw(
            &phone,
            &serde_json::json!({"sent_at": Timestamp::now_utc(), "items": &items[2..3], "finished_up_to": u64::MAX}),
        )
        .await;
    assert_eq!(wild.status(), StatusCode::OK);
    let report = completeness_of_village_a(&app).await;
    let device = &report[0];
    assert_eq!(device["received"], 3, "{device}");
    assert_eq!(device["highest_seq"], 3);
    assert_eq!(device["finished_seq"], 5);
    assert_eq!(
        device["missing"],
        serde_json::json!([4, 5]),
        "the lost tail shows"
    );
    assert_eq!(device["missing_count"], 2);
}

/// The completeness report of village A, as a supervisor of the kabupaten reads it.
async fn completeness_of_village_a(app: &TestApp) -> serde_json::Value {
    let token = app.supervisor("16.04").await;
    app.get_as(
        &token,
        &format!("/api/v1/reports/completeness?region={VILLAGE_A}"),
    )
    .await
    .json()
    .await
    .unwrap()
}
