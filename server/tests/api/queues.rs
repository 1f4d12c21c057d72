//! The queues of visits waiting for a decision (flagged ones apart), a selection approved at
//! once and audited per visit, and new-household proposals accepted or rejected.

use reqwest::StatusCode;
use serde_json::{Value, json};
use verivali_core::model::*;
use verivali_core::protocol::{ErrorBody, PushRequest, PushStatus};

use crate::helpers::{TestApp, VILLAGE_A, VILLAGE_B, household};
use crate::sync::proposal;

async fn json_of(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app.get_as(token, path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

fn visit_ids(queue: &Value) -> Vec<String> {
    queue["visits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["visit_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn visits_wait_for_a_decision_and_a_selection_is_approved_at_once_audited_per_visit() {
    let app = TestApp::spawn().await;
    let mut ani = app.phone(&[VILLAGE_A]).await;
    let supervisor = app.supervisor(VILLAGE_A).await;
    let (one, two) = (ani.visit(1, 40), ani.visit(2, 30));
    app.push(&ani, &[one.clone(), two.clone()]).await;
    // A third from a phone whose clock is an hour slow: flagged CLOCK_SKEW.
    let three = ani.visit(3, 90);
    let slow = PushRequest {
        sent_at: Timestamp(Timestamp::now_utc().0 - time::Duration::hours(1)),
        items: vec![three.clone()],
        finished_up_to: None,
    };
    let answer = app
        .push_raw(&ani, &serde_json::to_value(slow).unwrap())
        .await;
    assert_eq!(answer.status(), StatusCode::OK);

    let waiting = json_of(&app, &supervisor, "/api/v1/queues/visits").await;
    assert_eq!(visit_ids(&waiting).len(), 3);
    let flagged = json_of(&app, &supervisor, "/api/v1/queues/visits?flagged=true").await;
    assert_eq!(visit_ids(&flagged), [three.visit.visit_id.to_string()]);
    assert_eq!(flagged["visits"][0]["flags"], json!(["CLOCK_SKEW"]));
    let overview = json_of(&app, &supervisor, "/api/v1/reports/overview").await;
    assert_eq!(overview["queues"]["flagged_visits"], 1);
    // Household 3 lives in RW 001: counted there from its visits, not in RW 002.
    for (rw, waiting) in [("1", 1), ("2", 0)] {
        let path = format!("/api/v1/reports/overview?region={VILLAGE_A}&rw={rw}");
        let overview = json_of(&app, &supervisor, &path).await;
        assert_eq!(overview["queues"]["flagged_visits"], waiting, "RW {rw}");
    }
    // Paged: one at a time, the second page starts after the first.
    let first_page = json_of(&app, &supervisor, "/api/v1/queues/visits?limit=1").await;
    let after = first_page["next_after"].as_str().unwrap();
    let second_page = json_of(
        &app,
        &supervisor,
        &format!("/api/v1/queues/visits?limit=1&after={after}"),
    )
    .await;
    assert_ne!(visit_ids(&first_page), visit_ids(&second_page));

    // Three approved at once; a fourth names the wrong household and is refused alone.
    let select = |item: &verivali_core::protocol::PushItem| json!({"household_id": item.visit.household_id, "visit_id": item.visit.visit_id});
    let wrong = json!({"household_id": household(9).household_id, "visit_id": one.visit.visit_id});
    let audited_before = app.audit().len();
    let answer = app
        .client
        .post(app.url("/api/v1/reviews/approve"))
        .bearer_auth(&supervisor)
        .json(&json!({"visits": [select(&one), select(&two), select(&three), wrong]}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["approved"].as_array().unwrap().len(), 3);
    assert_eq!(answer["refused"][0]["code"], "SUP-03");
    assert_eq!(
        answer["refused"][0]["visit_id"],
        one.visit.visit_id.to_string()
    );
    for item in [&one, &two, &three] {
        let merged = app.merged(item.visit.household_id.unwrap()).await;
        assert_eq!(merged.state.status, VerificationStatus::Approved);
    }
    let approvals = app.audit()[audited_before..]
        .iter()
        .filter(|a| a.starts_with("review:APPROVE"))
        .count();
    assert_eq!(approvals, 3, "one audit entry per visit approved");
    let waiting = json_of(&app, &supervisor, "/api/v1/queues/visits").await;
    assert!(visit_ids(&waiting).is_empty());
    let overview = json_of(&app, &supervisor, "/api/v1/reports/overview").await;
    assert_eq!(overview["queues"]["flagged_visits"], 0);
    // A second decision on the flagged visit takes nothing more off the count.
    let again = app
        .review(
            &supervisor,
            &json!({"household_id": three.visit.household_id, "visit_id": three.visit.visit_id,
                "decision": "RETURN", "comment": "foto kurang jelas"}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    let overview = json_of(&app, &supervisor, "/api/v1/reports/overview").await;
    assert_eq!(overview["queues"]["flagged_visits"], 0);

    // Outside the region: refused, nothing approved; too many at once: refused whole.
    let four = ani.visit(4, 10);
    app.push(&ani, std::slice::from_ref(&four)).await;
    let elsewhere = app.supervisor(VILLAGE_B).await;
    let answer: Value = app
        .client
        .post(app.url("/api/v1/reviews/approve"))
        .bearer_auth(&elsewhere)
        .json(&json!({"visits": [select(&four)]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(answer["approved"].as_array().unwrap().is_empty());
    assert_eq!(answer["refused"].as_array().unwrap().len(), 1);
    let too_many: Vec<Value> = (0..201).map(|_| select(&four)).collect();
    let answer = app
        .client
        .post(app.url("/api/v1/reviews/approve"))
        .bearer_auth(&supervisor)
        .json(&json!({ "visits": too_many }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_eq!(answer.json::<ErrorBody>().await.unwrap().code, "SUP-07");
    assert_eq!(
        app.merged(household(4).household_id).await.state.status,
        VerificationStatus::Visited
    );
}

#[tokio::test]
async fn a_proposal_is_accepted_onto_the_targets_or_rejected_with_a_reason_the_phone_hears() {
    let app = TestApp::spawn().await;
    let mut ani = app.phone(&[VILLAGE_A]).await;
    let supervisor = app.supervisor(VILLAGE_A).await;
    let (first, second) = (proposal(&mut ani, 1), proposal(&mut ani, 1));
    let answer = app.push(&ani, &[first.clone(), second.clone()]).await;
    assert!(
        answer
            .results
            .iter()
            .all(|r| r.status == PushStatus::Accepted)
    );
    let queue = json_of(&app, &supervisor, "/api/v1/queues/proposals").await;
    assert_eq!(queue.as_array().unwrap().len(), 2);
    let before = json_of(&app, &supervisor, "/api/v1/reports/overview").await;
    assert_eq!(before["queues"]["proposals"], 2);
    let targets = before["progress"]["total"]["targets"].as_u64().unwrap();

    let accept = app
        .review(
            &supervisor,
            &json!({"household_id": first.visit.household_id, "visit_id": first.visit.visit_id,
                    "decision": "APPROVE"}),
        )
        .await;
    assert_eq!(accept.status(), StatusCode::OK);
    let reject = app
        .review(
            &supervisor,
            &json!({"household_id": second.visit.household_id, "visit_id": second.visit.visit_id,
                    "decision": "RETURN", "comment": "Sudah terdaftar di RT sebelah"}),
        )
        .await;
    assert_eq!(reject.status(), StatusCode::OK);

    let after = json_of(&app, &supervisor, "/api/v1/reports/overview").await;
    assert_eq!(after["queues"]["proposals"], 0);
    assert_eq!(
        after["progress"]["total"]["targets"].as_u64().unwrap(),
        targets + 1,
        "the accepted one is a target now"
    );
    let accepted = app.merged(first.visit.household_id.unwrap()).await;
    assert_eq!(accepted.state.household.target_status, TargetStatus::Active);
    let page = app.pull_page(&ani.token, "", 1000).await;
    let heard = page
        .reviews
        .iter()
        .find(|r| r.visit_id == Some(second.visit.visit_id))
        .expect("the rejection reaches the phone");
    assert_eq!(
        heard.comment.as_deref(),
        Some("Sudah terdaftar di RT sebelah")
    );
}
