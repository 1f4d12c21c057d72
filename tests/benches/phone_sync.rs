//! The phone's sync, measured (DESIGN §11): prints figures; asserts only that every visit pushed was
//! accepted (a figure of refused visits measures nothing).
//!
//!     cargo build --release -p verivali-server -p verivali-ffi
//!     cargo bench -p verivali-e2e --bench phone_sync
//!
//! A real server process (the release binary) on loopback, a phone store on disk
//! (`synchronous=FULL`), and a counting proxy between them for the bytes on the wire:
//! - first pull of 5,000 households into an empty phone (budget < 3 s);
//! - push of 2,000 queued visits (budget < 2 s);
//! - bytes on the wire per visit pushed, both ways, headers included (budget ≤ 1 KB, gzip);
//! - the size of the release cdylib the app ships.

#![allow(clippy::unwrap_used)]

use std::sync::Mutex;
use std::time::Instant;

use verivali_core::store::Store;
use verivali_core::sync::{self, Phase, Progress, SyncConfig};
use verivali_e2e::{Proxy, ServerProcess, record_visit, seed};

const HOUSEHOLDS: u64 = 5_000;
const VISITS: u64 = 2_000;

/// When each phase was last reported.
struct PhaseClock(Mutex<Vec<(Phase, Instant)>>);

impl Progress for PhaseClock {
    fn update(&self, phase: Phase, _: u64, _: u64) {
        self.0.lock().unwrap().push((phase, Instant::now()));
    }
}

impl PhaseClock {
    fn span(&self, phase: Phase) -> f64 {
        let seen = self.0.lock().unwrap();
        let times: Vec<Instant> = seen
            .iter()
            .filter(|(p, _)| *p == phase)
            .map(|(_, t)| *t)
            .collect();
        match (times.first(), times.last()) {
            (Some(a), Some(b)) => b.duration_since(*a).as_secs_f64(),
            _ => 0.0,
        }
    }
}

fn main() {
    let dir = tempfile::TempDir::new().unwrap();
    let data = dir.path().join("server");
    let started = Instant::now();
    let district = seed(&data, 1, HOUSEHOLDS);
    println!(
        "seeded {HOUSEHOLDS} households in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let server = ServerProcess::start(&data);
    let proxy = Proxy::start(&server.addr);
    let store = Store::open(
        dir.path().join("phone.db"),
        &verivali_core::sample::store_key(),
    )
    .unwrap();
    let config = SyncConfig::new(proxy.url());
    sync::enroll(&config, &store, &district.codes[0], "HP bench").unwrap();

    let clock = PhaseClock(Mutex::new(Vec::new()));
    let t = Instant::now();
    let first = sync::sync(&config, &store, &clock).unwrap();
    let (_, down) = proxy.take();
    println!(
        "first pull: {} households in {:.2} s ({:.0} households/s, {} bytes on the wire each) — budget < 3 s",
        first.households_pulled,
        t.elapsed().as_secs_f64(),
        first.households_pulled as f64 / t.elapsed().as_secs_f64(),
        down / first.households_pulled.max(1),
    );

    for (n, h) in district.households[0]
        .iter()
        .take(VISITS as usize)
        .enumerate()
    {
        record_visit(&store, h, n as u64);
    }
    let clock = PhaseClock(Mutex::new(Vec::new()));
    proxy.take();
    let summary = sync::sync(&config, &store, &clock).unwrap();
    let (up, down) = proxy.take();
    // A figure of visits the server refused measures nothing: the data is wrong.
    assert_eq!(
        (summary.accepted, summary.duplicates, summary.rejected.len()),
        (VISITS, 0, 0),
        "{:?}",
        summary.rejected.first()
    );
    let push = clock.span(Phase::Push);
    println!(
        "push: {} visits in {:.2} s ({:.0} visits/s, batches of {}) — budget < 2 s",
        summary.accepted,
        push,
        summary.accepted as f64 / push,
        config.push_batch
    );
    println!(
        "bytes on the wire per visit pushed (gzip, headers included): {} up, {} both ways including the \
         answers and the pull of {} changed households — budget ≤ 1 KB",
        up / summary.accepted.max(1),
        (up + down) / summary.accepted.max(1),
        summary.households_pulled
    );

    let lib = verivali_e2e::server_binary().with_file_name(format!(
        "{}verivali_ffi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    match std::fs::metadata(&lib) {
        Ok(m) => println!(
            "release cdylib {}: {:.1} MiB (host build, unstripped)",
            lib.display(),
            m.len() as f64 / 1_048_576.0
        ),
        Err(_) => println!("release cdylib not built: cargo build --release -p verivali-ffi"),
    }
}
