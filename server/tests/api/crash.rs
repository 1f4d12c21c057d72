//! A server killed with SIGKILL during a loop of pushes, and restarted, holds every visit it
//! acknowledged. The server runs as its own process (the built binary).

use verivali_core::model::Timestamp;
use verivali_core::protocol::{PushRequest, PushResponse, PushStatus};

use crate::helpers::{TestApp, VILLAGE_A, pull_all_from, start_server};

#[tokio::test]
async fn a_killed_server_keeps_every_visit_it_acknowledged() {
    // Seed a data directory through the in-process app, then hand it to a server process.
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let database = app.database.clone();
    let dir = app.stop_keeping_data().await;
    let data_dir = dir.path().to_path_buf();

    let client = crate::helpers::http_client();
    let mut acknowledged = Vec::new();
    for round in 0..3 {
        let (mut server, addr) = start_server(&data_dir, database.as_deref());
        for batch in 0..(4 + round) {
            let items: Vec<_> = (0..20)
                .map(|i| phone.visit((batch * 20 + i) % 20, 30))
                .collect();
            let body = PushRequest {
                sent_at: Timestamp::now_utc(),
                items,
                finished_up_to: None,
            };
            let response = client
                .post(format!("http://{addr}/api/v1/sync/push"))
                .bearer_auth(&phone.token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let text = response.text().await.unwrap();
            let answer: PushResponse =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
            for r in answer.results {
                assert_eq!(r.status, PushStatus::Accepted);
                acknowledged.push(r.visit_id.unwrap());
            }
        }
        // One more push in flight while the process dies.
        let items: Vec<_> = (0..20).map(|i| phone.visit(i, 30)).collect();
        let in_flight = client
            .post(format!("http://{addr}/api/v1/sync/push"))
            .bearer_auth(&phone.token)
            .json(&PushRequest {
                sent_at: Timestamp::now_utc(),
                items,
                finished_up_to: None,
            })
            .send();
        let killer = async {
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
            server.kill().unwrap(); // SIGKILL
        };
        let (answer, ()) = tokio::join!(in_flight, killer);
        server.wait().unwrap();
        if let Ok(response) = answer
            && let Ok(answer) = response.json::<PushResponse>().await
        {
            acknowledged.extend(
                answer
                    .results
                    .iter()
                    .filter(|r| r.status == PushStatus::Accepted)
                    .filter_map(|r| r.visit_id),
            );
        }
    }

    let (mut server, addr) = start_server(&data_dir, database.as_deref());
    let used: std::collections::BTreeSet<_> =
        pull_all_from(&client, &format!("http://{addr}"), &phone.token)
            .await
            .into_iter()
            .flat_map(|m| m.state.visits_used)
            .collect();
    server.kill().unwrap();
    let _ = server.wait();
    assert!(acknowledged.len() >= 3 * 80);
    for id in &acknowledged {
        assert!(used.contains(id), "acknowledged visit {id} lost");
    }
}
