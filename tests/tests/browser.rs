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
//! Then `tests/browser/data_team.mjs` drives the admin's pages: an enumerator added with an area
//! and an enrollment code whose QR payload a new phone here enrolls with; a DTKS list imported
//! through the column page with its report and XLSX, a failed import that stores nothing, and a
//! newer list whose left-out family is removed from the queue. That phone works without a signal
//! and exports a bundle, which the admin imports in the page.
//!
//! Needs `VERIVALI_PLAYWRIGHT_DIR` (set by scripts/test-all.sh, from scripts/browser-deps.sh).

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use verivali_core::model::{HouseholdId, Timestamp};
use verivali_core::protocol::EnrollmentPayload;
use verivali_core::store::Store;
use verivali_core::sync::{self, SyncConfig};

/// Runs a browser script with the server's address and the district's people; its printed lines.
fn run_script(script: &str, url: &str, env: &[(&str, &str)]) -> String {
    let output = Command::new("node")
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("browser")
                .join(script),
        )
        .env("BASE_URL", url)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    println!("{stdout}");
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The word after `marker` in a script's output.
fn printed<'a>(stdout: &'a str, marker: &str) -> &'a str {
    stdout
        .split(marker)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{marker} not printed"))
}

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
    let shots_dir = shots.to_str().unwrap();
    let common = [
        ("TOKEN", token.as_str()),
        ("ADMIN_LOGIN", "admin-data"),
        ("VIEWER_LOGIN", "camat"),
        ("TEAM_PASSWORD", team_password),
        ("OUT_DIR", shots_dir),
        ("PLAYWRIGHT_DIR", playwright.as_str()),
    ];
    let mut env = common.to_vec();
    env.extend([
        ("LOGIN", demo.login.as_str()),
        ("PASSWORD", demo.password.as_str()),
    ]);
    let stdout = run_script("supervisor.mjs", &url, &env);
    data_team(&url, &token, &common, dir.path());
    for shot in [
        "dashboard.png",
        "household.png",
        "duplicate.png",
        "visits.png",
        "audit.png",
        "enrollment-code.png",
        "import-report.png",
        "bundle.png",
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
        &verivali_core::sample::store_key(),
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

/// The admin's pages (data_team.mjs), and a phone enrolled from the QR payload they show, whose
/// bundle they import.
fn data_team(url: &str, token: &str, common: &[(&str, &str)], dir: &Path) {
    let mut env = common.to_vec();
    env.push(("PHASE", "team"));
    let stdout = run_script("data_team.mjs", url, &env);

    // The new enumerator's phone scans the code, takes its households, and works without a
    // signal: two visits, one with a photo, carried out as a bundle.
    let payload = EnrollmentPayload::parse(printed(&stdout, "ENROLL ")).unwrap();
    assert_eq!(
        payload.server, url,
        "the QR code names the server the admin reached"
    );
    let store = Store::open(dir.join("rina.db"), &verivali_core::sample::store_key()).unwrap();
    let config = SyncConfig::new(&payload.server);
    sync::enroll(&config, &store, &payload.code, "HP Rina").unwrap();
    sync::sync(&config, &store, &()).unwrap();
    let village = printed(&stdout, "VILLAGE ");
    let list: Value = verivali_e2e::http()
        .get(format!("{url}/api/v1/households?region={village}&limit=2"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    for (n, line) in list["households"].as_array().unwrap().iter().enumerate() {
        let id = HouseholdId::parse(line["household_id"].as_str().unwrap()).unwrap();
        let household = store.household(id).unwrap().unwrap().state.household;
        let photo = (n == 0).then(|| b"foto rumah Rina ".repeat(5_000));
        verivali_e2e::record_visit_with_photo(&store, &household, n as u64, photo.as_deref());
    }
    let bundle = dir.join("hp-rina.bundle");
    let written = verivali_core::bundle::export(&store, &bundle, Timestamp::now_utc()).unwrap();
    assert_eq!((written.visits, written.photos), (2, 1));

    let mut env = common.to_vec();
    let bundle = bundle.to_str().unwrap();
    env.extend([("PHASE", "bundle"), ("BUNDLE", bundle)]);
    let stdout = run_script("data_team.mjs", url, &env);
    assert!(
        stdout.contains("BUNDLE stored=2 held=0 photos=1"),
        "the bundle's visits are stored: {stdout}"
    );
}
