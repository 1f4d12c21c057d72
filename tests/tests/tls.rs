//! A district server that holds its own certificate (issue 17, item 4): `serve --tls-cert
//! --tls-key`. A phone that trusts the district's CA (as `PhoneConfig.ca_certificate_pem` lets it)
//! enrolls and syncs over TLS; a phone trusting another CA is refused. The certificate files are
//! then replaced by a pair from another CA, as a renewal would: the same server process, never
//! restarted, serves the new certificate within seconds. The pairs are fixtures made with openssl
//! (`tests/fixtures/tls`, valid for a century, for `localhost` and 127.0.0.1).

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use tempfile::TempDir;
use verivali_core::store::Store;
use verivali_core::sync::{self, SyncConfig, SyncError};
use verivali_e2e::{ServerProcess, seed};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/tls")
            .join(name),
    )
    .unwrap()
}

fn trusting(url: &str, ca: &str) -> SyncConfig {
    SyncConfig {
        ca_certificate_pem: Some(fixture(ca)),
        attempts: 1,
        ..SyncConfig::new(url)
    }
}

#[test]
fn a_phone_syncs_over_tls_and_a_renewed_certificate_is_served_without_a_restart() {
    let dir = TempDir::new().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, fixture("server-a.pem")).unwrap();
    std::fs::write(&key, fixture("server-a.key")).unwrap();
    let district = seed(&dir.path().join("server"), 1, 12);
    let server = ServerProcess::start_with(
        &dir.path().join("server"),
        &[
            ("VERIVALI_TLS_CERT", cert.to_str().unwrap()),
            ("VERIVALI_TLS_KEY", key.to_str().unwrap()),
            ("VERIVALI_TLS_RECHECK_SECS", "1"),
        ],
    );
    let url = server.url();
    assert!(url.starts_with("https://"), "{url}");

    let store = Store::open(
        dir.path().join("phone.db"),
        &verivali_core::sample::store_key(),
    )
    .unwrap();
    let district_ca = trusting(&url, "ca-a.pem");
    sync::enroll(&district_ca, &store, &district.codes[0], "HP TLS").unwrap();
    let synced = sync::sync(&district_ca, &store, &()).unwrap();
    assert_eq!(synced.households_pulled, 12);
    let stranger = sync::sync(&trusting(&url, "ca-b.pem"), &store, &());
    assert!(
        matches!(stranger, Err(SyncError::Network(_))),
        "{stranger:?}"
    );
    // Plain HTTP on the TLS port gets no answer.
    let plain = sync::sync(
        &SyncConfig {
            attempts: 1,
            ..SyncConfig::new(url.replacen("https", "http", 1))
        },
        &store,
        &(),
    );
    assert!(plain.is_err());

    // The renewal: another CA's pair, key first, as a renewal tool writes them.
    std::fs::write(&key, fixture("server-b.key")).unwrap();
    std::fs::write(&cert, fixture("server-b.pem")).unwrap();
    let renewed = trusting(&url, "ca-b.pem");
    let started = Instant::now();
    while sync::sync(&renewed, &store, &()).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the renewed certificate was never served"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let old = sync::sync(&district_ca, &store, &());
    assert!(matches!(old, Err(SyncError::Network(_))), "{old:?}");
}
