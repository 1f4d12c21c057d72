//! Server benchmark (DESIGN §11): prints figures, asserts nothing.
//!
//!     cargo bench -p verivali-server --bench ingest
//!
//! Over real HTTP on loopback against the real application with `synchronous=FULL`:
//! - ingest: 50 devices pushing at once, every visit validated and merged (budget ≥ 15,000/s);
//! - retry storm: the same pushes again, all already acknowledged (budget ≥ 40,000/s);
//! - pull: one device paging through 20,000 household states (budget ≥ 30,000/s).
//!
//! Client and server share the machine's two cores, so the figures understate the server.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Instant;

use common::Usage;

/// glibc's malloc took a fifth of the writer's time in profiles; mimalloc takes far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use uuid::Uuid;
use verivali_core::model::*;
use verivali_core::protocol::{
    Area, EnrollResponse, PushItem, PushRequest, PushResponse, PushStatus,
};
use verivali_core::sample;
use verivali_server::config::Config;
use verivali_server::{Application, admin, households};

const DEVICES: usize = 50;
const HOUSEHOLDS_PER_VILLAGE: u64 = 400;
const PUSHES_PER_DEVICE: usize = 10;
const VISITS_PER_PUSH: usize = 100;

/// A pull page read only for its count and cursor.
#[derive(serde::Deserialize)]
struct PageCount {
    households: Vec<serde::de::IgnoredAny>,
    next_cursor: String,
    more: bool,
}

fn village(n: usize) -> RegionCode {
    RegionCode::parse(&format!("16.04.{:02}.{}", 1 + n / 10, 2001 + n % 10)).unwrap()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let dir = tempfile::TempDir::new().unwrap();
    let app = Application::build(Config::for_data_dir(dir.path().to_path_buf()))
        .await
        .unwrap();
    let addr = app.local_addr().unwrap();
    let db = app.db().clone();

    let started = Instant::now();
    let seed_db = db.clone();
    let all_households: Vec<Vec<Household>> = tokio::task::spawn_blocking(move || {
        let per_village: Vec<Vec<Household>> = (0..DEVICES)
            .map(|d| {
                (0..HOUSEHOLDS_PER_VILLAGE)
                    .map(|i| {
                        sample::household(
                            d as u64 * HOUSEHOLDS_PER_VILLAGE + i,
                            &village(d),
                            1,
                            1 + (i % 5) as u16,
                        )
                    })
                    .collect()
            })
            .collect();
        let copy = per_village.clone();
        seed_db
            .write_blocking(move |tx| {
                for list in &copy {
                    for h in list {
                        households::save_baseline(tx, h, Timestamp::now_utc())?;
                    }
                }
                Ok::<_, verivali_server::db::DbError>(())
            })
            .unwrap();
        per_village
    })
    .await
    .unwrap();
    println!(
        "seeded {} households in {:.1} s",
        DEVICES as u64 * HOUSEHOLDS_PER_VILLAGE,
        started.elapsed().as_secs_f64()
    );

    tokio::spawn(app.serve(std::future::pending()));
    // With the whole workspace built, reqwest has the phone's rustls and needs a provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();

    // Enroll one phone per village.
    let mut phones = Vec::new();
    for d in 0..DEVICES {
        let db = db.clone();
        let code = tokio::task::spawn_blocking(move || {
            let id = admin::add_enumerator(
                &db,
                "Bench",
                vec![Area {
                    region: village(d),
                    rw: None,
                    rt: None,
                }],
            )
            .unwrap();
            admin::enrollment_code(&db, id, time::Duration::hours(1)).unwrap()
        })
        .await
        .unwrap();
        let device_id = DeviceId(Uuid::now_v7());
        let enrolled: EnrollResponse = client
            .post(format!("http://{addr}/api/v1/devices/enroll"))
            .json(
                &serde_json::json!({"code": code, "device_id": device_id, "device_name": "bench"}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        phones.push((enrolled.token, device_id, enrolled.enumerator_id));
    }

    // Every push body, serialised before the clock starts.
    let mut bodies: Vec<Vec<(String, Vec<u8>)>> = Vec::new();
    for (d, (token, device, enumerator)) in phones.iter().enumerate() {
        let mut seq = 0u64;
        let mut pushes = Vec::new();
        for _ in 0..PUSHES_PER_DEVICE {
            let items: Vec<PushItem> = (0..VISITS_PER_PUSH)
                .map(|_| {
                    seq += 1;
                    let h = &all_households[d][(seq % HOUSEHOLDS_PER_VILLAGE) as usize];
                    let finished = Timestamp(
                        Timestamp::now_utc().0 - time::Duration::minutes(30)
                            + time::Duration::seconds(seq as i64),
                    );
                    let mut visit = sample::found_visit(h, *enumerator, *device, finished, seq);
                    visit.visit_id = VisitId::new_v7();
                    // Half the families show their card: the household's duplicate keys change.
                    if seq.is_multiple_of(2) {
                        visit.kk_number = Some(Entered::from_input(&sample::family_card(h)));
                    }
                    PushItem {
                        device_seq: seq,
                        visit,
                    }
                })
                .collect();
            let body = serde_json::to_vec(&PushRequest {
                sent_at: Timestamp::now_utc(),
                items,
                finished_up_to: None,
            })
            .unwrap();
            pushes.push((token.clone(), body));
        }
        bodies.push(pushes);
    }
    let total = DEVICES * PUSHES_PER_DEVICE * VISITS_PER_PUSH;
    let bytes: usize = bodies.iter().flatten().map(|(_, b)| b.len()).sum();
    println!(
        "{total} visits, {:.0} bytes of JSON per visit before gzip",
        bytes as f64 / total as f64
    );

    for (label, expect) in [
        ("ingest, 50 devices at once", PushStatus::Accepted),
        (
            "retry storm (all acknowledged before)",
            PushStatus::Duplicate,
        ),
    ] {
        let started = Instant::now();
        let cpu_before = Usage::of_self();
        let mut tasks = Vec::new();
        for pushes in bodies.clone() {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                for (token, body) in pushes {
                    let answer: PushResponse = client
                        .post(format!("http://{addr}/api/v1/sync/push"))
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    assert!(
                        answer.results.iter().all(|r| r.status == expect),
                        "{:?}",
                        answer.results.iter().find(|r| r.status != expect)
                    );
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let secs = started.elapsed().as_secs_f64();
        let cpu = Usage::of_self().since(&cpu_before);
        println!(
            "{label}: {total} visits in {secs:.2} s = {:.0} visits/s",
            total as f64 / secs
        );
        println!(
            "    CPU per visit: writer thread {:.1} µs ({:.0}% of the wall time), fsync and checkpoint threads {:.1} µs, whole process {:.1} µs",
            cpu.writer * 1e6 / total as f64,
            cpu.writer * 100.0 / secs,
            cpu.disk * 1e6 / total as f64,
            cpu.process * 1e6 / total as f64,
        );
    }

    // Pull: a device whose area is the whole regency sees every household.
    let db2 = db.clone();
    let code = tokio::task::spawn_blocking(move || {
        let areas = (0..DEVICES)
            .map(|d| Area {
                region: village(d),
                rw: None,
                rt: None,
            })
            .collect();
        let id = admin::add_enumerator(&db2, "Puller", areas).unwrap();
        admin::enrollment_code(&db2, id, time::Duration::hours(1)).unwrap()
    })
    .await
    .unwrap();
    let enrolled: EnrollResponse = client
        .post(format!("http://{addr}/api/v1/devices/enroll"))
        .json(
            &serde_json::json!({"code": code, "device_id": Uuid::now_v7(), "device_name": "pull"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let started = Instant::now();
    let (mut cursor, mut pulled, mut pull_bytes) = (String::new(), 0usize, 0usize);
    loop {
        let text = client
            .get(format!(
                "http://{addr}/api/v1/sync/pull?cursor={cursor}&limit=1000"
            ))
            .bearer_auth(&enrolled.token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        pull_bytes += text.len();
        // Count the states without decoding each: the figure is the server's, not the client's.
        let page: PageCount = serde_json::from_str(&text).unwrap();
        pulled += page.households.len();
        cursor = page.next_cursor;
        if !page.more {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "pull: {pulled} households in {secs:.2} s = {:.0} households/s ({:.0} bytes each before gzip)",
        pulled as f64 / secs,
        pull_bytes as f64 / pulled as f64
    );
    let size = |path: &std::path::Path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let database = db.path().expect("the bench runs on SQLite");
    println!(
        "database file: {:.0} MiB, its WAL {:.0} MiB (bound {} MiB)",
        size(database) as f64 / 1048576.0,
        size(&verivali_server::db::wal_path(database)) as f64 / 1048576.0,
        verivali_server::db::WAL_LIMIT_BYTES >> 20
    );
}
