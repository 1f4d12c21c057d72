//! Scale benchmark (DESIGN §11): prints figures, asserts nothing.
//!
//!     cargo bench -p verivali-server --bench reports
//!
//! A kabupaten of 150,000 households (15 kecamatan × 20 villages × 500), visits ingested through
//! the same decode / answer / store path as a push (validated, deduplicated, merged), spread
//! over a six-week campaign, two phones of fifteen with clocks two hours fast; then:
//! - the progress report for the kabupaten and for one kecamatan at 500,000 visits (budget
//!   < 500 ms);
//! - the server's resident memory at 500,000 and at 1,000,000 visits (budget < 300 MB);
//! - exporting the kabupaten as CSV, XLSX and GeoJSON (no budget; a district office waits for it);
//! - the supervisors' pages over real HTTP on loopback, signed in as the kabupaten's supervisor:
//!   the dashboard, the household list and one household (budget p99 < 300 ms), the map's
//!   clusters at the kabupaten's zoom, and the bytes of the dashboard's first load, gzipped.
//!
//! `VERIVALI_BENCH_COPY=FILE` keeps a copy of the store at 500,000 visits, to try queries on.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};
use verivali_server::roles::Role;

use uuid::Uuid;
use verivali_core::model::*;
use verivali_core::protocol::{Area, PushItem, PushRequest, PushStatus};
use verivali_core::sample;
use verivali_server::Application;
use verivali_server::auth::DeviceAuth;
use verivali_server::config::Config;
use verivali_server::db::{Db, DbError};
use verivali_server::{admin, exports, households, ingest, reports, sessions};

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

/// Villages lie on a grid across the kabupaten, about 11 km apart (0.1°), as a real regency of
/// some 100 km across; a visit's point falls within its village.
fn village_point(d: u64, v: u64, seed: u64) -> Location {
    Location {
        lat: -3.3 - (d % 5) as f64 * 0.4 - (v / 5) as f64 * 0.1 - (seed % 97) as f64 / 1e4,
        lon: 103.0 + (d / 5) as f64 * 0.5 + (v % 5) as f64 * 0.1 + (seed / 97 % 97) as f64 / 1e4,
        accuracy_m: 5.0 + (seed % 25) as f64,
        source: LocationSource::Gps,
    }
}

/// When visit `n` was finished: a six-week campaign (DESIGN §1) that ends now, each visit on
/// one of its 42 days at some time of that day, so "today" and "this week" hold a day's and a
/// week's share of the store, not all of it.
fn campaign_time(n: u64) -> Timestamp {
    let day = (n * 7_919) % 42;
    let minute = (n * 104_729) % (12 * 60);
    Timestamp(
        Timestamp::now_utc().0
            - time::Duration::days(day as i64)
            - time::Duration::minutes(minute as i64 + 1),
    )
}

/// How far phone `p`'s clock is off: two phones of fifteen run two hours fast, as cheap phones
/// that lost their network time do, so their visits carry CLOCK_SKEW and wait in the flagged
/// queue.
fn clock_error(p: usize) -> time::Duration {
    if p % 7 == 3 {
        time::Duration::hours(2)
    } else {
        time::Duration::ZERO
    }
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let p99 = samples[(samples.len() * 99).div_ceil(100) - 1];
    println!(
        "{what}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} runs",
        ms(samples[samples.len() / 2]),
        ms(p99),
        ms(*samples.last().unwrap()),
        samples.len()
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::TempDir::new().unwrap();
    let app = runtime
        .block_on(Application::build(Config::for_data_dir(
            dir.path().to_path_buf(),
        )))
        .unwrap();
    let base = format!("http://{}", app.local_addr().unwrap());
    let db = app.db().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(app.serve(async {
        let _ = stopped.await;
    }));
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
        "seeded {total_households} households in {:.0} s; {}",
        started.elapsed().as_secs_f64(),
        common::Resident::of(std::path::Path::new("/proc/self"))
    );

    create_campaigns(&db);
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
                    let finished = Timestamp(campaign_time(n as u64).0 + clock_error(p));
                    let mut visit = sample::found_visit(
                        &h,
                        phone.enumerator_id,
                        phone.device_id,
                        finished,
                        n as u64,
                    );
                    visit.visit_id = VisitId::new_v7();
                    visit.location = Some(village_point(p as u64, within / PER_VILLAGE, n as u64));
                    serde_json::value::to_raw_value(&PushItem {
                        device_seq: seqs[p],
                        visit,
                    })
                    .unwrap()
                })
                .collect();
            let request = PushRequest {
                sent_at: Timestamp(Timestamp::now_utc().0 + clock_error(p)),
                items,
                finished_up_to: None,
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
            "{visits} visits ingested ({:.0} visits/s without HTTP); {}; database {:.0} MiB",
            visits as f64 / secs,
            common::Resident::of(std::path::Path::new("/proc/self")),
            std::fs::metadata(db.path().expect("the bench runs on SQLite"))
                .map(|m| m.len())
                .unwrap_or(0) as f64
                / 1048576.0
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
                let (rows, bytes) = db
                    .read_blocking(|c| exports::write_region(c, &regency, None, false, format))
                    .unwrap();
                println!(
                    "export of the kabupaten as {}: {} households in {:.2} s, {:.1} MiB",
                    format.extension(),
                    rows,
                    t.elapsed().as_secs_f64(),
                    bytes.len() as f64 / 1048576.0
                );
            }
            if let Ok(copy) = std::env::var("VERIVALI_BENCH_COPY") {
                db.read_blocking(move |c| c.execute("VACUUM INTO ?1", &[&copy]))
                    .unwrap();
            }
            runtime.block_on(pages(&db, &base));
        }
    }
    let _ = stop.send(());
    runtime.block_on(server).unwrap().unwrap();
}

/// The supervisors' pages of the kabupaten at 500,000 visits, as a browser asks for them.
/// The campaign the visits belong to (the six weeks that end today) and an earlier round, made
/// before the field work as a district does, for the campaigns page.
fn create_campaigns(db: &Db) {
    let today = time::OffsetDateTime::now_utc().date();
    db.write_blocking(move |tx| {
        for (n, (name, from, to)) in [
            (
                "Verval 2026 tahap 2",
                today - time::Duration::days(42),
                today,
            ),
            (
                "Verval 2026 tahap 1",
                today - time::Duration::days(150),
                today - time::Duration::days(100),
            ),
        ]
        .into_iter()
        .enumerate()
        {
            verivali_server::store::campaigns::insert(
                tx,
                &verivali_server::store::campaigns::NewCampaign {
                    campaign_id: &format!("bench-{n}"),
                    region: "16.04",
                    name,
                    starts_on: &from.to_string(),
                    ends_on: &to.to_string(),
                    created_by: "bench",
                    created_at: 0,
                },
            )?;
        }
        Ok::<_, DbError>(())
    })
    .unwrap();
}

async fn pages(db: &Db, base: &str) {
    let db = db.clone();
    tokio::task::spawn_blocking(move || {
        let (id, _) = admin::add_supervisor(
            &db,
            "Bappeda",
            RegionCode::parse("16.04").unwrap(),
            Role::Reviewer,
        )
        .unwrap();
        sessions::set_password(&db, id, "bappeda", "Bench-verval-2026").unwrap();
    })
    .await
    .unwrap();
    // No automatic gunzip: the bytes counted are the bytes on the line. (reqwest is built with
    // the phone's rustls, without a crypto provider: see `http_client` in tests/api/helpers.rs.)
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .no_gzip()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed_in = client
        .post(format!("{base}/signin"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("login=bappeda&password=Bench-verval-2026")
        .send()
        .await
        .unwrap();
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let get = |path: String| {
        let request = client
            .get(format!("{base}{path}"))
            .header("cookie", &cookie)
            .header("accept-encoding", "gzip");
        async move {
            let t = Instant::now();
            let response = request.send().await.unwrap();
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
            let body = response.bytes().await.unwrap();
            (t.elapsed(), body)
        }
    };

    // The first load: the page, then each asset it links, gzipped as the server sends them.
    let (_, page) = get("/dashboard?region=16.04".into()).await;
    let html = String::from_utf8_lossy(&gunzip(&page)).into_owned();
    let mut first_load = page.len();
    let mut assets = 0;
    for link in html.split("\"/assets/").skip(1) {
        let name = link.split('"').next().unwrap().replace("&amp;", "&");
        first_load += get(format!("/assets/{name}")).await.1.len();
        assets += 1;
    }
    println!(
        "first load of the kabupaten's dashboard: {first_load} bytes gzipped (page and {assets} assets; budget 150 KB)"
    );

    let runs = 200;
    let timed = |label: &'static str, paths: Vec<String>| {
        let get = &get;
        async move {
            let mut samples = Vec::new();
            for path in paths {
                samples.push(get(path).await.0);
            }
            report(label, samples);
        }
    };
    timed(
        "page: dashboard of the kabupaten (15 kecamatan)",
        vec!["/dashboard?region=16.04".into(); runs],
    )
    .await;
    timed(
        "page: dashboard of one village",
        (0..runs)
            .map(|i| {
                format!(
                    "/dashboard?region={}",
                    village(i as u64 % DISTRICTS, i as u64 % VILLAGES)
                )
            })
            .collect(),
    )
    .await;
    timed(
        "page: household list of the kabupaten, first page",
        vec!["/households?region=16.04".into(); runs],
    )
    .await;
    timed(
        "page: household list of a village, visited ones",
        (0..runs)
            .map(|i| {
                format!(
                    "/households?region={}&status=VISITED",
                    village(i as u64 % DISTRICTS, (i as u64 * 7) % VILLAGES)
                )
            })
            .collect(),
    )
    .await;
    timed(
        "page: one household (members, visits, reviews)",
        (0..runs as u64)
            .map(|i| {
                let index = (i * 7919) % (DISTRICTS * VILLAGES * PER_VILLAGE);
                let within = index % (VILLAGES * PER_VILLAGE);
                let h = sample::household(
                    index,
                    &village(index / (VILLAGES * PER_VILLAGE), within / PER_VILLAGE),
                    1,
                    1,
                );
                format!("/households/{}", h.household_id.0)
            })
            .collect(),
    )
    .await;
    timed(
        "campaigns: the kabupaten's two rounds with their progress",
        vec!["/campaigns?region=16.04".into(); runs],
    )
    .await;
    // The kabupaten's whole extent at zoom 9 (one tile ≈ 0.7°), as the map opens.
    timed(
        "map: clusters of the kabupaten at zoom 9",
        vec!["/api/v1/map/clusters?region=16.04&bbox=102.9,-5.6,104.1,-3.2&zoom=9".into(); runs],
    )
    .await;
    timed(
        "map: clusters of one kecamatan at zoom 12",
        vec![
            "/api/v1/map/clusters?region=16.04.01&bbox=102.95,-3.85,103.55,-3.25&zoom=12".into();
            runs
        ],
    )
    .await;
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}
