//! The core's sync client against a real server process: enroll, pull, record, sync; a rejected
//! visit back among the drafts; photos uploaded; a phone enrolled again after a revocation.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;
use verivali_core::model::*;
use verivali_core::store::{OutboxState, Store};
use verivali_core::sync::{self, Phase, Progress, SyncConfig, SyncError};
use verivali_e2e::{ServerProcess, record_visit, record_visit_with_photo, seed};

/// Patience for tests: quick retries.
fn config(url: &str) -> SyncConfig {
    SyncConfig {
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        push_batch: 25,
        pull_limit: 40,
        ..SyncConfig::new(url)
    }
}

#[derive(Default)]
struct Recorded(Mutex<Vec<(Phase, u64, u64)>>);

impl Progress for Recorded {
    fn update(&self, phase: Phase, done: u64, total: u64) {
        self.0.lock().unwrap().push((phase, done, total));
    }
}

/// The server's view of a household, through the supervisor API.
fn detail(server: &ServerProcess, token: &str, id: HouseholdId) -> Value {
    verivali_e2e::http()
        .get(format!("{}/api/v1/households/{id}", server.url()))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap()
}

#[test]
fn a_phone_enrolls_pulls_records_and_syncs() {
    let dir = TempDir::new().unwrap();
    let district = seed(&dir.path().join("server"), 2, 90);
    let server = ServerProcess::start(&dir.path().join("server"));
    let store = Store::open(
        dir.path().join("phone.db"),
        &verivali_core::sample::store_key(),
    )
    .unwrap();
    let config = config(&server.url());

    // A mistyped code is refused with the server's code and both messages; nothing is kept.
    let Err(wrong) = sync::enroll(&config, &store, "SALAH-KODE", "HP Ani") else {
        panic!("a wrong code enrolled")
    };
    let (code, message_id, message_en) = wrong.describe();
    assert_eq!(code, "ENR-01");
    assert!(!message_id.is_empty() && !message_en.is_empty());
    assert!(store.enrollment().unwrap().is_none());
    assert!(matches!(
        sync::sync(&config, &store, &()),
        Err(SyncError::NotEnrolled)
    ));

    let enrollment = sync::enroll(&config, &store, &district.codes[0], "HP Ani").unwrap();
    assert_eq!(enrollment.areas[0].region, district.villages[0]);

    // The first sync brings the 90 households of the enumerator's village, in pages of 40.
    let progress = Recorded::default();
    let first = sync::sync(&config, &store, &progress).unwrap();
    assert_eq!(first.households_pulled, 90);
    assert_eq!(store.household_count().unwrap(), 90);
    let pulls: Vec<(u64, u64)> = progress
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|(p, ..)| *p == Phase::Pull)
        .map(|&(_, d, t)| (d, t))
        .collect();
    assert_eq!(pulls.last(), Some(&(90, 90)));
    assert!(pulls.iter().any(|&(d, t)| d == 40 && t == 90), "{pulls:?}");

    // Visits, one with a photo of the house.
    let households = &district.households[0];
    let mut ids = Vec::new();
    for (n, h) in households.iter().take(30).enumerate() {
        ids.push(record_visit(&store, h, n as u64));
    }
    ids.push(record_visit_with_photo(
        &store,
        &households[30],
        30,
        Some(&vec![7u8; 300_000]),
    ));
    let photo = store.visit(ids[30]).unwrap().unwrap().photos[0]
        .sha256
        .clone();

    let progress = Recorded::default();
    let summary = sync::sync(&config, &store, &progress).unwrap();
    assert_eq!(summary.accepted, 31);
    assert_eq!(summary.duplicates, 0);
    assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
    assert_eq!(summary.photos_sent, 1);
    assert_eq!(store.pending_count().unwrap(), 0);
    assert!(store.unsent_attachments().unwrap().is_empty());
    // The merged states come back: the visited households are no longer "not visited".
    assert_eq!(summary.households_pulled, 31);
    let pushes: Vec<_> = progress
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|(p, ..)| *p == Phase::Push)
        .map(|&(_, d, t)| (d, t))
        .collect();
    assert_eq!(pushes, vec![(0, 31), (25, 31), (31, 31)]);

    // On the server: each visit merged into its household, the photo whole.
    for (h, id) in households.iter().zip(&ids) {
        let d = detail(&server, &district.supervisor_token, h.household_id);
        let used: BTreeSet<String> = d["state"]["visits_used"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(used, BTreeSet::from([id.to_string()]));
    }
    let head = verivali_e2e::http()
        .head(format!("{}/api/v1/attachments/{photo}", server.url()))
        .bearer_auth(store.enrollment().unwrap().unwrap().token)
        .send()
        .unwrap();
    assert_eq!(head.status(), 200);

    // Nothing new: a sync sends and receives nothing.
    let again = sync::sync(&config, &store, &()).unwrap();
    assert_eq!((again.accepted, again.households_pulled), (0, 0));

    // Each sync says what the phone still holds: here a visit begun and not finished.
    store
        .start_visit(Some(households[40].household_id), Timestamp::now_utc())
        .unwrap();
    let config = SyncConfig {
        app_version: "1.4.2 (uji)".into(),
        ..config
    };
    sync::sync(&config, &store, &()).unwrap();
    let server_db = rusqlite::Connection::open_with_flags(
        dir.path().join("server/verivali.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let reported: (String, i64, i64, i64, i64) = server_db
        .query_row(
            "SELECT app_version, unsent_visits, unsent_photos, drafts, finished_seq FROM devices",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    // The pushes said how far the phone's numbering went: its 31 finished visits.
    assert_eq!(reported, ("1.4.2 (uji)".to_owned(), 0, 0, 1, 31));
}

#[test]
fn a_visit_the_server_rejects_comes_back_as_a_draft_with_the_reason() {
    let dir = TempDir::new().unwrap();
    let district = seed(&dir.path().join("server"), 2, 10);
    let server = ServerProcess::start(&dir.path().join("server"));
    let store = Store::open(
        dir.path().join("phone.db"),
        &verivali_core::sample::store_key(),
    )
    .unwrap();
    let config = config(&server.url());
    sync::enroll(&config, &store, &district.codes[0], "HP Ani").unwrap();
    sync::sync(&config, &store, &()).unwrap();

    // A new household proposed in the other village, outside this enumerator's area: the phone
    // cannot know the areas of every village, the server can.
    let good = record_visit(&store, &district.households[0][0], 0);
    let draft = store
        .start_visit(
            None,
            Timestamp(Timestamp::now_utc().0 - time::Duration::minutes(20)),
        )
        .unwrap();
    let mut outside = draft.clone();
    outside.outcome = Some(Outcome::NobodyHome);
    outside.proposal = Some(HouseholdProposal {
        region: district.villages[1].clone(),
        rw: Some(Entered::from_input("1")),
        rt: Some(Entered::from_input("1")),
        address: "Dusun 3".into(),
        head_name: "Sumarni".into(),
    });
    store.save_draft(&outside).unwrap();
    store
        .finish_visit(outside.visit_id, Timestamp::now_utc(), None)
        .unwrap();

    let summary = sync::sync(&config, &store, &()).unwrap();
    assert_eq!(summary.accepted, 1);
    assert_eq!(summary.rejected.len(), 1);
    let rejected = &summary.rejected[0];
    assert_eq!(rejected.visit_id, outside.visit_id);
    let reason = &rejected.issues[0];
    assert!(!reason.message_id.is_empty() && !reason.message_en.is_empty());

    let outbox = store.outbox(10).unwrap();
    let line = outbox
        .iter()
        .find(|o| o.visit_id == outside.visit_id)
        .unwrap();
    assert_eq!(line.state, OutboxState::Rejected);
    let reopened = line.reopened_as.unwrap();
    assert_eq!(store.rejection_of(reopened).unwrap(), rejected.issues);
    assert_eq!(
        store.visit(reopened).unwrap().unwrap().proposal,
        outside.proposal
    );
    assert!(
        outbox
            .iter()
            .any(|o| o.visit_id == good && o.state == OutboxState::Accepted)
    );
    assert_eq!(store.pending_count().unwrap(), 0);
}

#[test]
fn a_revoked_phone_enrolled_again_keeps_its_identity_and_its_queue() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("server");
    let district = seed(&data, 1, 10);
    let mut server = ServerProcess::start(&data);
    let store = Store::open(
        dir.path().join("phone.db"),
        &verivali_core::sample::store_key(),
    )
    .unwrap();
    let config = config(&server.url());
    let first = sync::enroll(&config, &store, &district.codes[0], "HP Ani").unwrap();
    sync::sync(&config, &store, &()).unwrap();
    record_visit(&store, &district.households[0][0], 0);

    // The admin revokes the phone by mistake, then issues a new code for the same enumerator.
    server.kill();
    let db = verivali_server::db::Db::open(&data).unwrap();
    verivali_server::admin::revoke_device(&db, first.device_id).unwrap();
    let code =
        verivali_server::admin::enrollment_code(&db, first.enumerator_id, time::Duration::hours(1))
            .unwrap();
    db.close();
    server.restart();

    let refused = sync::sync(&config, &store, &()).unwrap_err();
    assert!(matches!(refused, SyncError::Unauthorized(_)), "{refused:?}");
    assert_eq!(store.pending_count().unwrap(), 1, "the queue waits");

    let second = sync::enroll(&config, &store, &code, "HP Ani").unwrap();
    assert_eq!(second.device_id, first.device_id);
    let summary = sync::sync(&config, &store, &()).unwrap();
    assert_eq!(summary.accepted, 1);
    assert_eq!(store.pending_count().unwrap(), 0);
}

#[test]
fn a_pinned_ca_that_is_not_a_certificate_is_refused_before_any_request() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(
        dir.path().join("phone.db"),
        &verivali_core::sample::store_key(),
    )
    .unwrap();
    let mut config = config("https://127.0.0.1:9");
    config.ca_certificate_pem =
        Some("-----BEGIN CERTIFICATE-----\nbukan\n-----END CERTIFICATE-----\n".into());
    let error = sync::enroll(&config, &store, "KODE", "HP").unwrap_err();
    assert!(matches!(error, SyncError::Config(_)), "{error:?}");
    assert_eq!(error.describe().0, "SYNC-CONFIG");
}

#[test]
fn an_app_older_than_the_servers_minimum_is_told_to_update_and_keeps_its_outbox() {
    let dir = TempDir::new().unwrap();
    let district = seed(&dir.path().join("server"), 1, 10);
    let server = ServerProcess::start_with(
        &dir.path().join("server"),
        &[("VERIVALI_MIN_APP_VERSION", "2.0.0")],
    );
    let store = Store::open(
        dir.path().join("phone.db"),
        &verivali_core::sample::store_key(),
    )
    .unwrap();
    let with_app = |version: &str| SyncConfig {
        app_version: version.into(),
        ..config(&server.url())
    };

    // Too old to enroll, with the server's code and both messages.
    let Err(old) = sync::enroll(&with_app("1.9.3"), &store, &district.codes[0], "HP Ani") else {
        panic!("an app older than the minimum enrolled")
    };
    assert!(matches!(old, SyncError::UpgradeRequired(_)), "{old:?}");
    let (code, message_id, message_en) = old.describe();
    assert_eq!(code, "APP-01");
    assert!(message_id.contains("perbarui") && message_en.contains("update"));

    sync::enroll(&with_app("2.0.0"), &store, &district.codes[0], "HP Ani").unwrap();
    sync::sync(&with_app("2.0.0"), &store, &()).unwrap();
    record_visit(&store, &district.households[0][0], 0);

    // The same phone with an older app (a reinstall of an old APK) is refused and keeps the visit.
    let refused = sync::sync(&with_app("1.9.3"), &store, &());
    assert!(
        matches!(refused, Err(SyncError::UpgradeRequired(_))),
        "{refused:?}"
    );
    assert_eq!(store.pending_count().unwrap(), 1);
    let updated = sync::sync(&with_app("2.1.0"), &store, &()).unwrap();
    assert_eq!(updated.accepted, 1);
    assert_eq!(store.pending_count().unwrap(), 0);
}
