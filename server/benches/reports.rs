//! Scale benchmark (DESIGN §11): prints figures, asserts nothing.
//!
//!     cargo bench -p verivali-server --bench reports
//!
//! A kabupaten of 150,000 households (15 kecamatan × 20 villages × 500), visits ingested through
//! the same decode / answer / store path as a push (validated, deduplicated, merged), then:
//! - the progress report for the kabupaten and for one kecamatan at 500,000 visits (budget
//!   < 500 ms);
//! - the server's resident memory at 500,000 and at 1,000,000 visits (budget < 300 MB);
//! - exporting the kabupaten as CSV, XLSX and GeoJSON (no budget; a district office waits for it).

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use uuid::Uuid;
use verivali_core::model::*;
use verivali_core::protocol::{Area, PushItem, PushRequest, PushStatus};
use verivali_core::sample;
use verivali_server::auth::DeviceAuth;
use verivali_server::db::{Db, DbError};
use verivali_server::{exports, households, ingest, reports};

/// glibc's malloc took a fifth of the writer's time in profiles; mimalloc takes far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DISTRICTS: u64 = 15;
const VILLAGES: u64 = 20;
const PER_VILLAGE: u64 = 500;
const BATCH: usize = 500;

fn village(d: u64, v: u64) -> RegionCode {
    RegionCode::parse(&format!("16.04.{:02}.{}", d + 1, 2001 + v)).unwrap()
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{what}: p50 {:.1} ms, max {:.1} ms over {} runs",
        ms(samples[samples.len() / 2]),
        ms(*samples.last().unwrap()),
        samples.len()
    );
}

fn main() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = Db::open(dir.path()).unwrap();
    let started = Instant::now();
    for d in 0..DISTRICTS {
        db.write_blocking(move |tx| {
            for v in 0..VILLAGES {
                let code = village(d, v);
                for i in 0..PER_VILLAGE {
                    let index = (d * VILLAGES + v) * PER_VILLAGE + i;
                    households::save_baseline(
                        tx,
                        &sample::household(index, &code, 1 + (i / 100) as u16, 1 + (i % 5) as u16),
                        Timestamp::now_utc(),
                    )?;
                }
            }
            Ok::<_, DbError>(())
        })
        .unwrap();
    }
    let total_households = DISTRICTS * VILLAGES * PER_VILLAGE;
    println!(
        "seeded {total_households} households in {:.0} s; RSS {:.0} MiB",
        started.elapsed().as_secs_f64(),
        rss_mib()
    );

    // One phone per kecamatan, working in its 20 villages.
    let phones: Vec<DeviceAuth> = (0..DISTRICTS)
        .map(|d| DeviceAuth {
            device_id: DeviceId(Uuid::from_u128(1000 + u128::from(d))),
            enumerator_id: EnumeratorId(Uuid::from_u128(2000 + u128::from(d))),
            areas: (0..VILLAGES)
                .map(|v| Area {
                    region: village(d, v),
                    rw: None,
                    rt: None,
                })
                .collect(),
            former_areas: Vec::new(),
        })
        .collect();
    let mut seqs = vec![0u64; phones.len()];
    let mut visits = 0usize;
    let started = Instant::now();
    for target in [500_000usize, 1_000_000] {
        while visits < target {
            let p = (visits / BATCH) % phones.len();
            let phone = &phones[p];
            let items: Vec<Box<serde_json::value::RawValue>> = (0..BATCH)
                .map(|k| {
                    seqs[p] += 1;
                    let n = visits + k;
                    let within = (n as u64 / DISTRICTS) % (VILLAGES * PER_VILLAGE);
                    let index = p as u64 * VILLAGES * PER_VILLAGE + within;
                    let h = sample::household(
                        index,
                        &village(p as u64, within / PER_VILLAGE),
                        1 + ((within % PER_VILLAGE) / 100) as u16,
                        1 + (within % 5) as u16,
                    );
                    let finished = Timestamp(
                        Timestamp::now_utc().0 - time::Duration::hours(2)
                            + time::Duration::milliseconds(n as i64),
                    );
                    let mut visit = sample::found_visit(
                        &h,
                        phone.enumerator_id,
                        phone.device_id,
                        finished,
                        n as u64,
                    );
                    visit.visit_id = VisitId::new_v7();
                    serde_json::value::to_raw_value(&PushItem {
                        device_seq: seqs[p],
                        visit,
                    })
                    .unwrap()
                })
                .collect();
            let request = PushRequest {
                sent_at: Timestamp::now_utc(),
                items,
            };
            let mut slots = ingest::decode(request.items);
            db.read_blocking(|c| ingest::answer_known(c, &mut slots))
                .unwrap();
            let device = phone.clone();
            let answer = db
                .write_blocking(move |tx| {
                    ingest::store(
                        tx,
                        &device,
                        &slots,
                        None,
                        request.sent_at,
                        Timestamp::now_utc(),
                    )
                })
                .unwrap();
            assert!(
                answer
                    .results
                    .iter()
                    .all(|r| r.status == PushStatus::Accepted),
                "{:?}",
                answer
                    .results
                    .iter()
                    .find(|r| r.status != PushStatus::Accepted)
            );
            visits += BATCH;
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{visits} visits ingested ({:.0} visits/s without HTTP); RSS {:.0} MiB; database {:.0} MiB",
            visits as f64 / secs,
            rss_mib(),
            std::fs::metadata(db.path()).map(|m| m.len()).unwrap_or(0) as f64 / 1048576.0
        );
        if target == 500_000 {
            let regency = RegionCode::parse("16.04").unwrap();
            let district = RegionCode::parse("16.04.01").unwrap();
            for (label, region) in [
                ("progress of the kabupaten (15 kecamatan)", &regency),
                ("progress of one kecamatan (20 villages)", &district),
            ] {
                let mut samples = Vec::new();
                for _ in 0..10 {
                    let t = Instant::now();
                    let progress = db
                        .read_blocking(|c| {
                            reports::progress(c, &reports::Place::region(region.clone()))
                        })
                        .unwrap();
                    samples.push(t.elapsed());
                    assert!(progress.total.visited > 0);
                }
                report(label, samples);
            }
            // The exports a district office downloads: the whole kabupaten, once each.
            for format in [
                exports::Format::Csv,
                exports::Format::Xlsx,
                exports::Format::GeoJson,
            ] {
                let t = Instant::now();
                let rows = db
                    .read_blocking(|c| exports::rows(c, &regency, None, false))
                    .unwrap();
                let bytes = exports::write(format, &rows).unwrap();
                println!(
                    "export of the kabupaten as {}: {} households in {:.2} s, {:.1} MiB",
                    format.extension(),
                    rows.len(),
                    t.elapsed().as_secs_f64(),
                    bytes.len() as f64 / 1048576.0
                );
            }
        }
    }
    db.close();
}
