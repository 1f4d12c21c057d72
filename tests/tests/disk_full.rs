//! A district server whose disk fills (issue 17, item 6), on a real small file system: a 48 MiB
//! tmpfs mounted for the test (it needs root, as on CI; elsewhere it says so and stops). Two
//! phones, each a process with its own store outside it, finish visits with photos; the tmpfs is
//! then filled to the last byte. A push is answered 503 `OPS-04` in both languages, `/healthz`
//! 503 `OPS-01`, and the phone keeps every visit. Space returns; the same server process takes
//! the phones' syncs and ends with every visit stored exactly once and every photo whole.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use tempfile::TempDir;
use verivali_core::store::Store;
use verivali_core::sync::{self, SyncConfig, SyncError};
use verivali_e2e::{ServerProcess, held, http, phone_sim, phone_store, seed, wait_all};

const PHONES: usize = 2;
const VISITS: u64 = 120;

/// The tmpfs, unmounted when the test ends however it ends.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size_mib: u32) -> Option<Self> {
        std::fs::create_dir_all(at).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(at)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then(|| Self(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn phone(args: &[&str]) -> Child {
    phone_sim(args).stdout(Stdio::null()).spawn().unwrap()
}

/// Writes a file until the file system refuses a single byte more.
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).unwrap();
    for chunk in [1 << 20, 4096, 1] {
        let bytes = vec![0x5a_u8; chunk];
        while file.write_all(&bytes).is_ok() {}
    }
    let _ = file.sync_all();
}

#[test]
fn a_full_disk_refuses_pushes_with_a_code_loses_nothing_and_recovers_when_space_returns() {
    let dir = TempDir::new().unwrap();
    let Some(small) = Tmpfs::mount(&dir.path().join("small"), 48) else {
        eprintln!(
            "disk_full: skipped, this machine does not let the test mount a tmpfs (root needed)"
        );
        return;
    };
    let (data, phones) = (small.0.join("server"), dir.path().join("phones"));
    let district = seed(&data, PHONES, 60);
    let server = ServerProcess::start_with(&data, &[("VERIVALI_DISK_WARN_MIB", "2")]);
    let visits = VISITS.to_string();
    wait_all(
        (0..PHONES)
            .map(|n| {
                let store = phone_store(&phones, n);
                phone(&["record", &store, &server.url(), &district.codes[n], &visits])
            })
            .collect(),
    );

    let ballast = small.0.join("ballast");
    fill(&ballast);
    let phone0 = Store::open(phone_store(&phones, 0), &verivali_core::sample::store_key()).unwrap();
    let waiting = phone0.pending_count().unwrap();
    assert_eq!(waiting, VISITS);
    let config = SyncConfig {
        attempts: 1,
        ..SyncConfig::new(server.url())
    };
    match sync::sync(&config, &phone0, &()) {
        Err(SyncError::Server {
            status: 503,
            body: Some(body),
        }) => {
            assert_eq!(body.code, "OPS-04");
            assert!(body.message_id.contains("penuh") && body.message_en.contains("full"));
        }
        other => panic!("a push to a full disk answered {other:?}"),
    }
    assert_eq!(
        phone0.pending_count().unwrap(),
        waiting,
        "the phone keeps every visit"
    );
    let health = http()
        .get(format!("{}/healthz", server.url()))
        .send()
        .unwrap();
    assert_eq!(health.status().as_u16(), 503);
    assert!(health.text().unwrap().contains("OPS-01"));

    // Space returns: the same process takes everything.
    std::fs::remove_file(&ballast).unwrap();
    drop(phone0);
    wait_all(
        (0..PHONES)
            .map(|n| phone(&["sync", &phone_store(&phones, n), &server.url()]))
            .collect(),
    );
    let health = http()
        .get(format!("{}/healthz", server.url()))
        .send()
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    drop(server);
    let stored = held(&data);
    assert_eq!(stored.visits.len() as u64, PHONES as u64 * VISITS);
    assert_eq!(stored.distinct_contents, stored.visits.len());
    // Every 50th visit carries a photo: 0, 50 and 100 of each phone.
    assert_eq!(stored.photos.len(), PHONES * 3);
}
