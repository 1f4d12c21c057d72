//! A phone as a process, for the fault suite (`tests/tests/faults.rs`), which kills it with
//! SIGKILL in the middle of a sync and starts it again:
//!
//!     verivali-phone-sim record STORE URL CODE VISITS [FIRST]
//!                                  enroll (once), pull, finish VISITS visits numbered from FIRST
//!     verivali-phone-sim sync STORE URL                 sync until nothing waits
//!
//! The store is a real phone store on disk. `sync` prints each progress step (`PUSH 50/500`) so
//! that the test knows when a sync is under way, and keeps syncing after failures, as the app's
//! sync button pressed again would, until the outbox and the photos are all sent.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use verivali_core::model::{Rt, Rw};
use verivali_core::store::Store;
use verivali_core::sync::{self, Phase, Progress, SyncConfig};
use verivali_e2e::record_visit_with_photo;

/// Every this many visits, one carries a photo (300 KB: two upload chunks).
const PHOTO_EVERY: u64 = 50;
/// How long a phone keeps trying before the test counts it as failed.
const PATIENCE: Duration = Duration::from_secs(300);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["record", store, url, code, visits] => {
            record(store, url, code, 0..visits.parse().unwrap());
        }
        ["record", store, url, code, visits, first] => {
            let first: u64 = first.parse().unwrap();
            record(
                store,
                url,
                code,
                first..first + visits.parse::<u64>().unwrap(),
            );
        }
        ["sync", store, url] => sync_until_sent(
            &Store::open(store, &verivali_core::sample::store_key()).unwrap(),
            url,
        ),
        _ => {
            eprintln!(
                "usage: verivali-phone-sim record STORE URL CODE VISITS [FIRST] | sync STORE URL"
            );
            std::process::exit(2);
        }
    }
}

/// Quicker retries than a phone's, so that the suite spends its time on work, not on waiting;
/// small batches, so that a kill finds a sync half done.
fn config(url: &str) -> SyncConfig {
    SyncConfig {
        first_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(800),
        request_timeout: Duration::from_secs(30),
        push_batch: 50,
        pull_limit: 100,
        upload_chunk: 160 * 1024,
        ..SyncConfig::new(url)
    }
}

struct Printed;

impl Progress for Printed {
    fn update(&self, phase: Phase, done: u64, total: u64) {
        println!("{phase:?} {done}/{total}");
    }
}

fn record(path: &str, url: &str, code: &str, visits: std::ops::Range<u64>) {
    let store = Store::open(path, &verivali_core::sample::store_key()).unwrap();
    let config = config(url);
    let started = Instant::now();
    while store.enrollment().unwrap().is_none() {
        if let Err(e) = sync::enroll(&config, &store, code, "HP uji") {
            assert!(started.elapsed() < PATIENCE, "could not enroll: {e}");
        }
    }
    sync_until_sent(&store, url);
    let area = store.enrollment().unwrap().unwrap().areas[0].clone();
    let rw = Rw::new(1).unwrap();
    let households: Vec<_> = (1..=3)
        .flat_map(|rt| {
            store
                .households_in_rt(&area.region, &rw, &Rt::new(rt).unwrap())
                .unwrap()
        })
        .map(|summary| {
            let merged = store.household(summary.household_id).unwrap().unwrap();
            merged.state.household
        })
        .collect();
    assert!(!households.is_empty(), "the pull brought no households");
    let count = visits.end - visits.start;
    for n in visits {
        let household = &households[n as usize % households.len()];
        let photo = n % PHOTO_EVERY == 0;
        let bytes = photo.then(|| {
            let mut bytes = format!("foto {path} {n}").into_bytes();
            bytes.resize(300_000, b'.');
            bytes
        });
        record_visit_with_photo(&store, household, n, bytes.as_deref());
    }
    println!("recorded {count}");
}

fn sync_until_sent(store: &Store, url: &str) {
    let config = config(url);
    let started = Instant::now();
    loop {
        match sync::sync(&config, store, &Printed) {
            Ok(summary) => {
                println!(
                    "synced accepted={} duplicates={} rejected={} pulled={}",
                    summary.accepted,
                    summary.duplicates,
                    summary.rejected.len(),
                    summary.households_pulled
                );
                assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
                if store.pending_count().unwrap() == 0
                    && store.unsent_attachments().unwrap().is_empty()
                {
                    return;
                }
            }
            Err(e) => println!("failed {e}"),
        }
        assert!(started.elapsed() < PATIENCE, "still not synced");
    }
}
