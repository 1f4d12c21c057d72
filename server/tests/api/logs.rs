//! What reaches the log and the answers when input is wrong. Every test of this binary checks the
//! whole captured log at its end (`helpers.rs`); these send the input that used to put a NIK
//! there: a member's NIK given as a JSON number, in a push and in a bundle's manifest.

use std::io::Write;
use verivali_server::roles::Role;

use reqwest::StatusCode;
use serde_json::{Value, json};
use verivali_core::model::*;

use crate::helpers::{TestApp, VILLAGE_A, household};

/// A visit of household 1 whose added member carries household 1's head's NIK as a number.
fn visit_with_nik_as_number(phone: &mut crate::helpers::Phone) -> (Value, String) {
    let nik = match &household(1).members[0].details.nik {
        Some(Entered::Valid(nik)) => nik.as_str().to_owned(),
        _ => unreachable!("the sample head has a NIK"),
    };
    let mut item = phone.visit(1, 20);
    let mut member = household(1).members[0].clone();
    member.member_id = MemberId(uuid::Uuid::now_v7());
    item.visit.member_changes.push(MemberChange::Add { member });
    let text = serde_json::to_string(&item)
        .unwrap()
        .replace(&format!("\"{nik}\""), &nik);
    assert!(text.contains(&format!(":{nik}")), "the NIK is a number now");
    (serde_json::from_str(&text).unwrap(), nik)
}

#[tokio::test]
async fn a_nik_given_as_a_number_is_quoted_neither_in_the_answer_nor_in_the_log() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let (item, nik) = visit_with_nik_as_number(&mut phone);

    let push = app
        .push_raw(
            &phone,
            &json!({"sent_at": Timestamp::now_utc(), "items": [item]}),
        )
        .await;
    assert_eq!(push.status(), StatusCode::OK);
    let answer = push.text().await.unwrap();
    assert!(
        answer.contains("SYN-03") && !answer.contains(&nik),
        "{answer}"
    );

    // The same visit in a phone's bundle, brought on a USB stick.
    let manifest = json!({
        "device_id": phone.device_id, "enumerator_id": phone.enumerator_id,
        "created_at": Timestamp::now_utc(),
        "visits": [{"device_seq": 1, "content_hash": "00".repeat(32), "visit": item["visit"]}],
    });
    let mut file = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    write!(file, "verivali-bundle/1\n{manifest}\nseal 00\n").unwrap();
    let supervisor = app.supervisor_as(VILLAGE_A, Role::Admin).await;
    let bundle = app
        .client
        .post(app.url("/api/v1/bundles"))
        .bearer_auth(&supervisor)
        .body(file.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), StatusCode::BAD_REQUEST);
    let answer = bundle.text().await.unwrap();
    assert!(!answer.contains(&nik), "{answer}");
}
