//! `verivali-server demo` as a newcomer runs it: its own phones sync in the background over real
//! HTTP, and the cases a supervisor must see arrive (a conflict, a slow clock, a visit finished in
//! an area taken away), and the supervisor it prints signs in.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use serde_json::Value;

#[test]
fn the_demo_district_lives_and_its_supervisor_signs_in() {
    let dir = tempfile::TempDir::new().unwrap();
    let demo = verivali_e2e::DemoProcess::start(dir.path(), 20);
    let (url, login, password, token) = (&demo.url, &demo.login, &demo.password, &demo.token);
    let http = verivali_e2e::http();

    // Within a minute the phones have visited, and the three cases are on the server.
    let deadline = Instant::now() + Duration::from_secs(60);
    let overview = loop {
        let overview: Value = http
            .get(format!("{url}/api/v1/reports/overview"))
            .bearer_auth(token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let flagged: Value = http
            .get(format!("{url}/api/v1/households?flagged=true&limit=1000"))
            .bearer_auth(token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let visited = overview["progress"]["total"]["visited"].as_u64().unwrap();
        if overview["queues"]["conflicts"] == 1 && visited >= 100 || Instant::now() > deadline {
            break (overview, flagged);
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let (overview, flagged) = overview;
    assert_eq!(overview["queues"]["conflicts"], 1, "{overview}");
    assert!(overview["progress"]["total"]["visited"].as_u64().unwrap() >= 100);
    assert_eq!(overview["enumerators_active_today"], 4);
    let mut flags = std::collections::BTreeSet::new();
    for h in flagged["households"].as_array().unwrap() {
        let detail: Value = http
            .get(format!(
                "{url}/api/v1/households/{}",
                h["household_id"].as_str().unwrap()
            ))
            .bearer_auth(token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        for v in detail["visits"].as_array().unwrap() {
            for f in v["flags"].as_array().unwrap() {
                flags.insert(f.as_str().unwrap().to_owned());
            }
        }
    }
    assert!(
        flags.contains("CLOCK_SKEW") && flags.contains("LEFT_AREA"),
        "{flags:?}"
    );

    // The printed supervisor signs in from the browser's form.
    let no_redirects = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed_in = no_redirects
        .post(format!("{url}/signin"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("login={login}&password={password}"))
        .send()
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    assert!(
        signed_in.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("verivali_session=")
    );
}
