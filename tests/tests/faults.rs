//! Nothing finished on a phone is lost or stored twice, whatever the network and the processes do
//! (DESIGN §12): 20 phones, each a process with its own store, finish 500 visits each (every 50th
//! with a photo) and sync them through a proxy that cuts 30% of the requests mid-flight, while
//! the server is killed with SIGKILL and restarted twice and one phone is killed in the middle of
//! a sync and started again.
//!
//! A twin of the same district receives copies of the same phones' stores with no faults at all.
//! At the end every visit is on the faulty server exactly once, every outbox is empty, every photo
//! is whole, and every household's merged state equals the twin's.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tempfile::TempDir;
use verivali_core::store::{OutboxState, Store};
use verivali_e2e::{Proxy, ServerProcess, copy_dir, held, phone_sim, phone_store, seed, wait_all};

const PHONES: usize = 20;
const VISITS: u64 = 500;
const HOUSEHOLDS_PER_VILLAGE: u64 = 100;
const PHOTOS_PER_PHONE: usize = 10;
/// Pushes seen by the proxy before each kill of the server: about a fifth and half of the
/// pushes a fault-free run needs (20 phones × 10 batches).
const SERVER_KILLS_AT: [u64; 2] = [40, 110];

/// Each phone's finished visits and their photos, checked empty of pending work.
fn phones_sent_everything(phones: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut visits, mut photos) = (BTreeSet::new(), BTreeSet::new());
    for n in 0..PHONES {
        let store =
            Store::open(phone_store(phones, n), &verivali_core::sample::store_key()).unwrap();
        assert!(store.integrity_problems().unwrap().is_empty());
        assert_eq!(store.pending_count().unwrap(), 0, "phone {n}'s outbox");
        assert!(store.unsent_attachments().unwrap().is_empty());
        let outbox = store.outbox(u32::MAX).unwrap();
        assert_eq!(outbox.len() as u64, VISITS, "phone {n}'s visits");
        for entry in outbox {
            assert!(
                matches!(entry.state, OutboxState::Accepted | OutboxState::Duplicate),
                "phone {n}: {entry:?}"
            );
            let visit = store.visit(entry.visit_id).unwrap().unwrap();
            photos.extend(visit.photos.iter().map(|p| p.sha256.to_string()));
            visits.insert(entry.visit_id.to_string());
        }
    }
    assert_eq!(visits.len() as u64, PHONES as u64 * VISITS);
    assert_eq!(photos.len(), PHONES * PHOTOS_PER_PHONE);
    (visits, photos)
}

#[test]
fn twenty_phones_through_cuts_and_kills_store_every_visit_exactly_once() {
    let dir = TempDir::new().unwrap();
    let (faulty_dir, twin_dir) = (dir.path().join("server"), dir.path().join("twin"));
    let (phones, twin_phones) = (dir.path().join("phones"), dir.path().join("twin-phones"));
    let district = seed(&faulty_dir, PHONES, HOUSEHOLDS_PER_VILLAGE);
    let mut server = ServerProcess::start(&faulty_dir);
    let proxy = Proxy::start(&server.addr);
    proxy.cut_percent(30);

    // Each phone enrolls, pulls its village and finishes its visits, through the cuts already.
    let recording: Vec<Child> = (0..PHONES)
        .map(|n| {
            let store = phone_store(&phones, n);
            let visits = VISITS.to_string();
            let args = ["record", &store, &proxy.url(), &district.codes[n], &visits];
            phone_sim(&args).stdout(Stdio::null()).spawn().unwrap()
        })
        .collect();
    wait_all(recording);

    // The twin: the server's data directory and the phones' stores as they are now, copied
    // while no process has them open.
    server.kill();
    copy_dir(&faulty_dir, &twin_dir);
    copy_dir(&phones, &twin_phones);
    server.restart();

    // Sync through the cuts; kill the server twice, and phone 0 once while it pushes.
    let (pushing, heard) = mpsc::channel();
    let mut syncing: Vec<Child> = (0..PHONES)
        .map(|n| {
            let store = phone_store(&phones, n);
            let mut child = phone_sim(&["sync", &store, &proxy.url()])
                .stdout(if n == 0 {
                    Stdio::piped()
                } else {
                    Stdio::null()
                })
                .spawn()
                .unwrap();
            if n == 0 {
                let lines = BufReader::new(child.stdout.take().unwrap()).lines();
                let pushing = pushing.clone();
                std::thread::spawn(move || {
                    for line in lines.map_while(Result::ok) {
                        // Some visits of this sync answered, more to go.
                        if line.starts_with("Push ") && !line.starts_with("Push 0/") {
                            let _ = pushing.send(());
                        }
                    }
                });
            }
            child
        })
        .collect();
    let started = Instant::now();
    let (mut server_kills, mut phone_killed) = (0, false);
    loop {
        if !phone_killed && heard.try_recv().is_ok() {
            syncing[0].kill().unwrap();
            syncing[0].wait().unwrap();
            let store = phone_store(&phones, 0);
            syncing[0] = phone_sim(&["sync", &store, &proxy.url()])
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            phone_killed = true;
        }
        if server_kills < SERVER_KILLS_AT.len() && proxy.pushes() >= SERVER_KILLS_AT[server_kills] {
            server.restart();
            server_kills += 1;
        }
        let mut running = 0;
        for child in &mut syncing {
            if child.try_wait().unwrap().is_none() {
                running += 1;
            }
        }
        if running == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the phones never finished"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    wait_all(syncing);
    assert_eq!(server_kills, 2, "the server was not killed twice");
    assert!(phone_killed, "phone 0 was not killed while pushing");
    let cuts = proxy.cuts();
    assert!(
        cuts * 100 >= proxy.requests() * 20,
        "{cuts} cuts of {} requests",
        proxy.requests()
    );

    // The twin's phones sync straight to the twin, with no faults.
    let twin = ServerProcess::start(&twin_dir);
    let twin_syncing = (0..PHONES)
        .map(|n| {
            let store = phone_store(&twin_phones, n);
            phone_sim(&["sync", &store, &twin.url()])
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    wait_all(twin_syncing);
    drop((server, twin));

    // Every phone sent everything; the faulty server holds each visit once, and the same
    // visits, photos and merged states as the twin.
    let (visits, photos) = phones_sent_everything(&phones);
    assert_eq!(
        phones_sent_everything(&twin_phones),
        (visits.clone(), photos.clone())
    );
    let (faulty, twin) = (held(&faulty_dir), held(&twin_dir));
    for held in [&faulty, &twin] {
        assert_eq!(held.visits.keys().cloned().collect::<BTreeSet<_>>(), visits);
        assert_eq!(held.distinct_contents, visits.len());
        assert_eq!(held.photos, photos);
    }
    assert_eq!(faulty.visits, twin.visits);
    assert_eq!(
        faulty.states.len(),
        PHONES * HOUSEHOLDS_PER_VILLAGE as usize
    );
    let differing: Vec<_> = faulty
        .states
        .iter()
        .filter(|(id, state)| twin.states.get(*id) != Some(state))
        .map(|(id, _)| id)
        .collect();
    assert!(
        differing.is_empty(),
        "{} states differ: {differing:?}",
        differing.len()
    );
    // Every household was visited five times; none is left as it was.
    assert!(
        faulty
            .states
            .values()
            .all(|(_, status)| status != "NOT_VISITED")
    );
    println!(
        "{} requests, {cuts} cut; {} visits and {} photos each once",
        proxy.requests(),
        visits.len(),
        photos.len()
    );
}
