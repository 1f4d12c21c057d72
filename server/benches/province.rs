//! A province's progress report (issue 16, item 7): prints figures, asserts nothing.
//!
//!     cargo bench -p verivali-server --bench province                       # SQLite
//!     VERIVALI_BENCH_DATABASE=postgres://…/postgres cargo bench -p verivali-server --bench province
//!
//! One real province from the national region list (`../shared/reference/wilayah.csv`; Jawa
//! Tengah, `VERIVALI_BENCH_PROVINCE=33`) with `VERIVALI_BENCH_HOUSEHOLDS` target households
//! (1,500,000 by default, about a province's P3KE list) spread unevenly over its villages. Each is
//! a P3KE family with members and NIKs (`sample::household`), stored by the store's own writes
//! (its listing and baseline, then a merged row), with the verdict a campaign halfway through
//! leaves: 45% not visited yet, the rest visited, waiting for review, approved or sent back, with
//! outcomes, assessments and recommendations of every kind. Then the progress report a supervisor
//! opens, of the province, one kabupaten, one kecamatan and one village, 10 times each.
//!
//! On SQLite always (a kabupaten's engine, here beyond its size), and on a new PostgreSQL database
//! of the cluster `VERIVALI_BENCH_DATABASE` names, vacuumed and analysed after the load as
//! autovacuum would within minutes.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{env_usize, mix};
use verivali_core::model::*;
use verivali_core::sample;
use verivali_server::db::{Db, DbError};
use verivali_server::reports::{self, Place};
use verivali_server::store::{Conn, enumerators, households};

/// glibc's malloc took a fifth of the writer's time in profiles; mimalloc takes far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Households stored in one transaction.
const BATCH: usize = 5_000;

/// The province's regions (code, name), and its villages.
fn province(code: &str) -> (Vec<(String, String)>, Vec<RegionCode>) {
    let list = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/wilayah.csv");
    let mut reader = csv::Reader::from_path(&list).unwrap();
    let (mut names, mut villages) = (Vec::new(), Vec::new());
    for row in reader.records() {
        let row = row.unwrap();
        if row[0] != *code && !row[0].starts_with(&format!("{code}.")) {
            continue;
        }
        names.push((row[0].to_owned(), row[1].to_owned()));
        if let Ok(region) = RegionCode::parse(&row[0])
            && region.level() == RegionLevel::Village
        {
            villages.push(region);
        }
    }
    assert!(!villages.is_empty(), "no villages of province {code}");
    (names, villages)
}

/// Households per village, uneven (a half to one and a half times the mean), `total` in all.
fn households_per_village(villages: usize, total: usize) -> Vec<usize> {
    let weights: Vec<u64> = (0..villages as u64).map(|v| 50 + mix(v) % 101).collect();
    let sum: u64 = weights.iter().sum();
    let mut counts: Vec<usize> = weights
        .iter()
        .map(|w| (*w as u128 * total as u128 / sum as u128) as usize)
        .collect();
    let short = total - counts.iter().sum::<usize>();
    for count in counts.iter_mut().take(short) {
        *count += 1;
    }
    counts
}

fn pick<T: Labelled>(seed: u64) -> T {
    T::ALL[(seed % T::ALL.len() as u64) as usize]
}

/// The verdict a campaign halfway through leaves on household `seed`: (target status, status,
/// outcome, assessment, recommendation).
fn verdict(
    seed: u64,
) -> (
    TargetStatus,
    VerificationStatus,
    Option<Outcome>,
    Option<Assessment>,
    Option<Recommendation>,
) {
    let target = match seed % 100 {
        0 => TargetStatus::Removed,
        1 => TargetStatus::Proposed,
        2 => TargetStatus::MergedInto,
        _ => TargetStatus::Active,
    };
    let roll = (seed >> 8) % 100;
    let status = match roll {
        0..45 => return (target, VerificationStatus::NotVisited, None, None, None),
        45..75 => VerificationStatus::Visited,
        75..85 => VerificationStatus::NeedsReview,
        85..97 => VerificationStatus::Approved,
        _ => VerificationStatus::RevisitRequested,
    };
    let outcome = if (seed >> 16).is_multiple_of(4) {
        pick::<Outcome>(seed >> 20)
    } else {
        Outcome::Found
    };
    let assessment = (outcome == Outcome::Found).then(|| pick::<Assessment>(seed >> 24));
    let recommendation = if (seed >> 28).is_multiple_of(3) {
        pick::<Recommendation>(seed >> 32)
    } else {
        Recommendation::Keep
    };
    (
        target,
        status,
        Some(outcome),
        assessment,
        Some(recommendation),
    )
}

/// Stores household `index` of `village` as an import and a merge leave it.
fn store_household(conn: Conn<'_>, index: u64, village: &RegionCode) -> Result<(), DbError> {
    let seed = mix(index);
    let household = sample::household(index, village, 1 + (seed % 6) as u16, 1 + (seed % 4) as u16);
    let id = household.household_id.to_string();
    let baseline = serde_json::to_string(&household)?;
    let source_id = format!("3302{index:012}");
    let rw = household.rw.as_ref().map(Rw::as_str);
    let rt = household.rt.as_ref().map(Rt::as_str);
    households::write_baseline(
        conn,
        &households::Listing {
            household_id: &id,
            region: village.as_str(),
            rw,
            rt,
            source: "P3KE",
            source_id: Some(&source_id),
            baseline: &baseline,
        },
    )?;
    let (target, status, outcome, assessment, recommendation) = verdict(seed);
    households::write_merged(
        conn,
        &households::MergedRow {
            household_id: &id,
            region: village.as_str(),
            // The report reads none of the state: the baseline stands in for it, of its size.
            state: &baseline,
            state_hash: &format!("{seed:064x}"),
            status: status.code(),
            outcome: outcome.map(Labelled::code),
            assessment: assessment.map(Labelled::code),
            recommendation: recommendation.map(Labelled::code),
            change_seq: households::next_change_seq(conn)?,
            head_name: &household.head_name,
            address: &household.address,
            target_status: target.code(),
            merged_into: None,
            keys_digest: "",
            rw,
            rt,
        },
    )
}

fn percentile(samples: &mut [Duration], p: usize) -> f64 {
    samples.sort();
    samples[(samples.len() * p / 100).min(samples.len() - 1)].as_secs_f64() * 1e3
}

fn run(label: &str, db: &Db, names: &[(String, String)], villages: &[RegionCode], total: usize) {
    println!("== {label}");
    let regions = names.to_vec();
    db.write_blocking(move |conn| {
        for (code, name) in &regions {
            enumerators::put_region(conn, code, name)?;
        }
        Ok::<_, DbError>(())
    })
    .unwrap();
    let per_village = households_per_village(villages.len(), total);
    let work: Vec<(u64, RegionCode)> = villages
        .iter()
        .zip(&per_village)
        .flat_map(|(village, n)| std::iter::repeat_n(village, *n))
        .enumerate()
        .map(|(i, village)| (i as u64, village.clone()))
        .collect();
    let started = Instant::now();
    for (n, batch) in work.chunks(BATCH).enumerate() {
        let batch = batch.to_vec();
        db.write_blocking(move |conn| {
            for (index, village) in &batch {
                store_household(conn, *index, village)?;
            }
            Ok::<_, DbError>(())
        })
        .unwrap();
        let done = (n + 1) * BATCH;
        if done.is_multiple_of(250_000) {
            println!(
                "  {done} households stored in {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  {total} households in {} villages stored in {secs:.0} s ({:.0}/s)",
        villages.len(),
        total as f64 / secs
    );
    if let Some(url) = common::database()
        && db.path().is_none()
    {
        let started = Instant::now();
        let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
        client.batch_execute("VACUUM (ANALYZE) households").unwrap();
        let bytes: i64 = client
            .query_one("SELECT pg_database_size(current_database())", &[])
            .unwrap()
            .get(0);
        println!(
            "  vacuumed and analysed in {:.0} s; database {:.0} MiB",
            started.elapsed().as_secs_f64(),
            bytes as f64 / 1048576.0
        );
    }
    if let Some(path) = db.path() {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        println!("  database {:.0} MiB", size as f64 / 1048576.0);
    }
    let village = &villages[villages.len() / 2];
    let code = village.as_str();
    for (level, region) in [
        ("the province", &code[..2]),
        ("one kabupaten", &code[..5]),
        ("one kecamatan", &code[..8]),
        ("one village", code),
    ] {
        let place = Place::region(RegionCode::parse(region).unwrap());
        let mut samples = Vec::new();
        let mut counted = 0;
        for _ in 0..10 {
            let started = Instant::now();
            let place = place.clone();
            let progress = db
                .read_blocking(move |conn| reports::progress(conn, &place))
                .unwrap();
            samples.push(started.elapsed());
            counted = progress.total.targets;
        }
        println!(
            "  progress of {level} ({region}, {counted} targets): median {:.1} ms, slowest {:.1} ms of 10",
            percentile(&mut samples, 50),
            percentile(&mut samples, 100)
        );
    }
}

fn main() {
    let code = std::env::var("VERIVALI_BENCH_PROVINCE").unwrap_or_else(|_| "33".into());
    let total = env_usize("VERIVALI_BENCH_HOUSEHOLDS", 1_500_000);
    let (names, villages) = province(&code);
    println!(
        "province {code}: {} regions, {} villages, {total} target households",
        names.len(),
        villages.len()
    );
    let dir = tempfile::TempDir::new().unwrap();
    let sqlite = Db::open(dir.path()).unwrap();
    run("SQLite", &sqlite, &names, &villages, total);
    drop(sqlite);
    if let Some(url) = common::database() {
        let postgres = Db::open_postgres(url).unwrap();
        run("PostgreSQL", &postgres, &names, &villages, total);
    }
}
