use reqwest::StatusCode;
use serde_json::{Value, json};
use verivali_core::model::{Code, RegionCode};
use verivali_server::roles::Role;
use verivali_server::{admin, sessions};

use crate::helpers::{TestApp, VILLAGE_A};

const PASSWORD: &str = "Lahat-verval-2026";

async fn sign_in(app: &TestApp, login: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/session"))
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn with_cookie(app: &TestApp, cookie: &str, path: &str) -> StatusCode {
    app.client
        .get(app.url(path))
        .header("cookie", format!("{}={cookie}", sessions::COOKIE))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_supervisor_signs_in_with_a_password_and_the_cookie_works_until_signed_out() {
    let app = TestApp::spawn().await;
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let region = RegionCode::parse(VILLAGE_A).unwrap();
        let (id, _) = admin::add_supervisor(&db, "Siti", region, Role::Reviewer).unwrap();
        let weak = sessions::set_password(&db, id, "siti.bappeda", "pendek");
        assert!(matches!(weak, Err(sessions::SessionError::WeakPassword)));
        sessions::set_password(&db, id, "Siti.Bappeda", PASSWORD).unwrap();
    })
    .await
    .unwrap();

    // Wrong password and unknown name: the same answer.
    for (login, password) in [("siti.bappeda", "salah-sekali-kata"), ("budi", PASSWORD)] {
        let response = sign_in(&app, login, password).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "AUTH-03");
    }

    // The login name in any case; the cookie is out of scripts' and other sites' reach.
    let response = sign_in(&app, "SITI.BAPPEDA", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for part in ["HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(set_cookie.contains(part), "{set_cookie}");
    }
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["region"], VILLAGE_A);
    let token = set_cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, token)| token.to_owned())
        .unwrap();

    // The cookie opens the supervisor API, within the supervisor's region only.
    let households = format!("/api/v1/households?region={VILLAGE_A}");
    assert_eq!(with_cookie(&app, &token, &households).await, StatusCode::OK);
    let elsewhere = "/api/v1/households?region=16.04.01.2002";
    assert_eq!(
        with_cookie(&app, &token, elsewhere).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        with_cookie(&app, "tebakan", &households).await,
        StatusCode::UNAUTHORIZED
    );

    // Signed out: the cookie is dead.
    let out = app
        .client
        .delete(app.url("/api/v1/session"))
        .header("cookie", format!("{}={token}", sessions::COOKIE))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        with_cookie(&app, &token, &households).await,
        StatusCode::UNAUTHORIZED
    );

    // A session past its time is dead too.
    let again = sign_in(&app, "siti.bappeda", PASSWORD).await;
    let again = again.headers()["set-cookie"].to_str().unwrap().to_owned();
    let again = again
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    app.db
        .write_blocking(|tx| tx.execute("UPDATE sessions SET expires_at = 0", &[]))
        .unwrap();
    assert_eq!(
        with_cookie(&app, &again, &households).await,
        StatusCode::UNAUTHORIZED
    );

    // Guessing is slowed down: failures per address are limited.
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(
            sign_in(&app, "siti.bappeda", "tebak-tebak-saja")
                .await
                .status(),
        );
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // No password in the audit log.
    let audit = app.audit();
    assert!(audit.iter().any(|a| a.starts_with("session:start")));
    assert!(audit.iter().all(|a| !a.contains(PASSWORD)));
}

/// Guesses sent all at once are counted as they arrive, not after the password check: of 60
/// wrong passwords for one login at once, 10 are checked and the rest get 429, while the
/// server's health answers. The limit is per login: a colleague behind the same office address
/// still signs in.
#[tokio::test]
async fn guesses_sent_at_once_are_limited_per_login_and_colleagues_still_sign_in() {
    let app = TestApp::spawn().await;
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let region = RegionCode::parse(VILLAGE_A).unwrap();
        for (name, login) in [("Siti", "siti"), ("Budi", "budi")] {
            let (id, _) = admin::add_supervisor(&db, name, region.clone(), Role::Reviewer).unwrap();
            sessions::set_password(&db, id, login, PASSWORD).unwrap();
        }
    })
    .await
    .unwrap();
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..60 {
        let (client, url) = (app.client.clone(), app.url("/api/v1/session"));
        flood.spawn(async move {
            let guess = json!({"login": "siti", "password": "tebak-tebak-saja"});
            client.post(url).json(&guess).send().await.unwrap().status()
        });
    }
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let statuses = flood.join_all().await;
    let count = |status: StatusCode| statuses.iter().filter(|&&s| s == status).count();
    assert_eq!(count(StatusCode::UNAUTHORIZED), 10);
    assert_eq!(count(StatusCode::TOO_MANY_REQUESTS), 50);
    // Each failed sign-in is audited with the address and the login tried.
    let failed = app
        .audit()
        .iter()
        .filter(|a| a.starts_with("session:failed"))
        .count();
    assert_eq!(failed, 10);
    // Siti herself waits out the minute; Budi, behind the same address, does not.
    assert_eq!(
        sign_in(&app, "siti", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        sign_in(&app, "budi", PASSWORD).await.status(),
        StatusCode::OK
    );
}
