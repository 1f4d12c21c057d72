//! Suspected duplicates decided: a merge that really merges (members and visits of both in the
//! survivor, the merged household out of the targets and the pair out of the queue, later
//! visits of the merged one still counted), and the enumerator's own "this is a duplicate".

use reqwest::StatusCode;
use serde_json::{Value, json};
use verivali_core::model::*;

use verivali_core::protocol::{ErrorBody, PushStatus};

use crate::helpers::{TestApp, VILLAGE_A, assert_all_accepted, household};

async fn json_of(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app.get_as(token, path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

fn pairs_with(queue: &Value, a: HouseholdId, b: HouseholdId) -> Vec<String> {
    let (a, b) = (a.to_string(), b.to_string());
    queue
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            (p["household_a"] == a.as_str() && p["household_b"] == b.as_str())
                || (p["household_a"] == b.as_str() && p["household_b"] == a.as_str())
        })
        .map(|p| p["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_merge_moves_members_and_visits_into_the_survivor_and_the_pair_leaves_the_queue() {
    let app = TestApp::spawn().await;
    let mut ani = app.phone(&[VILLAGE_A]).await;
    let supervisor = app.supervisor(VILLAGE_A).await;
    let (survivor, merged) = (household(3).household_id, household(4).household_id);

    // Ani finds household 3, and says household 4 is the same family listed twice.
    let found = ani.visit(3, 60);
    let mut says_duplicate = ani.visit(4, 50);
    says_duplicate.visit.outcome = Some(Outcome::DuplicateOf);
    says_duplicate.visit.other_household_id = Some(survivor);
    let answer = app.push(&ani, &[found, says_duplicate]).await;
    assert_all_accepted(&answer);
    let queue = json_of(&app, &supervisor, "/api/v1/queues/duplicates").await;
    assert_eq!(pairs_with(&queue, survivor, merged), ["DUPLICATE_OF"]);
    let before = json_of(&app, &supervisor, "/api/v1/reports/overview").await;

    let answer = app
        .review(
            &supervisor,
            &json!({"household_id": merged, "decision": "MERGE_HOUSEHOLDS",
                    "other_household_id": survivor}),
        )
        .await;
    assert_eq!(answer.status(), StatusCode::OK);

    // The survivor holds both families' members and both visits.
    let detail = json_of(&app, &supervisor, &format!("/api/v1/households/{survivor}")).await;
    let member_ids: Vec<&str> = detail["state"]["household"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["member_id"].as_str().unwrap())
        .collect();
    for m in household(3).members.iter().chain(&household(4).members) {
        assert!(member_ids.contains(&m.member_id.to_string().as_str()));
    }
    assert_eq!(detail["visits"].as_array().unwrap().len(), 2);
    assert_eq!(detail["state"]["visits_used"].as_array().unwrap().len(), 2);
    // "Duplicate of the other record" is no verdict on the survivor: Ani found it.
    assert_eq!(detail["state"]["outcome"], "FOUND");
    assert!(detail["state"]["conflicts"].is_null());
    let gone = json_of(&app, &supervisor, &format!("/api/v1/households/{merged}")).await;
    assert_eq!(gone["state"]["merged_into"], survivor.to_string());
    assert_eq!(gone["state"]["household"]["target_status"], "MERGED_INTO");

    // The merged household leaves the targets, and the pair the queue.
    let after = json_of(&app, &supervisor, "/api/v1/reports/overview").await;
    assert_eq!(
        after["progress"]["total"]["targets"].as_u64().unwrap() + 1,
        before["progress"]["total"]["targets"].as_u64().unwrap()
    );
    assert_eq!(
        after["queues"]["duplicates"].as_u64().unwrap() + 1,
        before["queues"]["duplicates"].as_u64().unwrap()
    );
    let queue = json_of(&app, &supervisor, "/api/v1/queues/duplicates").await;
    assert!(pairs_with(&queue, survivor, merged).is_empty());

    // Merged is decided: neither side merges again (no cycles, no second survivor).
    for (one, other) in [(merged, household(5).household_id), (survivor, merged)] {
        let again = app
            .review(
                &supervisor,
                &json!({"household_id": one, "decision": "MERGE_HOUSEHOLDS",
                        "other_household_id": other}),
            )
            .await;
        assert_eq!(again.status(), StatusCode::CONFLICT);
        assert_eq!(again.json::<ErrorBody>().await.unwrap().code, "SUP-06");
    }

    // A phone that has not pulled yet visits the merged household again: the visit counts for
    // the survivor, which phones receive with every member.
    let hash_before = app.merged(survivor).await.state_hash;
    let late = ani.visit(4, 10);
    let late_id = late.visit.visit_id;
    let answer = app.push(&ani, &[late]).await;
    assert_eq!(answer.results[0].status, PushStatus::Accepted);
    let now = app.merged(survivor).await;
    assert_ne!(now.state_hash, hash_before);
    assert!(now.state.visits_used.contains(&late_id));
    let pulled = app.pull_all(&ani).await;
    let on_phone = pulled
        .iter()
        .find(|m| m.state.household.household_id == survivor)
        .unwrap();
    assert_eq!(on_phone.state_hash, now.state_hash);
    assert_eq!(on_phone.state.household.members.len(), member_ids.len());
}

#[tokio::test]
async fn a_dismissed_pair_leaves_the_queue_and_part_of_another_family_enters_it() {
    let app = TestApp::spawn().await;
    let mut ani = app.phone(&[VILLAGE_A]).await;
    let supervisor = app.supervisor(VILLAGE_A).await;
    let (a, b) = (household(6).household_id, household(7).household_id);
    let mut part_of = ani.visit(7, 30);
    part_of.visit.outcome = Some(Outcome::PartOfOtherFamily);
    part_of.visit.other_household_id = Some(a);
    app.push(&ani, &[part_of]).await;
    let queue = json_of(&app, &supervisor, "/api/v1/queues/duplicates").await;
    assert_eq!(pairs_with(&queue, a, b), ["PART_OF_OTHER_FAMILY"]);

    let answer = app
        .review(
            &supervisor,
            &json!({"household_id": a, "decision": "DISMISS_DUPLICATE", "other_household_id": b}),
        )
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
    let queue = json_of(&app, &supervisor, "/api/v1/queues/duplicates").await;
    assert!(pairs_with(&queue, a, b).is_empty());
    // Dismissed, the two stay targets.
    let b_state = app.merged(b).await;
    assert_eq!(b_state.state.merged_into, None);
}

/// The keys a household is found by are those of its state as merged now: a family card number
/// corrected away no longer pairs it, and the corrected one does. (The keys recorded are worked
/// out from the stored state, not read back by household: households/keys.rs.)
#[tokio::test]
async fn a_family_card_number_corrected_away_pairs_no_more_and_the_new_one_does() {
    let app = TestApp::spawn().await;
    let mut ani = app.phone(&[VILLAGE_A]).await;
    let supervisor = app.supervisor(VILLAGE_A).await;
    let [first, second, third] = [3, 4, 5].map(|i| household(i).household_id);
    let (card, corrected) = ("1604010101200001", "1604010101200002");
    let with_card = |ani: &mut crate::helpers::Phone, i: u64, minutes: i64, kk: &str| {
        let mut item = ani.visit(i, minutes);
        item.visit.kk_number = Some(Entered::from_input(kk));
        item
    };

    // Household 3 is given a card number, which its enumerator corrects at a later visit.
    let items = [with_card(&mut ani, 3, 90, card)];
    app.push(&ani, &items).await;
    let items = [with_card(&mut ani, 3, 80, corrected)];
    app.push(&ani, &items).await;
    assert_eq!(
        app.merged(first).await.state.household.kk_number,
        Some(Entered::from_input(corrected))
    );

    // Household 4 turns out to hold the first number, household 5 the corrected one.
    let items = [
        with_card(&mut ani, 4, 70, card),
        with_card(&mut ani, 5, 60, corrected),
    ];
    let answer = app.push(&ani, &items).await;
    assert_all_accepted(&answer);
    let queue = json_of(&app, &supervisor, "/api/v1/queues/duplicates").await;
    assert!(pairs_with(&queue, first, second).is_empty(), "{queue}");
    assert_eq!(pairs_with(&queue, first, third), ["KK"]);
    assert!(pairs_with(&queue, second, third).is_empty());
}
