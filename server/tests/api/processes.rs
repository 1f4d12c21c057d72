//! Several server processes on one PostgreSQL database (issue 16, item 3), as behind a load
//! balancer: phones push to all of them at once, each push is sent again to another process (a
//! retry after an answer lost on a weak signal), and one process is killed with SIGKILL while
//! pushes are in flight. Every visit must be stored once, and every household must merge to the
//! state a single SQLite server reaches from the same visits. What the processes share besides
//! (photos, the limits on guessing) is checked across them too.

use std::collections::BTreeMap;
use std::process::Child;

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;
use verivali_core::model::{DeviceId, EnumeratorId, HouseholdId, Sha256, Timestamp};
use verivali_core::protocol::{PushItem, PushRequest, PushResponse, PushStatus};
use verivali_server::db::Db;

use crate::helpers::{
    Phone, TestApp, VILLAGE_A, VILLAGE_B, http_client, missing_photos, on_postgres, pull_all_from,
    start_server,
};

const PHONES: usize = 6;
const BATCHES: usize = 8;
const PER_BATCH: usize = 10;
/// The batch during whose pushes the third process is killed.
const KILLED_AT: usize = 2;

/// Sends `body` to the processes in `order` until two answered: the push and its retry on
/// another process. A process that is dying may not answer; the next one is then asked.
async fn push_twice(
    client: reqwest::Client,
    order: Vec<String>,
    token: String,
    body: PushRequest,
) -> Vec<PushResponse> {
    let mut answers = Vec::new();
    for addr in order {
        let sent = client
            .post(format!("http://{addr}/api/v1/sync/push"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        let Ok(response) = sent else { continue };
        let Ok(answer) = response.json::<PushResponse>().await else {
            continue;
        };
        answers.push(answer);
        if answers.len() == 2 {
            break;
        }
    }
    answers
}

fn visits_of(phone: &mut Phone, p: usize, batch: usize) -> Vec<PushItem> {
    // Phones' households overlap, so that most households merge visits from several phones,
    // arriving at different processes in different orders.
    (0..PER_BATCH)
        .map(|j| phone.visit(((p * 7 + batch * PER_BATCH + j) % 30) as u64, 30))
        .collect()
}

#[tokio::test]
async fn three_processes_on_one_database_store_each_visit_once_and_merge_as_one_server_does() {
    if !on_postgres() {
        return; // several processes share a PostgreSQL database; SQLite is one process's
    }
    let app = TestApp::spawn().await;
    let ids: Vec<(EnumeratorId, DeviceId)> = (0..PHONES)
        .map(|_| (EnumeratorId(Uuid::new_v4()), DeviceId(Uuid::now_v7())))
        .collect();
    let mut phones = Vec::new();
    for (enumerator, device) in &ids {
        let areas = [VILLAGE_A, VILLAGE_B];
        phones.push(app.phone_with_ids(&areas, *enumerator, *device).await);
    }
    let database = app.database.clone().unwrap();
    // The processes share the data directory (photos, staged imports) as they share the database.
    let dir = app.stop_keeping_data().await;
    let mut servers: Vec<(Child, String)> = (0..3)
        .map(|_| start_server(dir.path(), Some(&database)))
        .collect();
    let addrs: Vec<String> = servers.iter().map(|(_, addr)| addr.clone()).collect();
    let client = http_client();

    let mut sent: Vec<Vec<PushItem>> = vec![Vec::new(); PHONES];
    let mut killed = false;
    for batch in 0..BATCHES {
        let mut pushes = Vec::new();
        for (p, phone) in phones.iter_mut().enumerate() {
            let items = visits_of(phone, p, batch);
            sent[p].extend(items.iter().cloned());
            let body = PushRequest {
                sent_at: Timestamp::now_utc(),
                items,
                finished_up_to: None,
            };
            // Each phone starts at another process, and retries at the next one.
            let live = if killed { 2 } else { 3 };
            let order: Vec<String> = (0..3)
                .map(|k| addrs[(p + batch + k) % 3].clone())
                .filter(|addr| !killed || *addr != addrs[2])
                .cycle()
                .take(live)
                .collect();
            pushes.push((body, order));
        }
        let tasks: Vec<_> = pushes
            .iter()
            .zip(&phones)
            .map(|((body, order), phone)| {
                let push = push_twice(
                    client.clone(),
                    order.clone(),
                    phone.token.clone(),
                    body.clone(),
                );
                tokio::spawn(push)
            })
            .collect();
        let sending = async {
            let mut answers = Vec::new();
            for task in tasks {
                answers.push(task.await.unwrap());
            }
            answers
        };
        let answers = if batch == KILLED_AT {
            let killer = async {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                servers[2].0.kill().unwrap(); // SIGKILL, pushes in flight
            };
            let (answers, ()) = tokio::join!(sending, killer);
            killed = true;
            answers
        } else {
            sending.await
        };
        for ((body, _), answers) in pushes.iter().zip(answers) {
            assert_eq!(answers.len(), 2, "a push and its retry, each answered");
            for answer in &answers {
                assert_eq!(answer.results.len(), body.items.len());
                for result in &answer.results {
                    assert!(
                        matches!(result.status, PushStatus::Accepted | PushStatus::Duplicate),
                        "{result:?}"
                    );
                }
            }
            // The retry finds what the first answer stored.
            assert!(
                answers[1]
                    .results
                    .iter()
                    .all(|r| r.status == PushStatus::Duplicate)
            );
        }
    }
    servers[2].0.wait().unwrap();

    // Every visit once: as many stored as sent, and each used in its household's state.
    let sent_ids: Vec<_> = sent.iter().flatten().map(|i| i.visit.visit_id).collect();
    let db_url = database.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let db = Db::open_postgres(&db_url).unwrap();
        let count = db
            .read_blocking(|c| c.value::<i64>("SELECT count(*) FROM visits", &[]))
            .unwrap();
        db.close();
        count
    })
    .await
    .unwrap();
    assert_eq!(stored as usize, sent_ids.len());
    let on_processes =
        pull_all_from(&client, &format!("http://{}", addrs[0]), &phones[0].token).await;
    let used: std::collections::BTreeSet<_> = on_processes
        .iter()
        .flat_map(|m| m.state.visits_used.iter().copied())
        .collect();
    for id in &sent_ids {
        assert!(
            used.contains(id),
            "visit {id} is not in its household's state"
        );
    }

    // One SQLite server fed the same visits, one phone after another, merges to the same states.
    let reference = TestApp::spawn_with(|config| config.database = None).await;
    let mut reference_phones = Vec::new();
    for (p, (enumerator, device)) in ids.iter().enumerate() {
        let phone = reference
            .phone_with_ids(&[VILLAGE_A, VILLAGE_B], *enumerator, *device)
            .await;
        for items in sent[p].chunks(PER_BATCH) {
            let answer = reference.push(&phone, items).await;
            crate::helpers::assert_all_accepted(&answer);
        }
        reference_phones.push(phone);
    }
    let hashes = |states: Vec<verivali_core::merge::Merged>| -> BTreeMap<HouseholdId, Sha256> {
        states
            .into_iter()
            .map(|m| (m.state.household.household_id, m.state_hash))
            .collect()
    };
    let expected = hashes(reference.pull_all(&reference_phones[0]).await);
    let found = hashes(on_processes);
    assert_eq!(expected.len(), 30);
    assert_eq!(found, expected);

    for (server, _) in servers.iter_mut().take(2) {
        server.kill().unwrap();
        server.wait().unwrap();
    }
}

/// What a phone leaves at one process is found at another: the wrong enrollment codes counted
/// against its address, and a photo upload it began there and finished elsewhere.
#[tokio::test]
async fn processes_share_the_limits_on_guessing_and_the_photos() {
    if !on_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    let phone = app.phone(&[VILLAGE_A]).await;
    let database = app.database.clone().unwrap();
    let dir = app.stop_keeping_data().await;
    let mut servers: Vec<(Child, String)> = (0..2)
        .map(|_| start_server(dir.path(), Some(&database)))
        .collect();
    let url = |k: usize, path: &str| format!("http://{}{path}", servers[k].1);
    let client = http_client();

    // Ten wrong codes a minute per address (the default), whichever process hears them.
    let mut statuses = Vec::new();
    for attempt in 0..12 {
        let response = client
            .post(url(attempt % 2, "/api/v1/devices/enroll"))
            .json(&json!({"code": "WRONG-CODE", "device_id": Uuid::now_v7(), "device_name": "HP"}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
    }
    assert_eq!(statuses[..10], [StatusCode::UNAUTHORIZED; 10]);
    assert_eq!(statuses[10..], [StatusCode::TOO_MANY_REQUESTS; 2]);

    // A photo begun at one process and finished at the other.
    let photo: Vec<u8> = (0..200_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let sha = Sha256::of(&photo);
    let path = format!("/api/v1/attachments/{sha}");
    let first = client
        .put(url(0, &path))
        .bearer_auth(&phone.token)
        .header("upload-length", photo.len())
        .body(photo[..80_000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let head = client
        .head(url(1, &path))
        .bearer_auth(&phone.token)
        .send()
        .await
        .unwrap();
    assert_eq!(head.headers()["upload-offset"].to_str().unwrap(), "80000");
    let rest = client
        .put(url(1, &path))
        .bearer_auth(&phone.token)
        .header("upload-offset", 80_000)
        .header("upload-length", photo.len())
        .body(photo[80_000..].to_vec())
        .send()
        .await
        .unwrap();
    assert!(rest.status().is_success(), "{}", rest.status());
    let missing = missing_photos(&client, &url(0, ""), &phone.token, &[&sha]).await;
    assert_eq!(missing, json!([]), "the other process holds it too");

    for (server, _) in &mut servers {
        server.kill().unwrap();
        server.wait().unwrap();
    }
}
