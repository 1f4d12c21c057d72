use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;
use verivali_core::protocol::{EnrollResponse, ErrorBody};

use crate::helpers::{TestApp, VILLAGE_A};

/// A one-time code for a new enumerator of village A, valid for an hour.
async fn code_for_ani(app: &TestApp) -> String {
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let id = verivali_server::admin::add_enumerator(
            &db,
            "Ani",
            vec![verivali_server::admin::parse_area(VILLAGE_A).unwrap()],
        )
        .unwrap();
        verivali_server::admin::enrollment_code(&db, id, time::Duration::hours(1)).unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_code_enrolls_one_device_once() {
    let app = TestApp::spawn().await;
    let code = code_for_ani(&app).await;
    let enroll = |code: String| {
        app.client
            .post(app.url("/api/v1/devices/enroll"))
            .json(&json!({"code": code, "device_id": Uuid::now_v7(), "device_name": "HP"}))
            .send()
    };
    // Typed in lower case with a space: still the same code.
    let first = enroll(code.to_lowercase().replace('-', " ")).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let again = enroll(code.clone()).await.unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    let body: ErrorBody = again.json().await.unwrap();
    assert_eq!(body.code, "ENR-01");
    assert!(!body.message_id.is_empty() && !body.message_en.is_empty());
}

#[tokio::test]
async fn failed_enrollment_attempts_are_rate_limited_and_successes_are_not() {
    let app = TestApp::spawn().await;
    // A training session: twelve phones enrolled from one address.
    for _ in 0..12 {
        app.phone(&[VILLAGE_A]).await;
    }
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let r = app
            .client
            .post(app.url("/api/v1/devices/enroll"))
            .json(&json!({"code": "AAAA-BBBB", "device_id": Uuid::now_v7(), "device_name": "HP"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status());
    }
    assert_eq!(statuses[..10], [StatusCode::UNAUTHORIZED; 10]);
    assert_eq!(statuses[10..], [StatusCode::TOO_MANY_REQUESTS; 2]);
}

#[tokio::test]
async fn a_revoked_device_is_refused() {
    let app = TestApp::spawn().await;
    let phone = app.phone(&[VILLAGE_A]).await;
    let pull = || {
        app.client
            .get(app.url("/api/v1/sync/pull"))
            .bearer_auth(&phone.token)
            .send()
    };
    assert_eq!(pull().await.unwrap().status(), StatusCode::OK);
    let (db, device) = (app.db.clone(), phone.device_id);
    assert!(
        tokio::task::spawn_blocking(
            move || verivali_server::admin::revoke_device(&db, device).unwrap()
        )
        .await
        .unwrap()
    );
    assert_eq!(pull().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let no_token = app
        .client
        .get(app.url("/api/v1/sync/pull"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn health_answers_when_the_database_does() {
    let app = TestApp::spawn().await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "ok");
}

/// On a weak signal the answer to an enrollment can be lost after the server used the code. The
/// same phone asking again gets a new token (the lost one stops working); another phone does not.
#[tokio::test]
async fn a_phone_whose_enrollment_answer_was_lost_can_ask_again() {
    let app = TestApp::spawn().await;
    let code = code_for_ani(&app).await;
    let device = Uuid::now_v7();
    let enroll = |device: Uuid| {
        app.client
            .post(app.url("/api/v1/devices/enroll"))
            .json(&json!({"code": code, "device_id": device, "device_name": "HP"}))
            .send()
    };
    let pull = |token: String| {
        app.client
            .get(app.url("/api/v1/sync/pull"))
            .bearer_auth(token)
            .send()
    };
    let lost: EnrollResponse = enroll(device).await.unwrap().json().await.unwrap();
    let again = enroll(device).await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let again: EnrollResponse = again.json().await.unwrap();
    assert_ne!(again.token, lost.token);
    assert_eq!(again.enumerator_id, lost.enumerator_id);
    assert_eq!(pull(again.token).await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        pull(lost.token).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let other = enroll(Uuid::now_v7()).await.unwrap();
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
}

/// Once the phone has used its token, its used code and its device id (which travels in every
/// visit) no longer enroll anyone: the working phone keeps its token.
#[tokio::test]
async fn a_used_code_does_not_take_a_working_phones_place() {
    let app = TestApp::spawn().await;
    let code = code_for_ani(&app).await;
    let device = Uuid::now_v7();
    let enroll = || {
        app.client
            .post(app.url("/api/v1/devices/enroll"))
            .json(&json!({"code": code, "device_id": device, "device_name": "HP"}))
            .send()
    };
    let first: EnrollResponse = enroll().await.unwrap().json().await.unwrap();
    let pull = app.get_as(&first.token, "/api/v1/sync/pull").await;
    assert_eq!(pull.status(), StatusCode::OK);
    let taken = enroll().await.unwrap();
    assert_eq!(taken.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(taken.json::<ErrorBody>().await.unwrap().code, "ENR-01");
    let still = app.get_as(&first.token, "/api/v1/sync/pull").await;
    assert_eq!(still.status(), StatusCode::OK);
}

/// Wrong codes sent at once are counted as they arrive: 10 are tried, the rest get 429.
#[tokio::test]
async fn guessed_codes_sent_at_once_are_limited_too() {
    let app = TestApp::spawn().await;
    let mut guesses = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let (client, url) = (app.client.clone(), app.url("/api/v1/devices/enroll"));
        guesses.spawn(async move {
            let body =
                json!({"code": "AAAA-BBBB", "device_id": Uuid::now_v7(), "device_name": "HP"});
            client.post(url).json(&body).send().await.unwrap().status()
        });
    }
    let statuses = guesses.join_all().await;
    let count = |status: StatusCode| statuses.iter().filter(|&&s| s == status).count();
    assert_eq!(
        (
            count(StatusCode::UNAUTHORIZED),
            count(StatusCode::TOO_MANY_REQUESTS)
        ),
        (10, 20)
    );
}

/// A connection that sends no request, or sits idle after one, is closed after the header
/// timeout (1 s here), and connections past the cap wait for a free one: slow or idle clients
/// cannot hold the server's connections for ever.
#[tokio::test]
async fn slow_and_idle_connections_are_closed_and_connections_are_capped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(|c| {
        c.header_read_timeout_secs = 1;
        c.max_connections = 2;
    })
    .await;
    let closed_within = |mut stream: tokio::net::TcpStream| async move {
        let mut rest = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            stream.read_to_end(&mut rest),
        )
        .await
        .map(|read| read.is_ok())
        .unwrap_or(false)
    };
    // Half a request line, then nothing.
    let mut slow = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /healthz HT").await.unwrap();
    // A whole request, answered, then idle on a kept-alive connection.
    let mut idle = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 12];
    idle.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");
    // Both slots are taken: a third client waits until one of them is closed.
    let third = tokio::spawn(app.client.get(app.url("/healthz")).send());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !third.is_finished(),
        "the third waits for a free connection"
    );
    assert!(closed_within(slow).await, "the slow connection is closed");
    assert!(closed_within(idle).await, "the idle connection is closed");
    assert_eq!(third.await.unwrap().unwrap().status(), StatusCode::OK);
}

/// Guesses from behind the district's reverse proxy: with the proxy trusted, each client is
/// limited by the address the proxy saw; from anyone else the header changes nothing.
#[tokio::test]
async fn behind_a_trusted_proxy_guesses_are_limited_per_forwarded_address() {
    async fn guesses(app: &TestApp, forwarded_for: &str, n: usize) -> Vec<StatusCode> {
        let mut statuses = Vec::new();
        for _ in 0..n {
            let body =
                json!({"code": "AAAA-BBBB", "device_id": Uuid::now_v7(), "device_name": "HP"});
            let r = app
                .client
                .post(app.url("/api/v1/devices/enroll"))
                .header("x-forwarded-for", forwarded_for)
                .json(&body)
                .send()
                .await
                .unwrap();
            statuses.push(r.status());
        }
        statuses
    }
    let proxied =
        TestApp::spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let first = guesses(&proxied, "198.51.100.1", 11).await;
    assert_eq!(first[10], StatusCode::TOO_MANY_REQUESTS, "{first:?}");
    // Another phone behind the same proxy is not held back by the first one's guesses.
    assert_eq!(
        guesses(&proxied, "198.51.100.2", 1).await,
        [StatusCode::UNAUTHORIZED]
    );

    // The same header from a client that is no trusted proxy: one address, one limit.
    let direct = TestApp::spawn().await;
    assert!(
        guesses(&direct, "198.51.100.1", 10)
            .await
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        guesses(&direct, "198.51.100.2", 1).await,
        [StatusCode::TOO_MANY_REQUESTS]
    );
}
