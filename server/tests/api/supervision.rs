use reqwest::StatusCode;
use serde_json::{Value, json};
use verivali_core::model::*;
use verivali_core::protocol::{ErrorBody, PushStatus};

use verivali_server::roles::Role;

use crate::helpers::{TestApp, VILLAGE_A, VILLAGE_B, assert_all_accepted, household};

#[tokio::test]
async fn every_supervisor_call_is_confined_to_the_region() {
    let app = TestApp::spawn().await;
    let village_b = app.supervisor(VILLAGE_B).await;
    let a_household = household(0).household_id;
    let forbidden = [
        format!("/api/v1/households?region={VILLAGE_A}"),
        format!("/api/v1/queues/conflicts?region={VILLAGE_A}"),
        format!("/api/v1/queues/duplicates?region={VILLAGE_A}"),
        format!("/api/v1/reports/progress?region={VILLAGE_A}"),
        format!("/api/v1/reports/completeness?region={VILLAGE_A}"),
        "/api/v1/reports/progress?region=16.04".to_owned(),
    ];
    for path in &forbidden {
        let r = app.get_as(&village_b, path).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(r.json::<ErrorBody>().await.unwrap().code, "AUTH-02");
    }
    let review = app
        .client
        .post(app.url("/api/v1/reviews"))
        .bearer_auth(&village_b)
        .json(&json!({"household_id": a_household, "decision": "REQUEST_REVISIT"}))
        .send()
        .await
        .unwrap();
    // A household outside the region answers as one that does not exist: ids cannot be probed.
    let unknown = app
        .get_as(
            &village_b,
            &format!("/api/v1/households/{}", HouseholdId(uuid::Uuid::now_v7())),
        )
        .await;
    let outside = app
        .get_as(&village_b, &format!("/api/v1/households/{a_household}"))
        .await;
    for r in [review, outside, unknown] {
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(r.json::<ErrorBody>().await.unwrap().code, "API-03");
    }
    // Each refusal is in the audit log, with where it was asked; the unknown id is not one.
    let denied: Vec<String> = app
        .audit()
        .into_iter()
        .filter(|a| a.starts_with("access:denied"))
        .collect();
    assert_eq!(denied.len(), forbidden.len() + 2, "{denied:?}");
    assert!(
        denied
            .iter()
            .any(|a| a.ends_with(&format!("/api/v1/households/{a_household}")))
    );
    // Inside the region it answers, and lists only its own households.
    let own: Value = app
        .get_as(&village_b, "/api/v1/households")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["households"].as_array().unwrap().len(), 10);
    // A phone's token is no supervisor's, and a supervisor's is no phone's.
    let phone = app.phone(&[VILLAGE_A]).await;
    assert_eq!(
        app.get_as(&phone.token, "/api/v1/households")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_as(&village_b, "/api/v1/sync/pull").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_returned_visit_leaves_the_state_and_reaches_the_phone() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let supervisor = app.supervisor("16.04").await;
    let item = phone.visit(3, 30);
    let visit_id = item.visit.visit_id;
    let household_id = household(3).household_id;
    app.push(&phone, &[item]).await;
    let post = |body: Value| {
        app.client
            .post(app.url("/api/v1/reviews"))
            .bearer_auth(&supervisor)
            .json(&body)
            .send()
    };

    let no_comment =
        post(json!({"household_id": household_id, "visit_id": visit_id, "decision": "RETURN"}))
            .await
            .unwrap();
    assert_eq!(no_comment.status(), StatusCode::BAD_REQUEST);
    assert_eq!(no_comment.json::<ErrorBody>().await.unwrap().code, "SUP-02");

    let returned = post(json!({"household_id": household_id, "visit_id": visit_id, "decision": "RETURN", "comment": "Foto rumah kurang jelas"})).await.unwrap();
    assert_eq!(returned.status(), StatusCode::OK);
    let detail: Value = app
        .get_as(&supervisor, &format!("/api/v1/households/{household_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["state"]["status"], "NOT_VISITED");
    assert_eq!(
        detail["state"]["visits_excluded"][0]["reason"]["kind"],
        "RETURNED"
    );
    assert_eq!(detail["reviews"][0]["comment"], "Foto rumah kurang jelas");

    let page = app.pull_page(&phone.token, "", 1000).await;
    let review = page
        .reviews
        .iter()
        .find(|r| r.visit_id == Some(visit_id))
        .expect("the return reaches the phone");
    assert_eq!(review.decision, Decision::Return);
    // A phone of another village does not receive it.
    let other = app.phone(&[VILLAGE_B]).await;
    let page = app.pull_page(&other.token, "", 1000).await;
    assert!(page.reviews.is_empty());
}

#[tokio::test]
async fn a_revisit_request_reaches_every_phone_of_the_area() {
    let app = TestApp::spawn().await;
    let phone = app.phone(&[VILLAGE_A]).await;
    // Household 4 lives in RW 001, RT 001: a phone of RT 002 hears nothing of it.
    let same_rt = app.phone(&[&format!("{VILLAGE_A}/1/1")]).await;
    let other_rt = app.phone(&[&format!("{VILLAGE_A}/1/2")]).await;
    let supervisor = app.supervisor(VILLAGE_A).await;
    let answer = app
        .client
        .post(app.url("/api/v1/reviews"))
        .bearer_auth(&supervisor)
        .json(&json!({"household_id": household(4).household_id, "decision": "REQUEST_REVISIT"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(
        app.pull_page(&same_rt.token, "", 1000).await.reviews.len(),
        1
    );
    assert!(
        app.pull_page(&other_rt.token, "", 1000)
            .await
            .reviews
            .is_empty()
    );
    let page = app.pull_page(&phone.token, "", 1000).await;
    assert_eq!(page.reviews.len(), 1);
    let state = page
        .households
        .iter()
        .find(|m| m.state.household.household_id == household(4).household_id)
        .unwrap();
    assert_eq!(state.state.status, VerificationStatus::RevisitRequested);
}

#[tokio::test]
async fn completeness_shows_the_visits_that_never_arrived() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let mut items: Vec<_> = (0..6).map(|i| phone.visit(i, 40)).collect();
    // Number 2 is rejected (the phone reopens it as a draft, which gets a new number); numbers 3
    // and 4 never arrive.
    items[1].visit.finished_at = None;
    let sent = [
        items[0].clone(),
        items[1].clone(),
        items[4].clone(),
        items[5].clone(),
    ];
    let statuses: Vec<PushStatus> = app
        .push(&phone, &sent)
        .await
        .results
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses,
        [
            PushStatus::Accepted,
            PushStatus::Rejected,
            PushStatus::Accepted,
            PushStatus::Accepted
        ]
    );
    // Sent again, as a phone does before it hears: the number is still counted once.
    app.push(&phone, &sent[1..2]).await;
    let supervisor = app.supervisor(VILLAGE_A).await;
    let report: Value = app
        .get_as(&supervisor, "/api/v1/reports/completeness")
        .await
        .json()
        .await
        .unwrap();
    let device = report
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device_id"] == phone.device_id.to_string())
        .unwrap();
    assert_eq!(device["highest_seq"], 6);
    assert_eq!(device["received"], 3);
    assert_eq!(device["missing"], json!([3, 4]));
    assert_eq!(device["missing_count"], 2);
    assert_eq!(device["rejected"], json!([2]));
    assert_eq!(device["rejected_count"], 1);
    let last_sync = device["last_sync_at"]
        .as_str()
        .expect("the phone's last call");
    let today = serde_json::to_value(Timestamp::now_utc()).unwrap();
    assert_eq!(
        last_sync[..10],
        today.as_str().unwrap()[..10],
        "{last_sync}"
    );
}

#[tokio::test]
async fn progress_counts_each_child_region() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let items: Vec<_> = (0..4).map(|i| phone.visit(i, 40)).collect();
    app.push(&phone, &items).await;
    let supervisor = app.supervisor("16.04").await;
    let report: Value = app
        .get_as(&supervisor, "/api/v1/reports/progress?region=16.04.01")
        .await
        .json()
        .await
        .unwrap();
    let rows = report["rows"].as_array().unwrap();
    let a = rows.iter().find(|r| r["key"] == VILLAGE_A).unwrap();
    let b = rows.iter().find(|r| r["key"] == VILLAGE_B).unwrap();
    assert_eq!(
        (
            a["targets"].as_u64(),
            a["visited"].as_u64(),
            a["found"].as_u64()
        ),
        (Some(20), Some(4), Some(4))
    );
    assert_eq!(a["name"], "Desa A");
    assert_eq!(
        (b["targets"].as_u64(), b["visited"].as_u64()),
        (Some(10), Some(0))
    );
    assert_eq!(report["total"]["targets"], 30);
    let by_rw: Value = app
        .get_as(
            &supervisor,
            &format!("/api/v1/reports/progress?region={VILLAGE_A}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        by_rw["rows"].as_array().unwrap().len(),
        2,
        "RW 001 and RW 002"
    );
    // One RW down: its RTs. Households 0..10 live in RW 1, odd ones in RT 2; 0..4 were visited.
    let by_rt: Value = app
        .get_as(
            &supervisor,
            &format!("/api/v1/reports/overview?region={VILLAGE_A}&rw=1"),
        )
        .await
        .json()
        .await
        .unwrap();
    let rts: Vec<(String, u64, u64)> = by_rt["progress"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let n = |k: &str| r[k].as_u64().unwrap();
            (
                r["key"].as_str().unwrap().to_owned(),
                n("targets"),
                n("visited"),
            )
        })
        .collect();
    assert_eq!(
        rts,
        vec![("RT 001".to_owned(), 5, 2), ("RT 002".to_owned(), 5, 2)]
    );
    assert_eq!(by_rt["progress"]["rw"], "001");
    assert_eq!(by_rt["visits_this_week"], 4);
    let rw2: Value = app
        .get_as(
            &supervisor,
            &format!("/api/v1/reports/overview?region={VILLAGE_A}&rw=002"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            rw2["progress"]["total"]["visited"].as_u64(),
            rw2["visits_this_week"].as_u64()
        ),
        (Some(0), Some(0))
    );
    for bad in [
        "region=16.04.01&rw=1",
        "rw=abc",
        "region=16.04.01.2001&rw=1000",
    ] {
        let refused = app
            .get_as(&supervisor, &format!("/api/v1/reports/progress?{bad}"))
            .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            refused.json::<ErrorBody>().await.unwrap().field.as_deref(),
            Some("rw")
        );
    }
}

/// The dashboard's today and this week are the district's own (WIB here), read from the tallies
/// the writer keeps for a kecamatan or a village and from the visits themselves for an RW: both
/// count every stored visit once, and a retried push adds nothing.
#[tokio::test]
async fn today_and_this_week_are_the_districts_and_count_each_visit_once() {
    let app = TestApp::spawn().await;
    let wib = time::UtcOffset::from_hms(7, 0, 0).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let midnight = now.to_offset(wib).replace_time(time::Time::MIDNIGHT);
    let monday =
        midnight - time::Duration::days(i64::from(midnight.weekday().number_days_from_monday()));
    let minutes_before = |t: time::OffsetDateTime, extra: i64| (now - t).whole_minutes() + extra;
    // Today: the latest minute of today, even just after midnight.
    let today = minutes_before(midnight, 0).min(1);
    let yesterday = minutes_before(midnight, 1);
    let last_week = minutes_before(monday, 1);
    let yesterday_in_week = midnight.weekday() != time::Weekday::Monday;

    let mut a = app.phone(&[VILLAGE_A]).await;
    let mut b = app.phone(&[VILLAGE_B]).await;
    // Village A: two today, one yesterday, one last week; village B: one today.
    let items_a = vec![
        a.visit(0, today),
        a.visit(1, today),
        a.visit(11, yesterday),
        a.visit(12, last_week),
    ];
    let items_b = vec![b.visit(20, today)];
    app.push(&a, &items_a).await;
    app.push(&b, &items_b).await;
    // The same pushes again, as a phone on a weak line retries them.
    app.push(&a, &items_a).await;
    app.push(&b, &items_b).await;

    let supervisor = app.supervisor("16.04").await;
    let overview = |query: String| {
        let (app, supervisor) = (&app, &supervisor);
        async move {
            let o: Value = app
                .get_as(supervisor, &format!("/api/v1/reports/overview?{query}"))
                .await
                .json()
                .await
                .unwrap();
            let n = |k: &str| o[k].as_u64().unwrap();
            (
                n("visits_today"),
                n("visits_this_week"),
                n("enumerators_active_today"),
            )
        }
    };
    let in_week_a = 2 + u64::from(yesterday_in_week);
    assert_eq!(
        overview("region=16.04.01".into()).await,
        (3, in_week_a + 1, 2)
    );
    assert_eq!(
        overview(format!("region={VILLAGE_A}")).await,
        (2, in_week_a, 1)
    );
    // Households 0..10 of village A live in RW 001, 10..20 in RW 002.
    assert_eq!(
        overview(format!("region={VILLAGE_A}&rw=1")).await,
        (2, 2, 1)
    );
    assert_eq!(
        overview(format!("region={VILLAGE_A}&rw=2")).await,
        (0, u64::from(yesterday_in_week), 0)
    );
}

#[tokio::test]
async fn conflicts_and_duplicates_queue_up_and_niks_are_masked() {
    let app = TestApp::spawn().await;
    let (mut ani, mut budi) = (app.phone(&[VILLAGE_A]).await, app.phone(&[VILLAGE_A]).await);
    let first = ani.visit(1, 60);
    let mut second = budi.visit(1, 30);
    second.visit.assessment = Some(Assessment::NotPoor);
    // Budi also finds household 2's head carrying household 1's head's NIK.
    let mut third = budi.visit(2, 20);
    third.visit.member_changes.push(MemberChange::Update {
        member_id: household(2).members[0].member_id,
        details: MemberDetails {
            nik: household(1).members[0].details.nik.clone(),
            ..MemberDetails::default()
        },
    });
    third.visit.warning_reasons.insert(
        format!("NIK-09@members.{}.nik", household(2).members[0].member_id),
        "KTP menunjukkan NIK ini".into(),
    );
    app.push(&ani, &[first]).await;
    let answer = app.push(&budi, &[second, third]).await;
    assert_all_accepted(&answer);

    let supervisor = app.supervisor(VILLAGE_A).await;
    let conflicts: Value = app
        .get_as(&supervisor, "/api/v1/queues/conflicts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(conflicts.as_array().unwrap().len(), 1);
    assert_eq!(
        conflicts[0]["household_id"],
        household(1).household_id.to_string()
    );
    let duplicates: Value = app
        .get_as(&supervisor, "/api/v1/queues/duplicates")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        duplicates
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["kind"] == "NIK")
    );

    let detail = app
        .get_as(
            &supervisor,
            &format!("/api/v1/households/{}", household(1).household_id),
        )
        .await
        .text()
        .await
        .unwrap();
    let nik = household(1).members[0].details.nik.clone().unwrap();
    assert!(
        !detail.contains(nik.as_str()),
        "NIK in clear in the supervisor's view"
    );
    assert!(detail.contains(&format!("{}********", &nik.as_str()[..4])));
}

/// Every supervisor call against each role (issue 14): what a role may not do answers 403
/// AUTH-04, changes nothing and is audited; each role holds the powers of the roles before it.
#[tokio::test]
async fn every_supervisor_call_checks_the_role() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let item = phone.visit(0, 30);
    let (household_id, visit_id) = (household(0).household_id, item.visit.visit_id);
    assert_all_accepted(&app.push(&phone, &[item]).await);
    let viewer = app.supervisor_as("16.04", Role::Viewer).await;
    let reviewer = app.supervisor_as("16.04", Role::Reviewer).await;
    let officer = app.supervisor_as("16.04", Role::DataOfficer).await;
    let admin = app.supervisor_as("16.04", Role::Admin).await;

    // Reading is every role's.
    let reads = [
        "/api/v1/households?region=16.04".to_owned(),
        format!("/api/v1/households/{household_id}"),
        "/api/v1/queues/conflicts?region=16.04".to_owned(),
        "/api/v1/queues/duplicates?region=16.04".to_owned(),
        "/api/v1/queues/visits?region=16.04".to_owned(),
        "/api/v1/queues/proposals?region=16.04".to_owned(),
        "/api/v1/reports/overview?region=16.04".to_owned(),
        "/api/v1/reports/progress?region=16.04".to_owned(),
        "/api/v1/reports/completeness?region=16.04".to_owned(),
        "/api/v1/map/boundaries?region=16.04".to_owned(),
    ];
    for path in &reads {
        assert_eq!(
            app.get_as(&viewer, path).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }

    // Each call that needs more than reading, with the least role that may make it.
    let refused = |r: reqwest::Response, who: &'static str, call: &'static str| async move {
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who}: {call}");
        assert_eq!(
            r.json::<ErrorBody>().await.unwrap().code,
            "AUTH-04",
            "{who}: {call}"
        );
    };
    let decide = |token: String| {
        app.client
            .post(app.url("/api/v1/reviews"))
            .bearer_auth(token)
            .json(&json!({"household_id": household_id, "decision": "REQUEST_REVISIT"}))
            .send()
    };
    let approve = |token: String| {
        app.client
            .post(app.url("/api/v1/reviews/approve"))
            .bearer_auth(token)
            .json(&json!({"visits": [{"household_id": household_id, "visit_id": visit_id}]}))
            .send()
    };
    let export = |token: String, nik: &'static str| {
        app.client
            .get(app.url(&format!(
                "/api/v1/exports/households?region=16.04&format=csv&nik={nik}"
            )))
            .bearer_auth(token)
            .send()
    };
    let whole = |token: String| {
        app.client
            .get(app.url(&format!("/api/v1/households/{household_id}?nik=full")))
            .bearer_auth(token)
            .send()
    };
    let bundle = |token: String| {
        app.client
            .post(app.url("/api/v1/bundles"))
            .bearer_auth(token)
            .body("not a bundle")
            .send()
    };

    refused(decide(viewer.clone()).await.unwrap(), "viewer", "decide").await;
    refused(approve(viewer.clone()).await.unwrap(), "viewer", "approve").await;
    refused(
        export(viewer.clone(), "masked").await.unwrap(),
        "viewer",
        "export",
    )
    .await;
    refused(whole(viewer.clone()).await.unwrap(), "viewer", "whole NIK").await;
    refused(bundle(viewer.clone()).await.unwrap(), "viewer", "bundle").await;
    // The viewer changed nothing.
    let detail: Value = app
        .get_as(&viewer, &format!("/api/v1/households/{household_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(detail["reviews"].as_array().unwrap().is_empty());

    assert_eq!(
        decide(reviewer.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    let approved: Value = approve(reviewer.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(approved["approved"].as_array().unwrap().len(), 1);
    let masked = export(reviewer.clone(), "masked").await.unwrap();
    assert_eq!(masked.status(), StatusCode::OK);
    refused(
        export(reviewer.clone(), "full").await.unwrap(),
        "reviewer",
        "export whole NIK",
    )
    .await;
    refused(
        whole(reviewer.clone()).await.unwrap(),
        "reviewer",
        "whole NIK",
    )
    .await;
    refused(
        bundle(reviewer.clone()).await.unwrap(),
        "reviewer",
        "bundle",
    )
    .await;

    assert_eq!(
        export(officer.clone(), "full").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        whole(officer.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    refused(
        bundle(officer.clone()).await.unwrap(),
        "data officer",
        "bundle",
    )
    .await;

    // The admin's bundle is read, and refused for what it is, not for who sent it.
    let by_admin = bundle(admin.clone()).await.unwrap();
    assert_eq!(by_admin.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        export(admin.clone(), "full").await.unwrap().status(),
        StatusCode::OK
    );

    // Every refusal is in the audit log with the power it lacked.
    let denied: Vec<String> = app
        .db
        .read_blocking(|c| {
            c.values::<String>(
                "SELECT target FROM audit_log WHERE action = 'access:denied' ORDER BY seq",
                &[],
            )
        })
        .unwrap();
    let lacked = [
        "decide",
        "decide",
        "export",
        "whole-nik",
        "import",
        "whole-nik",
        "whole-nik",
        "import",
        "import",
    ];
    assert_eq!(denied, lacked.map(|p| format!("role:{p}")));
}
