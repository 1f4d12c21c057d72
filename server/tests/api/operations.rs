//! What a district's IT officer watches (issue 17, item 5): `/metrics` for allowed addresses
//! only, counting pushes and visits; `/healthz` and the dashboard when the disk is nearly full.

use reqwest::StatusCode;
use reqwest::redirect::Policy;
use verivali_server::roles::Role;

use crate::helpers::{TestApp, VILLAGE_A, assert_all_accepted};
use crate::pages::{page, signed_in_as};

/// The value of a sample line (`name{labels} value`) of the metrics text.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn metrics(app: &TestApp) -> (StatusCode, String) {
    let response = reqwest::get(app.url("/metrics")).await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn metrics_count_pushes_and_visits_and_tell_the_disk_and_the_writer() {
    let app = TestApp::spawn().await;
    let (status, before) = metrics(&app).await;
    assert_eq!(status, StatusCode::OK);
    let accepted = "verivali_visits_total{result=\"accepted\"}";
    let pushes = sample(&before, "verivali_pushes_total").unwrap_or(0.0);
    let visits = sample(&before, accepted).unwrap_or(0.0);

    let mut phone = app.phone(&[VILLAGE_A]).await;
    let sent = [phone.visit(0, 30), phone.visit(1, 20)];
    assert_all_accepted(&app.push(&phone, &sent).await);
    let (_, after) = metrics(&app).await;
    // Counters are the process's: other tests run beside this one, so at least these.
    assert!(
        sample(&after, "verivali_pushes_total").unwrap() >= pushes + 1.0,
        "{after}"
    );
    assert!(sample(&after, accepted).unwrap() >= visits + 2.0, "{after}");
    assert!(sample(&after, "verivali_disk_free_bytes").unwrap() > 0.0);
    assert_eq!(sample(&after, "verivali_writer_queue_depth"), Some(0.0));
    assert_eq!(sample(&after, "verivali_devices_synced_today"), Some(1.0));
    assert!(sample(&after, "verivali_wal_bytes").is_some());
    assert!(after.contains("verivali_fsync_duration_seconds_count"));
    let timed = "verivali_request_duration_seconds_count{kind=\"push\"}";
    assert!(sample(&after, timed).unwrap() >= 1.0, "{after}");
    assert!(after.ends_with("# EOF\n"));
}

#[tokio::test]
async fn metrics_are_refused_to_addresses_not_allowed() {
    let app = TestApp::spawn_with(|c| c.metrics_from = vec!["10.20.0.0/16".parse().unwrap()]).await;
    let (status, body) = metrics(&app).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body.contains("OPS-03") && !body.contains("verivali_"),
        "{body}"
    );
}

#[tokio::test]
async fn a_nearly_full_disk_makes_the_server_unhealthy_and_the_dashboard_warn() {
    let healthy = TestApp::spawn().await;
    let ok = reqwest::get(healthy.url("/healthz")).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);

    // A threshold above any disk's free space.
    let app = TestApp::spawn_with(|c| c.disk_warn_mib = u64::MAX >> 21).await;
    let unhealthy = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(unhealthy.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = unhealthy.text().await.unwrap();
    assert!(
        body.contains("OPS-01") && body.contains("hampir habis"),
        "{body}"
    );

    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let cookie = signed_in_as(&app, &client, "tkpk", Role::Viewer, "16.04").await;
    let (status, html) = page(&client, &app, &cookie, "/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("data-disk-low=") && html.contains("Ruang disk server hampir habis"),
        "{html}"
    );
    let (_, calm) = page(
        &client,
        &healthy,
        &signed_in_as(&healthy, &client, "tkpk", Role::Viewer, "16.04").await,
        "/dashboard",
    )
    .await;
    assert!(!calm.contains("data-disk-low="));
}

#[tokio::test]
async fn the_server_backs_itself_up_on_a_schedule_and_keeps_the_newest() {
    if crate::helpers::on_postgres() {
        // The SQLite engine's own backups; PostgreSQL is backed up by its tools.
        return;
    }
    let backups = tempfile::TempDir::new().unwrap();
    let to = backups.path().to_path_buf();
    let app = TestApp::spawn_with(|c| {
        // Shorter than the command line allows (a minute), for the test's sake.
        c.backup_every = Some(std::time::Duration::from_millis(300));
        c.backup_to = Some(to);
        c.backup_keep = 2;
    })
    .await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let visit = phone.visit(0, 30);
    assert_all_accepted(&app.push(&phone, &[visit]).await);
    let taken = || {
        let mut names: Vec<_> = std::fs::read_dir(backups.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("verivali-backup-") && !n.ends_with(".partial"))
            .collect();
        names.sort();
        names
    };
    let started = std::time::Instant::now();
    // Several turns: two kept (a third may be seen for a moment, between a backup and its pruning).
    while taken().len() != 2 || started.elapsed() < std::time::Duration::from_secs(2) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            taken()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // The newest is whole and holds the visit.
    let names = taken();
    let newest = backups.path().join(names.last().unwrap());
    let (_, manifest) = verivali_server::backup::verify(&newest).unwrap();
    assert_eq!(manifest.counts.visits, 1);
}
