//! The supervisors' pages in a real headless Chromium: `tests/browser/supervisor.mjs`, run by
//! Node with playwright-core against a real `verivali-server demo` process whose phones sync in
//! the background. The script signs in, checks the dashboard against the JSON report, drills down
//! to a village, switches language, resolves a conflict from the visits side by side, returns a
//! visit, merges a suspected duplicate pair, approves a selection of visits, checks masking on
//! every page, 403 and reading without JavaScript, and saves screenshots. Two more of the
//! district's people, added by the CLI while the server runs, sign in too: a viewer, who finds
//! no decision form and no export and is refused one, and an admin, who reads, filters and
//! downloads the audit log, where the reviewer's decisions stand. Then this test lets the returned visit's
//! phone sync and finds the supervisor's comment in its inbox.
//!
//! Needs `VERIVALI_PLAYWRIGHT_DIR` (set by scripts/test-all.sh, from scripts/browser-deps.sh).

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use verivali_core::store::Store;
use verivali_core::sync::{self, SyncConfig};

#[test]
fn a_supervisor_reviews_in_a_real_browser_and_the_phone_hears_of_it() {
    let playwright = std::env::var("VERIVALI_PLAYWRIGHT_DIR").expect(
        "VERIVALI_PLAYWRIGHT_DIR is not set: run ./scripts/test-all.sh, or export the directory scripts/browser-deps.sh prints",
    );
    let dir = tempfile::TempDir::new().unwrap();
    let demo = verivali_e2e::DemoProcess::start(dir.path(), 20);
    let (url, token) = (demo.url.clone(), demo.token.clone());

    // The demo phones play their cases (a conflict among them) and finish.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let overview: Value = verivali_e2e::http()
            .get(format!("{url}/api/v1/reports/overview"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        if overview["queues"]["conflicts"] == 1
            && overview["progress"]["total"]["visited"].as_u64() >= Some(100)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the demo phones did not play: {overview}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // The data team's people: an admin of the kabupaten, and a camat's office that only reads.
    let team_password = "Data-tim-Lahat-2026";
    verivali_e2e::add_supervisor_by_cli(dir.path(), "admin-data", team_password, "16.04", "admin");
    verivali_e2e::add_supervisor_by_cli(dir.path(), "camat", team_password, "16.04.01", "viewer");

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let output = Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/supervisor.mjs"))
        .env("BASE_URL", &url)
        .env("LOGIN", &demo.login)
        .env("PASSWORD", &demo.password)
        .env("TOKEN", &token)
        .env("ADMIN_LOGIN", "admin-data")
        .env("VIEWER_LOGIN", "camat")
        .env("TEAM_PASSWORD", team_password)
        .env("OUT_DIR", &shots)
        .env("PLAYWRIGHT_DIR", &playwright)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "browser checks failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for shot in [
        "dashboard.png",
        "household.png",
        "duplicate.png",
        "visits.png",
        "audit.png",
    ] {
        assert!(
            shots.join(shot).metadata().unwrap().len() > 10_000,
            "{shot}"
        );
    }

    // The returned visit's phone hears of it at its next sync, with the comment typed in the page.
    let returned = stdout.split("RETURNED ").nth(1).unwrap();
    let visit = returned.split_whitespace().nth(1).unwrap();
    let detail: Value = verivali_e2e::http()
        .get(format!(
            "{url}/api/v1/households/{}",
            returned.split_whitespace().next().unwrap()
        ))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let enumerator = detail["visits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["visit_id"] == visit)
        .unwrap()["enumerator_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let store = Store::open(
        dir.path()
            .join("demo-phones")
            .join(format!("{enumerator}.db")),
    )
    .unwrap();
    sync::install_tls_provider();
    sync::sync(&SyncConfig::new(&url), &store, &()).unwrap();
    let inbox = store.inbox().unwrap();
    assert!(
        inbox
            .iter()
            .any(|i| i.review.comment.as_deref() == Some("Foto rumah kurang jelas, mohon ulangi")),
        "the return did not reach the phone"
    );
}
