//! Benchmark of the phone store (DESIGN §11): prints figures, asserts nothing.
//!
//!     cargo bench -p verivali-core --bench store
//!
//! - finishing a visit (validate, hash, insert, outbox): p50 and p99 over 10,000 visits
//!   (budget: p99 < 2 ms);
//! - opening a store that holds 5,000 households and 20,000 visits;
//! - listing the 200 households of one RT;
//! - searching the 5,000 households by part of a name and by a whole NIK.
//!
//! The store is sealed (docs/phone-encryption.md): every figure includes the sealing and
//! opening of the values it touches.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use uuid::Uuid;
use verivali_core::merge::merge;
use verivali_core::model::*;
use verivali_core::sample;
use verivali_core::store::Store;

const HOUSEHOLDS: u64 = 5_000;
const PER_RT: u64 = 200;
const VISITS: u64 = 20_000;
const TIMED_FINISHES: usize = 10_000;

fn rt_of(i: u64) -> (u16, u16) {
    let rt_index = i / PER_RT; // 25 RTs of 200 households
    (1 + (rt_index / 5) as u16, 1 + (rt_index % 5) as u16)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank]
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{what}: n={} p50={:.3} ms p99={:.3} ms max={:.3} ms",
        samples.len(),
        percentile(&samples, 0.50).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3,
    );
}

fn main() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("phone.db");
    let village = sample::village();
    let store = Store::open(&path, &sample::store_key()).unwrap();
    store
        .set_identity(
            DeviceId(Uuid::from_u128(1)),
            EnumeratorId(Uuid::from_u128(2)),
        )
        .unwrap();

    let started = Instant::now();
    let households: Vec<Household> = (0..HOUSEHOLDS)
        .map(|i| {
            let (rw, rt) = rt_of(i);
            sample::household(i, &village, rw, rt)
        })
        .collect();
    for page in households.chunks(500) {
        let states: Vec<_> = page.iter().map(|h| merge(h, &[], &[]).unwrap()).collect();
        store.save_households(&states, Some("bench")).unwrap();
    }
    println!(
        "pull-apply {HOUSEHOLDS} households in pages of 500: {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );

    let mut finish_times = Vec::with_capacity(VISITS as usize);
    let started = Instant::now();
    for n in 0..VISITS {
        let h = &households[(n % HOUSEHOLDS) as usize];
        let now = Timestamp::now_utc();
        let draft = store
            .start_visit(
                Some(h.household_id),
                Timestamp(now.0 - time::Duration::minutes(15)),
            )
            .unwrap();
        let visit = sample::fill_draft(&draft, h, now, n);
        store.save_draft(&visit).unwrap();
        let t = Instant::now();
        store.finish_visit(visit.visit_id, now, None).unwrap();
        finish_times.push(t.elapsed());
    }
    println!(
        "recorded {VISITS} visits (start, save draft, finish) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    report(
        "finish a visit (first 10,000)",
        finish_times[..TIMED_FINISHES].to_vec(),
    );
    report("finish a visit (all 20,000)", finish_times);
    drop(store);

    let size = std::fs::metadata(&path).unwrap().len();
    println!("store file: {:.1} MiB", size as f64 / (1024.0 * 1024.0));
    let mut opens = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let store = Store::open(&path, &sample::store_key()).unwrap();
        let _ = store.pending_count().unwrap();
        opens.push(t.elapsed());
    }
    report(
        &format!("open a store of {HOUSEHOLDS} households and {VISITS} visits"),
        opens,
    );

    let store = Store::open(&path, &sample::store_key()).unwrap();
    let (rw, rt) = (Rw::new(3).unwrap(), Rt::new(2).unwrap());
    let mut lists = Vec::new();
    for _ in 0..500 {
        let t = Instant::now();
        let list = store.households_in_rt(&village, &rw, &rt).unwrap();
        lists.push(t.elapsed());
        assert_eq!(list.len(), PER_RT as usize);
    }
    report("list the 200 households of one RT", lists);

    // The search box: names and addresses are sealed, so a name search opens every card.
    let mut by_name = Vec::new();
    let mut by_nik = Vec::new();
    for n in 0..200u64 {
        let household = &households[(n * 25 % HOUSEHOLDS) as usize];
        let part: String = household.members[0].name().chars().take(5).collect();
        let t = Instant::now();
        let found = store.search_households(&part).unwrap();
        by_name.push(t.elapsed());
        assert!(!found.is_empty());
        let nik = household.members[0].nik().unwrap();
        let t = Instant::now();
        let found = store.search_households(nik.as_str()).unwrap();
        by_nik.push(t.elapsed());
        assert!(
            found
                .iter()
                .any(|f| f.household_id == household.household_id)
        );
    }
    report(
        &format!("search {HOUSEHOLDS} households by part of a name"),
        by_name,
    );
    report(
        &format!("search {HOUSEHOLDS} households by a whole NIK"),
        by_nik,
    );
}
