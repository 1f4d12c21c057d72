//! Bundles (DESIGN §7) from a real phone store to a real server: imported with the CLI and through
//! `POST /api/v1/bundles`, twice, then pushed: each visit is stored once. An altered bundle stores
//! nothing; a supervisor of another region may not import.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;
use verivali_server::roles::Role;

use serde_json::Value;
use tempfile::TempDir;
use verivali_core::bundle;
use verivali_core::model::{Code, RegionCode, Timestamp};
use verivali_core::store::Store;
use verivali_core::sync::{self, SyncConfig};
use verivali_e2e::{ServerProcess, held, http, record_visit_with_photo, seed, server_binary};
use verivali_server::{admin, db::Db};

fn config(url: &str) -> SyncConfig {
    SyncConfig {
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        ..SyncConfig::new(url)
    }
}

/// `POST /api/v1/bundles` as a supervisor: the status and the JSON answer.
fn post(server: &ServerProcess, token: &str, file: Vec<u8>) -> (u16, Value) {
    let response = http()
        .post(format!("{}/api/v1/bundles", server.url()))
        .bearer_auth(token)
        .body(file)
        .send()
        .unwrap();
    (response.status().as_u16(), response.json().unwrap())
}

/// The bundle with its first visit's outcome changed by hand.
fn altered(file: &[u8]) -> Vec<u8> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap();
    let text = text.replacen("\"FOUND\"", "\"NOBODY_HOME\"", 1);
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), Default::default());
    gzip.write_all(text.as_bytes()).unwrap();
    gzip.finish().unwrap()
}

#[test]
fn a_bundle_imported_twice_and_then_pushed_stores_each_visit_once() {
    let dir = TempDir::new().unwrap();
    let data_dir = dir.path().join("server");
    let district = seed(&data_dir, 2, 40);
    let db = Db::open(&data_dir).unwrap();
    let (_, elsewhere) = admin::add_supervisor(
        &db,
        "Kab. lain",
        RegionCode::parse("16.05").unwrap(),
        Role::Admin,
    )
    .unwrap();
    db.close();
    let server = ServerProcess::start(&data_dir);

    // A phone with no signal after its first sync: 30 visits, two with a photo.
    let store = Store::open(
        dir.path().join("phone.db"),
        &verivali_core::sample::store_key(),
    )
    .unwrap();
    let config = config(&server.url());
    sync::enroll(&config, &store, &district.codes[0], "HP Ani").unwrap();
    sync::sync(&config, &store, &()).unwrap();
    let households = &district.households[0];
    for (n, h) in households.iter().take(30).enumerate() {
        let photo = (n >= 28).then(|| format!("foto rumah {n}").repeat(10_000).into_bytes());
        record_visit_with_photo(&store, h, n as u64, photo.as_deref());
    }
    let path = dir.path().join("hp-ani.bundle");
    let written = bundle::export(&store, &path, Timestamp::now_utc()).unwrap();
    assert_eq!((written.visits, written.photos), (30, 2));
    let file = std::fs::read(&path).unwrap();

    // Altered on the way: refused whole, with a code and both messages.
    let (status, body) = post(&server, &district.supervisor_token, altered(&file));
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "BDL-02");
    assert!(body["message_id"].as_str().unwrap().contains("diubah"));
    let (status, body) = post(
        &server,
        &district.supervisor_token,
        b"bukan bundel".to_vec(),
    );
    assert_eq!((status, body["code"].as_str()), (400, Some("BDL-01")));

    // A supervisor of another regency may not import this enumerator's work.
    let (status, _) = post(&server, &elsewhere, file.clone());
    assert_eq!(status, 403);

    // The district's data team imports it with the CLI: every visit and photo stored.
    let output = Command::new(server_binary())
        .arg("import-bundle")
        .arg(&path)
        .arg("--data-dir")
        .arg(&data_dir)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        printed.contains("30 visits: 30 stored, 0 already here, 0 rejected; 2 photos"),
        "{printed}"
    );

    // Imported again in the browser: nothing new.
    let (status, report) = post(&server, &district.supervisor_token, file);
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (
            &report["accepted"],
            &report["duplicates"],
            &report["rejected"]
        ),
        (&Value::from(0), &Value::from(30), &Value::Array(vec![]))
    );

    // The phone finds signal: every visit is answered "already received", no photo goes again.
    let summary = sync::sync(&config, &store, &()).unwrap();
    assert_eq!((summary.accepted, summary.duplicates), (0, 30));
    assert_eq!(summary.photos_sent, 0);
    assert_eq!(store.pending_count().unwrap(), 0);
    assert!(store.unsent_attachments().unwrap().is_empty());

    drop(server);
    let held = held(&data_dir);
    let ids: Vec<String> = store
        .outbox(100)
        .unwrap()
        .iter()
        .map(|e| e.visit_id.to_string())
        .collect();
    assert_eq!(held.visits.len(), 30);
    assert!(ids.iter().all(|id| held.visits.contains_key(id)));
    assert_eq!(held.photos.len(), 2);
}
