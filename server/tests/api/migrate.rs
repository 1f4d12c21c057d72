//! Moving up (issue 16, item 6): a kabupaten's SQLite data moved into a PostgreSQL database with
//! the command line, run twice, then served from there to the same phone.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::json;
use verivali_core::model::Sha256;

use crate::helpers::{
    TestApp, VILLAGE_A, VILLAGE_B, assert_all_accepted, household, missing_photos, on_postgres,
    pull_all_from, start_server,
};

fn migrate(from: &std::path::Path, to: &str, photos_to: &std::path::Path) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_verivali-server"))
        .args(["migrate", "--from"])
        .arg(from)
        .args(["--to", to, "--photos-to"])
        .arg(photos_to)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), said)
}

#[tokio::test]
async fn a_kabupaten_moves_into_postgres_keeping_every_state_and_its_phones() {
    if !on_postgres() {
        return; // the target is a PostgreSQL database
    }
    // A kabupaten on SQLite: two phones' visits, a supervisor's decision, a photo.
    let kabupaten = TestApp::spawn_with(|config| config.database = None).await;
    let mut a = kabupaten.phone(&[VILLAGE_A, VILLAGE_B]).await;
    let mut b = kabupaten.phone(&[VILLAGE_A]).await;
    for round in 0..3 {
        let items: Vec<_> = (0..10).map(|i| a.visit(i * 3 % 30, 90 - round)).collect();
        assert_all_accepted(&kabupaten.push(&a, &items).await);
        let items: Vec<_> = (0..10).map(|i| b.visit(i, 60 - round)).collect();
        assert_all_accepted(&kabupaten.push(&b, &items).await);
    }
    let token = kabupaten.supervisor("16.04").await;
    let visit = b.visit(4, 5);
    assert_all_accepted(&kabupaten.push(&b, std::slice::from_ref(&visit)).await);
    let decided = kabupaten
        .review(
            &token,
            &json!({"review_id": uuid::Uuid::now_v7(), "household_id": household(4).household_id,
                    "visit_id": visit.visit.visit_id, "decision": "RETURN", "comment": "Foto buram"}),
        )
        .await;
    assert_eq!(decided.status(), StatusCode::OK);
    let photo: Vec<u8> = (0..50_000u32).map(|i| (i * 11 % 253) as u8).collect();
    let sha = Sha256::of(&photo);
    let put = kabupaten
        .client
        .put(kabupaten.url(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(&a.token)
        .header("upload-length", photo.len())
        .body(photo.clone())
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    let before = kabupaten.pull_all(&a).await;
    let audit_entries = kabupaten.audit().len();
    let kabupaten_dir = kabupaten.stop_keeping_data().await;

    // The province's database (a new one of the test cluster) and its shared data directory.
    let url = crate::helpers::postgres_for_test().await.unwrap();
    let province_dir = tempfile::TempDir::new().unwrap();
    let (ok, said) = migrate(kabupaten_dir.path(), &url, province_dir.path());
    assert!(ok, "{said}");
    assert!(said.contains("30 households checked"), "{said}");
    assert!(said.contains("visits: 61 rows, 61 copied now"), "{said}");
    assert!(said.contains("photos: 1 copied"), "{said}");
    // Again, as after an interruption: nothing is copied twice.
    let (ok, again) = migrate(kabupaten_dir.path(), &url, province_dir.path());
    assert!(ok, "{again}");
    assert!(again.contains("visits: 61 rows, 0 copied now"), "{again}");
    assert!(
        again.contains("audit_log: 0 entries appended; photos: 0 copied"),
        "{again}"
    );
    assert!(audit_entries > 0 && said.contains(&format!("audit_log: {audit_entries} entries")));

    // A province server on the database: the phone keeps its token and sees the same states.
    let (mut server, addr) = start_server(province_dir.path(), Some(&url));
    let client = crate::helpers::http_client();
    let after = pull_all_from(&client, &format!("http://{addr}"), &a.token).await;
    let hashes = |states: &[verivali_core::merge::Merged]| -> Vec<_> {
        states
            .iter()
            .map(|m| (m.state.household.household_id, m.state_hash.clone()))
            .collect()
    };
    assert_eq!(hashes(&after), hashes(&before));
    let missing = missing_photos(&client, &format!("http://{addr}"), &a.token, &[&sha]).await;
    assert_eq!(missing, json!([]), "the photo moved with its holder");
    let next = a.visit(7, 1);
    let answer: verivali_core::protocol::PushResponse = client
        .post(format!("http://{addr}/api/v1/sync/push"))
        .bearer_auth(&a.token)
        .json(&verivali_core::protocol::PushRequest {
            sent_at: verivali_core::model::Timestamp::now_utc(),
            items: vec![next],
            finished_up_to: None,
        })
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_all_accepted(&answer);
    server.kill().unwrap();
    server.wait().unwrap();

    // A household that differs on the province's database fails the check: the one changed
    // by hand, and the one visited since the move.
    let tamper = url.clone();
    tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&tamper, postgres::NoTls).unwrap();
        client
            .execute(
                "UPDATE households SET state_hash = 'x' WHERE household_id = $1",
                &[&household(20).household_id.to_string()],
            )
            .unwrap();
    })
    .await
    .unwrap();
    let (ok, said) = migrate(kabupaten_dir.path(), &url, province_dir.path());
    assert!(!ok);
    assert!(said.contains("2 of 30 households differ"), "{said}");
    for changed in [7, 20] {
        assert!(said.contains(&household(changed).household_id.to_string()));
    }
}
