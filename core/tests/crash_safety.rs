//! A phone process killed with SIGKILL in the middle of writing never corrupts its store and
//! never loses a visit that finishing acknowledged.
//!
//! The test binary runs itself again as the child (the ignored test `writer_child`), which
//! finishes visits in a loop and prints each one as `finish_visit` returns. The parent kills it at
//! varying moments, four times over the same file, and checks after each kill.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use uuid::Uuid;
use verivali_core::merge::merge;
use verivali_core::model::*;
use verivali_core::sample;
use verivali_core::store::Store;

const CHILD_DB: &str = "VERIVALI_CRASH_TEST_DB";
const HOUSEHOLDS: u64 = 40;

#[test]
#[ignore = "the child process of a_killed_writer_loses_no_finished_visit"]
fn writer_child() {
    let path = std::env::var(CHILD_DB).expect("run by the crash test");
    let store = Store::open(&path, &sample::store_key()).unwrap();
    for round in 0u64.. {
        let household = sample::household(round % HOUSEHOLDS, &sample::village(), 1, 1);
        let now = Timestamp::now_utc();
        let started = Timestamp(now.0 - time::Duration::minutes(15));
        let draft = store
            .start_visit(Some(household.household_id), started)
            .unwrap();
        let mut visit = sample::fill_draft(&draft, &household, now, round);
        // Typing: the draft is saved several times before it is finished.
        for n in 0..3 {
            visit.notes = Some(format!("catatan {n}"));
            store.save_draft(&visit).unwrap();
        }
        let done = store.finish_visit(visit.visit_id, now, None).unwrap();
        println!(
            "FINISHED {} {} {}",
            done.visit_id, done.device_seq, done.content_hash
        );
    }
}

/// visit id → (device_seq, content hash), as the child printed them.
type Acknowledged = BTreeMap<String, (u64, String)>;

#[test]
fn a_killed_writer_loses_no_finished_visit() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("phone.db");
    {
        let store = Store::open(&path, &sample::store_key()).unwrap();
        store
            .set_identity(
                DeviceId(Uuid::from_u128(1)),
                EnumeratorId(Uuid::from_u128(2)),
            )
            .unwrap();
        let states: Vec<_> = (0..HOUSEHOLDS)
            .map(|i| merge(&sample::household(i, &sample::village(), 1, 1), &[], &[]).unwrap())
            .collect();
        store.save_households(&states, None).unwrap();
    }

    let mut acknowledged = Acknowledged::new();
    for round in 0..4u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "writer_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DB, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let target = 25 + round * 13;
        let mut seen = 0;
        while seen < target {
            let line = lines.next().expect("the child stopped early").unwrap();
            seen += u64::from(record(&mut acknowledged, &line));
        }
        // Kill at a varying point inside the next visit's writes.
        std::thread::sleep(Duration::from_micros(300 * round));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        // Whatever the child printed before it died was acknowledged too.
        for line in lines.map_while(Result::ok) {
            record(&mut acknowledged, &line);
        }

        let store = Store::open(&path, &sample::store_key()).unwrap();
        assert_eq!(store.integrity_problems().unwrap(), Vec::<String>::new());
        let outbox: BTreeMap<u64, (String, String)> = store
            .pending_outbox(u32::MAX)
            .unwrap()
            .into_iter()
            .map(|o| {
                (
                    o.device_seq,
                    (o.visit.visit_id.to_string(), o.content_hash.to_string()),
                )
            })
            .collect();
        let seqs: Vec<u64> = outbox.keys().copied().collect();
        assert_eq!(
            seqs,
            (1..=outbox.len() as u64).collect::<Vec<_>>(),
            "device_seq has gaps"
        );
        for (visit_id, (seq, hash)) in &acknowledged {
            assert_eq!(
                outbox.get(seq),
                Some(&(visit_id.clone(), hash.clone())),
                "finished visit {visit_id} lost"
            );
            let visit = store
                .visit(VisitId::parse(visit_id).unwrap())
                .unwrap()
                .unwrap();
            assert_eq!(
                &verivali_core::canonical::visit_content_hash(&visit)
                    .unwrap()
                    .to_string(),
                hash
            );
        }
    }
    assert!(acknowledged.len() >= 4 * 25);
}

/// Records a `FINISHED id seq hash` line; other lines (libtest's own) are ignored.
fn record(acknowledged: &mut Acknowledged, line: &str) -> bool {
    let Some(rest) = line.strip_prefix("FINISHED ") else {
        return false;
    };
    let parts: Vec<&str> = rest.split(' ').collect();
    acknowledged.insert(
        parts[0].to_owned(),
        (parts[1].parse().unwrap(), parts[2].to_owned()),
    );
    true
}
