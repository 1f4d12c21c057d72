//! A district's backup, taken while phones push, restored after a disaster (issue 17, items 1
//! and 2): four phones, each a process with its own store, send three rounds of visits; the
//! backup is taken with the CLI while the second round's pushes run, the third round arrives
//! after it. The server's directory is then lost; the backup is checked, refused over a directory
//! that holds data, restored into a new one, and the phones sync with the restored server. It
//! ends with every visit stored exactly once, every photo whole, and every household's merged
//! state equal to the lost server's.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use tempfile::TempDir;
use verivali_e2e::{ServerProcess, held, phone_sim, phone_store, seed, server_binary, wait_all};

const PHONES: usize = 4;
const HOUSEHOLDS_PER_VILLAGE: u64 = 60;
/// Visits per phone and round; the phones add a photo to every 50th.
const ROUND: u64 = 60;

fn phone(args: &[&str]) -> Child {
    phone_sim(args).stdout(Stdio::null()).spawn().unwrap()
}

/// Each phone finishes a round of visits (numbered from `first`), then syncs them.
fn record_round(phones: &Path, url: &str, codes: &[String], first: u64) -> Vec<Child> {
    let (visits, first) = (ROUND.to_string(), first.to_string());
    let recording = (0..PHONES)
        .map(|n| {
            let store = phone_store(phones, n);
            phone(&["record", &store, url, &codes[n], &visits, &first])
        })
        .collect();
    wait_all(recording);
    (0..PHONES)
        .map(|n| phone(&["sync", &phone_store(phones, n), url]))
        .collect()
}

fn cli(args: &[&str]) -> Output {
    Command::new(server_binary()).args(args).output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn backups_in(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("manifest.json").is_file())
        .collect();
    found.sort();
    found
}

fn manifest(backup: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn a_backup_taken_under_load_and_restored_ends_with_every_visit_once_after_the_phones_sync() {
    let dir = TempDir::new().unwrap();
    let (data, backups, phones) = (
        dir.path().join("server"),
        dir.path().join("backups"),
        dir.path().join("phones"),
    );
    let district = seed(&data, PHONES, HOUSEHOLDS_PER_VILLAGE);
    let server = ServerProcess::start(&data);
    let data_arg = data.to_string_lossy().into_owned();
    let backups_arg = backups.to_string_lossy().into_owned();

    wait_all(record_round(&phones, &server.url(), &district.codes, 0));
    // The second round's pushes run while the backup is taken.
    let pushing = record_round(&phones, &server.url(), &district.codes, ROUND);
    let first = cli(&["backup", "--data-dir", &data_arg, "--to", &backups_arg]);
    assert!(first.status.success(), "{}", text(&first));
    wait_all(pushing);
    wait_all(record_round(
        &phones,
        &server.url(),
        &district.codes,
        2 * ROUND,
    ));
    // A second backup copies only the photos that arrived since the first.
    let second = cli(&["backup", "--data-dir", &data_arg, "--to", &backups_arg]);
    assert!(second.status.success(), "{}", text(&second));
    let taken = backups_in(&backups);
    assert_eq!(taken.len(), 2, "{taken:?}");
    let (before, after) = (manifest(&taken[0]), manifest(&taken[1]));
    let photos = |m: &serde_json::Value| m["photos"].as_array().unwrap().len();
    let pool: usize = std::fs::read_dir(backups.join("photos"))
        .unwrap()
        .map(|shelf| std::fs::read_dir(shelf.unwrap().path()).unwrap().count())
        .sum();
    assert_eq!(pool, photos(&after), "each photo once in the pool");
    assert!(
        text(&second).contains(&format!(
            "({} copied now)",
            photos(&after) - photos(&before)
        )),
        "{}",
        text(&second)
    );
    let in_first = before["counts"]["visits"].as_u64().unwrap();
    let all = (PHONES as u64) * 3 * ROUND;
    assert!(
        (PHONES as u64 * ROUND..all).contains(&in_first),
        "the first backup holds {in_first} visits: at least the first round, not the third"
    );
    assert_eq!(after["counts"]["visits"].as_u64(), Some(all));

    // The server's disk is lost.
    drop(server);
    let lost = held(&data);

    // The backup is whole; a damaged copy of it is refused.
    let verified = cli(&["verify-backup", &taken[0].to_string_lossy()]);
    assert!(verified.status.success(), "{}", text(&verified));
    let damaged = backups.join("verivali-backup-damaged");
    verivali_e2e::copy_dir(&taken[0], &damaged);
    let database = damaged.join("verivali.db");
    let mut bytes = std::fs::read(&database).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&database, bytes).unwrap();
    let refused = cli(&["verify-backup", &damaged.to_string_lossy()]);
    assert!(!refused.status.success() && text(&refused).contains("damaged"));
    std::fs::remove_dir_all(&damaged).unwrap();

    // Never over a directory that holds data; into a new one, it is the backup's.
    let over = cli(&[
        "restore",
        &taken[0].to_string_lossy(),
        "--data-dir",
        &data_arg,
    ]);
    assert!(!over.status.success() && text(&over).contains("already holds data"));
    let restored = dir.path().join("restored");
    let restore = cli(&[
        "restore",
        &taken[0].to_string_lossy(),
        "--data-dir",
        &restored.to_string_lossy(),
    ]);
    assert!(restore.status.success(), "{}", text(&restore));
    assert_eq!(held(&restored).visits.len() as u64, in_first);

    // The phones sync with the restored server: what it lost since the backup, they send again.
    let server = ServerProcess::start(&restored);
    wait_all(
        (0..PHONES)
            .map(|n| phone(&["sync", &phone_store(&phones, n), &server.url()]))
            .collect(),
    );
    drop(server);
    let back = held(&restored);
    assert_eq!(back.visits.len() as u64, all);
    assert_eq!(
        back.visits, lost.visits,
        "every visit once, with its content"
    );
    assert_eq!(back.distinct_contents, back.visits.len());
    assert_eq!(back.photos, lost.photos);
    assert_eq!(back.states, lost.states, "every household's merged state");
}
