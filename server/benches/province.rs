//! A province's reads (issue 16, item 7): prints figures, asserts nothing.
//!
//!     cargo bench -p verivali-server --bench province                       # SQLite
//!     VERIVALI_BENCH_DATABASE=postgres://…/postgres cargo bench -p verivali-server --bench province
//!
//! One real province from the national region list (`../shared/reference/wilayah.csv`; Jawa
//! Tengah, `VERIVALI_BENCH_PROVINCE=33`) with `VERIVALI_BENCH_HOUSEHOLDS` target households
//! (1,500,000 by default, about a province's P3KE list) spread unevenly over its villages. Each is
//! a P3KE family with members and NIKs (`sample::household`), stored by the store's own writes
//! (its listing and baseline, then a merged row with the state the merge gives, of a complete
//! visit once visited), with the verdict a campaign halfway through leaves: 45% not visited yet,
//! the rest visited, waiting for review, approved or sent back, with outcomes, assessments and
//! recommendations of every kind. Then what a supervisor opens, of the province, one kabupaten,
//! one kecamatan and one village: the progress report, the household list's first page (all, of
//! one status, and a name no one has), the queue of households whose enumerators disagree, 10
//! times each, and the CSV export.
//!
//! On SQLite always (a kabupaten's engine, here beyond its size), and on a new PostgreSQL database
//! of the cluster `VERIVALI_BENCH_DATABASE` names, vacuumed and analysed after the load as
//! autovacuum would within minutes. That database is kept: `VERIVALI_BENCH_LOADED=postgres://…/…`
//! runs the reads on it again without loading anything.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{env_usize, mix};
use verivali_core::canonical::visit_content_hash;
use verivali_core::merge::{AcceptedVisit, merge_with_text};
use verivali_core::model::*;
use verivali_core::sample;
use verivali_server::db::{Db, DbError};
use verivali_server::exports::{self, Format};
use verivali_server::reports::{self, Place};
use verivali_server::store::{Conn, enumerators, household_pages, households, queues};

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
    // The state the merge gives: of the baseline alone, or with a complete visit once visited,
    // of their size (exports read it; the verdict columns beside it are the campaign's).
    let visits = match status {
        VerificationStatus::NotVisited => Vec::new(),
        _ => {
            // From 2 November 2026, 09:00 WIB, a minute apart.
            let at =
                Timestamp::from_unix_millis(1_793_584_800_000 + (seed % 40_000) as i64 * 60_000);
            let visit = sample::found_visit(
                &household,
                EnumeratorId(uuid::Uuid::from_u64_pair(1, seed % 40)),
                DeviceId(uuid::Uuid::from_u64_pair(2, seed % 40)),
                at,
                seed,
            );
            vec![AcceptedVisit {
                content_hash: visit_content_hash(&visit).unwrap(),
                order_time: visit.finished_at.unwrap(),
                visit,
            }]
        }
    };
    let (merged, state) = merge_with_text(&household, &visits, &[]).unwrap();
    households::write_merged(
        conn,
        &households::MergedRow {
            household_id: &id,
            region: village.as_str(),
            state: &state,
            state_hash: &merged.state_hash.to_string(),
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
    reads(db, villages);
}

/// The reads a supervisor makes, of the province and of one kabupaten, kecamatan and village.
fn reads(db: &Db, villages: &[RegionCode]) {
    let village = &villages[villages.len() / 2];
    let code = village.as_str();
    for (level, region) in [
        ("the province", &code[..2]),
        ("one kabupaten", &code[..5]),
        ("one kecamatan", &code[..8]),
        ("one village", code),
    ] {
        let region = RegionCode::parse(region).unwrap();
        println!("  {level} ({region}):");
        let place = Place::region(region.clone());
        timed(db, "progress", 10, move |conn| {
            Ok(reports::progress(conn, &place)?.total.targets as usize)
        });
        let (from, to) = reports::code_range(&region);
        for (read, status, name_like) in [
            ("household list, first page", None, None),
            (
                "household list, waiting for review",
                Some("NEEDS_REVIEW"),
                None,
            ),
            (
                "household list, a name no one has",
                None,
                Some("%zulkarnain%"),
            ),
        ] {
            let (from, to) = (from.clone(), to.clone());
            timed(db, read, 10, move |conn| {
                let asked = household_pages::Listed {
                    villages: (&from, &to),
                    after: "",
                    status,
                    assessment: None,
                    recommendation: None,
                    flagged: false,
                    nik_key: None,
                    name_like,
                    limit: 50,
                };
                Ok(household_pages::page(conn, &asked)?.len())
            });
        }
        let villages = (from.clone(), to.clone());
        timed(db, "conflicts queue", 10, move |conn| {
            Ok(queues::conflicts(conn, (&villages.0, &villages.1))?.len())
        });
        // The file is built in memory (docs/exports.md): the process's peak is printed.
        let runs = if region.level() == RegionLevel::Province {
            1
        } else {
            3
        };
        let (before, size) = (resident_mib("VmRSS:"), std::sync::Mutex::new(0));
        timed(db, "export as CSV", runs, |conn| {
            let (rows, file) = exports::write_region(conn, &region, None, false, Format::Csv)
                .map_err(|e| DbError::Inconsistent(e.to_string()))?;
            *size.lock().unwrap() = file.len();
            Ok(rows)
        });
        println!(
            "      {:.1} MiB; the process held {before:.0} MiB before, {:.0} MiB at its peak",
            size.into_inner().unwrap() as f64 / 1048576.0,
            resident_mib("VmHWM:")
        );
    }
}

/// Runs `read` `runs` times on a reader and prints its median and slowest, and what it counted.
fn timed(db: &Db, read: &str, runs: usize, f: impl Fn(Conn<'_>) -> Result<usize, DbError> + Sync) {
    let mut samples = Vec::new();
    let mut counted = 0;
    for _ in 0..runs {
        let started = Instant::now();
        counted = db.read_blocking(&f).unwrap();
        samples.push(started.elapsed());
    }
    println!(
        "    {read} ({counted}): median {:.1} ms, slowest {:.1} ms of {runs}",
        percentile(&mut samples, 50),
        percentile(&mut samples, 100)
    );
}

/// The process's resident memory (`VmRSS:`) or its peak (`VmHWM:`), in MiB.
fn resident_mib(which: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(which))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
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
    // A PostgreSQL database an earlier run loaded with this province: its reads again, alone.
    if let Ok(url) = std::env::var("VERIVALI_BENCH_LOADED") {
        println!("== PostgreSQL, as loaded before");
        reads(&Db::open_postgres(&url).unwrap(), &villages);
        return;
    }
    let dir = tempfile::TempDir::new().unwrap();
    let sqlite = Db::open(dir.path()).unwrap();
    run("SQLite", &sqlite, &names, &villages, total);
    drop(sqlite);
    if let Some(url) = common::database() {
        let postgres = Db::open_postgres(url).unwrap();
        run("PostgreSQL", &postgres, &names, &villages, total);
    }
}
