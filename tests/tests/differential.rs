//! The differential test of the server path (`docs/merge.md`, "Proof by difference"): generated
//! visits from several phones (time zones from −12:00 to +14:00, wrong clocks, double taps,
//! corrections, a reinstalled phone sending again, a restored store, visits the server must
//! refuse) are pushed into three server processes in different orders, batchings and retries,
//! with areas moved between enumerators half way and supervisors' decisions (returns, approvals,
//! resolutions, re-visit requests, each possibly sent twice) mixed in. At the end, for every
//! household, every server holds the same visits and the same `state_hash`, each content is
//! counted once, and every phone's pulled state equals its server's, household for household.
//!
//! Each case has its own villages, households and enumerators in the same three servers, so a
//! failing case is named by its seed and runs alone with `VERIVALI_DIFF_SEED=<seed>
//! VERIVALI_DIFF_CASES=1`. The test command runs 200 cases; `VERIVALI_DIFF_SEED=1001
//! VERIVALI_DIFF_CASES=1500` is the longer run (docs/merge.md).

#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration as StdDuration;
use verivali_server::roles::Role;

use serde_json::{Value, json};
use tempfile::TempDir;
use time::{Duration, OffsetDateTime, UtcOffset};
use uuid::Uuid;
use verivali_core::model::*;
use verivali_core::protocol::{Area, EnrollResponse, PushItem, PushRequest, PushResponse};
use verivali_core::sample;
use verivali_core::store::Store;
use verivali_core::sync::{self, SyncConfig};
use verivali_e2e::{ServerProcess, copy_dir, http};
use verivali_server::db::{Db, DbError};
use verivali_server::{admin, households};

const SERVERS: usize = 3;
/// Phases of a case: before the areas move, after, and after the supervisors' decisions.
const PHASES: u8 = 3;

/// splitmix64: the whole case follows from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize].clone()
    }
    fn uuid(&mut self) -> Uuid {
        let bytes = (u128::from(self.next()) << 64 | u128::from(self.next())).to_le_bytes();
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

/// Village `k` (0 or 1) of case `case`.
fn village(case: u64, k: u64) -> RegionCode {
    let n = 2 * case + k;
    RegionCode::parse(&format!("16.04.{:02}.{}", 10 + n / 900, 2001 + n % 900)).unwrap()
}

fn area(region: &RegionCode, rw: Option<u16>) -> Area {
    Area {
        region: region.clone(),
        rw: rw.map(|n| Rw::new(n).unwrap()),
        rt: None,
    }
}

/// The enumerators of a case: 0 works in village A, 1 in A's RW 1, 2 in village B. Half way,
/// B goes from 2 to 1, and 2 gets A's RW 2.
fn enumerator_id(case: u64, e: usize) -> EnumeratorId {
    EnumeratorId(Uuid::from_u128(
        0xe000_0000_0000 + u128::from(case) * 4 + e as u128,
    ))
}

fn areas_before(case: u64, e: usize) -> Vec<Area> {
    let (a, b) = (village(case, 0), village(case, 1));
    match e {
        0 => vec![area(&a, None)],
        1 => vec![area(&a, Some(1))],
        _ => vec![area(&b, None)],
    }
}

fn areas_after(case: u64, e: usize) -> Vec<Area> {
    let (a, b) = (village(case, 0), village(case, 1));
    match e {
        0 => vec![area(&a, None)],
        1 => vec![area(&a, Some(1)), area(&b, None)],
        _ => vec![area(&a, Some(2))],
    }
}

/// Households of a case: four in village A (RW 1 and 2, RT 1 and 2), three in B.
fn case_households(case: u64) -> Vec<Household> {
    let (a, b) = (village(case, 0), village(case, 1));
    let places = [
        (&a, 1, 1),
        (&a, 1, 2),
        (&a, 2, 1),
        (&a, 2, 2),
        (&b, 1, 1),
        (&b, 1, 2),
        (&b, 1, 3),
    ];
    places
        .iter()
        .enumerate()
        .map(|(i, (region, rw, rt))| {
            let mut h = sample::household(case * 7 + i as u64, region, *rw, *rt);
            // As P3KE lists often have it: a child without NIK, for the field to fill in.
            if i % 3 == 0 {
                h.members[3].details.nik = None;
            }
            h
        })
        .collect()
}

/// The phones of a case that push: 0 and 1 are enumerator 0's (1 is its reinstall), 2 is
/// enumerator 1's, 3 is enumerator 2's. Each enrolls with its own code; a fifth code per
/// enumerator enrolls the phone whose pulls are compared.
const PUSHERS: [usize; 4] = [0, 0, 1, 2];

/// What the seeding gives every server alike.
struct Seeded {
    /// Per case, per pushing phone, its code; per case, per enumerator, the observer's code.
    push_codes: Vec<Vec<String>>,
    observer_codes: Vec<Vec<String>>,
    supervisor: String,
}

fn seed_template(dir: &Path, cases: u64, first_seed: u64) -> Seeded {
    let db = Db::open(dir).unwrap();
    db.write_blocking(move |tx| {
        let villages: Vec<RegionCode> = (first_seed..first_seed + cases)
            .flat_map(|case| [village(case, 0), village(case, 1)])
            .collect();
        verivali_e2e::save_regions(tx, &villages)?;
        for case in first_seed..first_seed + cases {
            for h in case_households(case) {
                households::save_baseline(tx, &h, Timestamp::now_utc())?;
            }
        }
        Ok::<_, DbError>(())
    })
    .unwrap();
    let (mut push_codes, mut observer_codes) = (Vec::new(), Vec::new());
    for case in first_seed..first_seed + cases {
        let mut observers = Vec::new();
        for e in 0..3 {
            let id = admin::add_enumerator_with_id(
                &db,
                enumerator_id(case, e),
                &format!("Pencacah {case}-{e}"),
                areas_before(case, e),
            )
            .unwrap();
            observers.push(admin::enrollment_code(&db, id, Duration::hours(12)).unwrap());
        }
        let codes = PUSHERS
            .iter()
            .map(|e| {
                admin::enrollment_code(&db, enumerator_id(case, *e), Duration::hours(12)).unwrap()
            })
            .collect();
        push_codes.push(codes);
        observer_codes.push(observers);
    }
    let (_, supervisor) = admin::add_supervisor(
        &db,
        "Bappeda",
        RegionCode::parse("16.04").unwrap(),
        Role::Reviewer,
    )
    .unwrap();
    db.close();
    Seeded {
        push_codes,
        observer_codes,
        supervisor,
    }
}

/// A phone that pushes: its ids, the zone it writes times in and its clock's error.
#[derive(Debug, Clone)]
struct Pusher {
    enumerator: usize,
    device_id: DeviceId,
    offset: UtcOffset,
    /// The phone's clock minus true time.
    clock_error: Duration,
}

impl Pusher {
    /// A true time as this phone writes it.
    fn write(&self, true_time: OffsetDateTime) -> Timestamp {
        Timestamp((true_time + self.clock_error).to_offset(self.offset))
    }
}

/// One push item with what the test knows of it.
#[derive(Debug, Clone)]
struct Planned {
    /// The phone whose token pushes it (a restored store pushes its former phone's visits).
    pusher: usize,
    item: PushItem,
    /// The visit whose content this one repeats (a double tap, a reinstalled phone sending
    /// again); its own id otherwise. Kept by the generator, not computed by the code under test.
    same_as: VisitId,
    /// The first and last phase it may be delivered in.
    earliest: u8,
    latest: u8,
    accepted: bool,
}

/// A supervisor's decision as the test posts it, and whether it is posted twice.
#[derive(Debug, Clone)]
struct PlannedDecision {
    body: Value,
    twice: bool,
}

/// A generated case: the phones, their visits in the order each phone finished them, the
/// decisions.
struct Case {
    seed: u64,
    households: Vec<Household>,
    pushers: Vec<Pusher>,
    visits: Vec<Planned>,
    decisions: Vec<PlannedDecision>,
}

const OFFSETS: [i8; 9] = [7, 8, 9, -12, 14, 0, 5, -3, 13];
const CLOCK_ERRORS_MIN: [i64; 8] = [0, 0, 0, 180, -420, 1440, -30, 45];

fn generate(seed: u64, now: OffsetDateTime) -> Case {
    let mut rng = Rng(seed ^ 0x5eed_0000);
    let households = case_households(seed);
    let pushers: Vec<Pusher> = PUSHERS
        .iter()
        .map(|&e| Pusher {
            enumerator: e,
            device_id: DeviceId(rng.uuid()),
            offset: UtcOffset::from_hms(rng.pick(&OFFSETS), 0, 0).unwrap(),
            // A zone or date gone wrong, plus up to 90 s of drift.
            clock_error: Duration::minutes(rng.pick(&CLOCK_ERRORS_MIN))
                + Duration::seconds(rng.below(181) as i64 - 90),
        })
        .collect();
    let covers = |areas: &[Area], h: &Household| {
        areas
            .iter()
            .any(|a| a.covers(&h.region, h.rw.as_ref(), h.rt.as_ref()))
    };
    let mut seqs = vec![0u64; pushers.len()];
    let mut visits: Vec<Planned> = Vec::new();
    // Members added by some visit, which others may update later: (household index, member).
    let mut added: Vec<(usize, MemberId)> = Vec::new();
    for phase in 1..=PHASES {
        // Phone 0 is lost during phase 2; its enumerator works on with phone 1 after.
        let phones = if phase == PHASES {
            [1usize, 2, 3]
        } else {
            [0, 2, 3]
        };
        for p in phones {
            let pusher = pushers[p].clone();
            let e = pusher.enumerator;
            let areas = if phase == 1 {
                areas_before(seed, e)
            } else {
                areas_after(seed, e)
            };
            let mine: Vec<usize> = (0..households.len())
                .filter(|&i| covers(&areas, &households[i]))
                .collect();
            let count = if phase == PHASES {
                rng.below(2)
            } else {
                1 + rng.below(3)
            };
            for _ in 0..count {
                let hi = rng.pick(&mine);
                let true_finished = if phase == PHASES {
                    // After the decisions: finished in the minutes after they were made.
                    now + Duration::minutes(7) + Duration::seconds(rng.below(60) as i64)
                } else {
                    now - Duration::minutes(60 + rng.below(3 * 24 * 60) as i64)
                };
                seqs[p] += 1;
                let (mut visit, refused) = make_visit(
                    &mut rng,
                    &households[hi],
                    hi,
                    &pusher,
                    seed,
                    true_finished,
                    seqs[p],
                    &mut added,
                );
                let accepted = !refused;
                // A correction of an earlier visit of the same phone to the same household.
                if rng.chance(15)
                    && let Some(original) = visits.iter().rev().find(|v| {
                        v.pusher == p
                            && v.accepted
                            && v.item.visit.device_id == pusher.device_id
                            && v.item.visit.household_id == visit.household_id
                    })
                {
                    visit.supersedes = Some(original.item.visit.visit_id);
                    // It keeps the original's start, unless that falls after its own finish: a
                    // visit that ends before it begins is refused (VIS-12).
                    visit.started_at = original.item.visit.started_at.min(visit.started_at);
                }
                let item = PushItem {
                    device_seq: seqs[p],
                    visit,
                };
                let planned = Planned {
                    pusher: p,
                    same_as: item.visit.visit_id,
                    item,
                    earliest: phase,
                    latest: PHASES,
                    accepted,
                };
                visits.push(planned.clone());
                // A double tap: the same content under a new id, numbered next.
                if rng.chance(15) {
                    let mut twin = planned;
                    seqs[p] += 1;
                    twin.item.device_seq = seqs[p];
                    twin.item.visit.visit_id = VisitId(rng.uuid());
                    visits.push(twin);
                }
            }
        }
        if phase == 2 {
            // Enumerator 0 loses phone 0 and reinstalls as phone 1: it sends again what it had
            // sent from phone 0 (new ids, its own numbers), and the restored store's unsent
            // visits as phone 0 numbered them.
            let sent: Vec<Planned> = visits
                .iter()
                .filter(|v| v.pusher == 0 && v.accepted && v.item.visit.supersedes.is_none())
                .cloned()
                .collect();
            for original in &sent {
                if !rng.chance(40) {
                    continue;
                }
                let mut again = original.clone();
                seqs[1] += 1;
                again.pusher = 1;
                again.earliest = 2;
                again.item.device_seq = seqs[1];
                again.item.visit.visit_id = VisitId(rng.uuid());
                again.item.visit.device_id = pushers[1].device_id;
                visits.push(again);
            }
            if let Some(last) = visits.iter().rposition(|v| v.pusher == 0) {
                let unsent = &mut visits[last];
                if unsent.item.visit.supersedes.is_none() {
                    unsent.pusher = 1;
                    unsent.earliest = unsent.earliest.max(2);
                }
            }
        }
    }
    let decisions = plan_decisions(&mut rng, &households, &mut visits);
    Case {
        seed,
        households,
        pushers,
        visits,
        decisions,
    }
}

/// A visit by `pusher` to household `hi`; the flag says it must be refused (a malformed NIK).
#[allow(clippy::too_many_arguments)]
fn make_visit(
    rng: &mut Rng,
    household: &Household,
    hi: usize,
    pusher: &Pusher,
    case: u64,
    true_finished: OffsetDateTime,
    seq: u64,
    added: &mut Vec<(usize, MemberId)>,
) -> (Visit, bool) {
    let finished = pusher.write(true_finished);
    let mut v = sample::found_visit(
        household,
        enumerator_id(case, pusher.enumerator),
        pusher.device_id,
        finished,
        seq ^ rng.next(),
    );
    v.visit_id = VisitId(rng.uuid());
    v.housing.floor_area_m2 = Some(18.0 + rng.below(60) as f64);
    v.assessment = Some(rng.pick(&[
        Assessment::ExtremePoor,
        Assessment::Poor,
        Assessment::Vulnerable,
        Assessment::NotPoor,
    ]));
    if rng.chance(12) {
        v.outcome = Some(Outcome::NobodyHome);
        v.assessment = None;
        v.recommendation = None;
        return (v, false);
    }
    let members = &household.members;
    if rng.chance(30) {
        v.member_changes.push(MemberChange::Update {
            member_id: members[1 + rng.below(3) as usize].member_id,
            details: MemberDetails {
                education: Some(rng.pick(&[
                    Education::InPrimary,
                    Education::PrimaryCompleted,
                    Education::InJuniorSecondary,
                ])),
                ..MemberDetails::default()
            },
        });
    }
    if rng.chance(20) {
        let member_id = MemberId(rng.uuid());
        v.member_changes.push(MemberChange::Add {
            member: Member {
                member_id,
                source_member_id: None,
                details: MemberDetails {
                    name: Some(format!("ANAK {}", rng.below(1000))),
                    relation: Some(Relation::Child),
                    sex: Some(Sex::Female),
                    birth_date: Some(time::macros::date!(2025 - 06 - 15)),
                    nik_missing_reason: Some(NikMissingReason::NotYetIssued),
                    ..MemberDetails::default()
                },
                presence: Presence::Present,
                presence_date: None,
            },
        });
        added.push((hi, member_id));
    }
    // A member another phone added, whose visit may not have arrived yet.
    let others: Vec<MemberId> = added
        .iter()
        .filter(|(h, _)| *h == hi)
        .map(|(_, m)| *m)
        .collect();
    if !others.is_empty() && rng.chance(40) {
        v.member_changes.push(MemberChange::Update {
            member_id: rng.pick(&others),
            details: MemberDetails {
                education: Some(Education::NoSchooling),
                ..MemberDetails::default()
            },
        });
    }
    // The child listed without NIK: one phone records it; a phone that has pulled it may then
    // update the child without typing it again, which the household as merged before the NIK
    // arrived would call incomplete (NIK-10).
    let child = &members[3];
    if child.details.nik.is_none() && rng.chance(40) {
        let born = child
            .details
            .birth_date
            .unwrap_or(time::macros::date!(2015 - 01 - 01));
        let with_nik = rng.chance(50);
        v.member_changes.push(MemberChange::Update {
            member_id: child.member_id,
            details: MemberDetails {
                nik: with_nik.then(|| {
                    Entered::Valid(sample::nik(
                        &household.region,
                        Sex::Male,
                        born,
                        hi as u64 + 7,
                    ))
                }),
                education: (!with_nik).then_some(Education::InPrimary),
                ..MemberDetails::default()
            },
        });
    }
    if rng.chance(10) {
        v.member_changes.push(MemberChange::MarkMoved {
            member_id: members[3].member_id,
            date: Some(time::macros::date!(2026 - 08 - 01)),
        });
    }
    if rng.chance(15) {
        v.kk_number = Some(Entered::from_input(
            rng.pick(&["1604011203150001", "1604012507180002"]),
        ));
        v.kk_change_reason = Some(KkChangeReason::Split);
    }
    // Now and then a visit the server must refuse whatever arrived before it.
    let refused = rng.chance(4);
    if refused {
        v.member_changes.push(MemberChange::Update {
            member_id: members[2].member_id,
            details: MemberDetails {
                nik: Some(Entered::from_input("1604")),
                ..MemberDetails::default()
            },
        });
    }
    (v, refused)
}

/// Decisions on visits delivered by the end of phase 2 (a decision needs its visit).
fn plan_decisions(
    rng: &mut Rng,
    households: &[Household],
    visits: &mut [Planned],
) -> Vec<PlannedDecision> {
    let mut decisions = Vec::new();
    let candidates: Vec<usize> = (0..visits.len())
        .filter(|&i| visits[i].accepted && visits[i].earliest < PHASES)
        .collect();
    for decision in ["RETURN", "APPROVE", "RESOLVE_CONFLICT", "APPROVE"] {
        if candidates.is_empty() || !rng.chance(70) {
            continue;
        }
        let i = rng.pick(&candidates);
        visits[i].latest = PHASES - 1;
        let visit = &visits[i].item.visit;
        decisions.push(PlannedDecision {
            body: json!({
                "review_id": rng.uuid(),
                "household_id": visit.household_id,
                "visit_id": visit.visit_id,
                "decision": decision,
                "comment": "Periksa lagi",
            }),
            twice: rng.chance(30),
        });
    }
    if rng.chance(60) {
        let h = rng.pick(households);
        decisions.push(PlannedDecision {
            body: json!({"review_id": rng.uuid(), "household_id": h.household_id,
                         "decision": "REQUEST_REVISIT"}),
            twice: rng.chance(30),
        });
    }
    decisions
}

/// One server's delivery of a case: batches of each phone in its order, each batch in a phase
/// between its visits' earliest and latest, phones interleaved at random.
struct Delivery {
    /// (phase, pusher, items, sent twice)
    batches: Vec<(u8, usize, Vec<PushItem>, bool)>,
}

fn delivery(case: &Case, rng: &mut Rng) -> Delivery {
    let mut keyed: Vec<(u8, u64, usize, Vec<PushItem>, bool)> = Vec::new();
    for p in 0..case.pushers.len() {
        let mine: Vec<&Planned> = case.visits.iter().filter(|v| v.pusher == p).collect();
        let (mut at, mut phase, mut key) = (0, 1u8, 0u64);
        while at < mine.len() {
            // Up to four visits, all of one phase: a batch never waits for a later phase.
            let first = mine[at].earliest;
            let size = mine[at..]
                .iter()
                .take(1 + rng.below(4) as usize)
                .take_while(|v| v.earliest == first)
                .count();
            let batch = &mine[at..at + size];
            let earliest = batch.iter().map(|v| v.earliest).max().unwrap_or(1);
            let latest = mine[at..].iter().map(|v| v.latest).min().unwrap_or(PHASES);
            // A phone that was offline sends later than it could have.
            phase = phase.max(earliest);
            if phase < latest && rng.chance(20) {
                phase += 1;
            }
            key += 1 + rng.below(10);
            keyed.push((
                phase,
                key,
                p,
                batch.iter().map(|v| v.item.clone()).collect(),
                rng.chance(20),
            ));
            at += size;
        }
    }
    // Per phase, phones interleaved by their keys (each phone's own order kept).
    keyed.sort_by_key(|(phase, key, p, ..)| (*phase, *key, *p));
    Delivery {
        batches: keyed
            .into_iter()
            .map(|(phase, _, p, items, twice)| (phase, p, items, twice))
            .collect(),
    }
}

/// A server process, and its database opened beside it for the admin calls the CLI makes.
struct Server {
    process: ServerProcess,
    db: Db,
}

struct Run<'a> {
    server: &'a Server,
    seeded: &'a Seeded,
    case_index: usize,
    client: reqwest::blocking::Client,
}

impl Run<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.process.url())
    }

    fn enroll(&self, code: &str, device: DeviceId) -> String {
        let r: EnrollResponse = self
            .client
            .post(self.url("/api/v1/devices/enroll"))
            .json(&json!({"code": code, "device_id": device, "device_name": "HP"}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        r.token
    }

    fn push(&self, token: &str, pusher: &Pusher, items: &[PushItem]) -> PushResponse {
        let request = PushRequest {
            sent_at: pusher.write(OffsetDateTime::now_utc()),
            items: items.to_vec(),
            finished_up_to: None,
        };
        let response = self
            .client
            .post(self.url("/api/v1/sync/push"))
            .bearer_auth(token)
            .json(&request)
            .send()
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.json().unwrap()
    }

    fn decide(&self, body: &Value) {
        let response = self
            .client
            .post(self.url("/api/v1/reviews"))
            .bearer_auth(&self.seeded.supervisor)
            .json(body)
            .send()
            .unwrap();
        let status = response.status();
        assert!(
            status.is_success(),
            "{status}: {}",
            response.text().unwrap()
        );
    }

    fn detail(&self, id: HouseholdId) -> Value {
        self.client
            .get(self.url(&format!("/api/v1/households/{id}")))
            .bearer_auth(&self.seeded.supervisor)
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    /// Delivers the case to this server; returns the observer phones, synced to the end.
    fn deliver(&self, case: &Case, plan: &Delivery, phones_dir: &Path) -> Vec<Store> {
        let tokens: Vec<String> = case
            .pushers
            .iter()
            .enumerate()
            .map(|(p, pusher)| {
                self.enroll(
                    &self.seeded.push_codes[self.case_index][p],
                    pusher.device_id,
                )
            })
            .collect();
        let config = SyncConfig {
            first_backoff: StdDuration::from_millis(20),
            max_backoff: StdDuration::from_millis(200),
            pull_limit: 3,
            ..SyncConfig::new(self.server.process.url())
        };
        let observers: Vec<Store> = (0..3)
            .map(|e| {
                let store = Store::open(
                    phones_dir.join(format!("observer-{e}.db")),
                    &sample::store_key(),
                )
                .unwrap();
                sync::enroll(
                    &config,
                    &store,
                    &self.seeded.observer_codes[self.case_index][e],
                    "HP pengamat",
                )
                .unwrap();
                sync::sync(&config, &store, &()).unwrap();
                store
            })
            .collect();
        let by_id: BTreeMap<VisitId, bool> = case
            .visits
            .iter()
            .map(|v| (v.item.visit.visit_id, v.accepted))
            .collect();
        let mut phase = 1;
        for (batch_phase, p, items, twice) in &plan.batches {
            while phase < *batch_phase {
                phase += 1;
                self.enter_phase(case, phase, &observers, &config);
            }
            for _ in 0..if *twice { 2 } else { 1 } {
                let answer = self.push(&tokens[*p], &case.pushers[*p], items);
                for (result, item) in answer.results.iter().zip(items) {
                    let expected = by_id[&item.visit.visit_id];
                    let stored = result.status != verivali_core::protocol::PushStatus::Rejected;
                    assert_eq!(
                        stored, expected,
                        "case {}: visit {} answered {:?} {:?}",
                        case.seed, item.visit.visit_id, result.status, result.issues
                    );
                }
            }
        }
        while phase < PHASES {
            phase += 1;
            self.enter_phase(case, phase, &observers, &config);
        }
        for store in &observers {
            sync::sync(&config, store, &()).unwrap();
        }
        observers
    }

    /// Phase 2 begins with the areas moved (the same admin call as the CLI's), phase 3 with the
    /// supervisors' decisions; phones pull in between.
    fn enter_phase(&self, case: &Case, phase: u8, observers: &[Store], config: &SyncConfig) {
        if phase == 2 {
            let seed = case.seed;
            for e in 0..3 {
                let (before, after) = (areas_before(seed, e), areas_after(seed, e));
                for gone in before.iter().filter(|a| !after.contains(a)) {
                    admin::remove_area(&self.server.db, enumerator_id(seed, e), gone.clone())
                        .unwrap();
                }
                for new in after.iter().filter(|a| !before.contains(a)) {
                    admin::add_area(&self.server.db, enumerator_id(seed, e), new.clone()).unwrap();
                }
            }
        } else {
            for d in &case.decisions {
                self.decide(&d.body);
                if d.twice {
                    self.decide(&d.body);
                }
            }
        }
        for store in observers {
            sync::sync(config, store, &()).unwrap();
        }
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn every_server_and_every_phone_ends_with_the_same_state_whatever_the_arrival() {
    let cases = env_u64("VERIVALI_DIFF_CASES", 200);
    let first_seed = env_u64("VERIVALI_DIFF_SEED", 1);
    let dir = TempDir::new().unwrap();
    let template = dir.path().join("template");
    let seeded = seed_template(&template, cases, first_seed);
    let servers: Vec<Server> = (0..SERVERS)
        .map(|s| {
            let data = dir.path().join(format!("server-{s}"));
            copy_dir(&template, &data);
            let process = ServerProcess::start(&data);
            let db = Db::open(&data).unwrap();
            Server { process, db }
        })
        .collect();

    let (mut visits, mut batches, mut decisions) = (0usize, 0usize, 0usize);
    for (case_index, seed) in (first_seed..first_seed + cases).enumerate() {
        let case = generate(seed, OffsetDateTime::now_utc());
        visits += case.visits.len();
        decisions += case.decisions.len();
        let plans: Vec<Delivery> = (0..SERVERS as u64)
            .map(|s| delivery(&case, &mut Rng(seed.wrapping_mul(31) + s)))
            .collect();
        batches += plans.iter().map(|p| p.batches.len()).sum::<usize>();
        let phones = TempDir::new().unwrap();
        let observed: Vec<Vec<Store>> = std::thread::scope(|scope| {
            let runs: Vec<_> = servers
                .iter()
                .zip(&plans)
                .enumerate()
                .map(|(s, (server, plan))| {
                    let (case, seeded) = (&case, &seeded);
                    let phones_dir = phones.path().join(format!("s{s}"));
                    std::fs::create_dir_all(&phones_dir).unwrap();
                    scope.spawn(move || {
                        let run = Run {
                            server,
                            seeded,
                            case_index,
                            client: http(),
                        };
                        run.deliver(case, plan, &phones_dir)
                    })
                })
                .collect();
            runs.into_iter().map(|r| r.join().unwrap()).collect()
        });
        compare(&case, &servers, &seeded, case_index, &observed);
    }
    eprintln!(
        "differential: {cases} cases, {visits} visits, {decisions} decisions, {batches} batches over {SERVERS} servers"
    );
    for server in &servers {
        server.db.close();
    }
}

/// The end of a case: the same visits and states on every server, each content counted once,
/// every phone's pulled state its server's.
fn compare(
    case: &Case,
    servers: &[Server],
    seeded: &Seeded,
    case_index: usize,
    phones: &[Vec<Store>],
) {
    let runs: Vec<Run> = servers
        .iter()
        .map(|server| Run {
            server,
            seeded,
            case_index,
            client: http(),
        })
        .collect();
    let content: BTreeMap<String, VisitId> = case
        .visits
        .iter()
        .map(|v| (v.item.visit.visit_id.to_string(), v.same_as))
        .collect();
    for h in &case.households {
        let details: Vec<Value> = runs.iter().map(|r| r.detail(h.household_id)).collect();
        let visit_ids = |d: &Value| -> BTreeSet<String> {
            d["visits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["visit_id"].as_str().unwrap().to_owned())
                .collect()
        };
        let expected: BTreeSet<String> = case
            .visits
            .iter()
            .filter(|v| v.accepted && v.item.visit.household_id == Some(h.household_id))
            .map(|v| v.item.visit.visit_id.to_string())
            .collect();
        for (s, d) in details.iter().enumerate() {
            assert_eq!(
                visit_ids(d),
                expected,
                "case {}: server {s} holds other visits",
                case.seed
            );
            assert_eq!(
                d["state_hash"], details[0]["state_hash"],
                "case {}: household {} differs between servers 0 and {s}:\n{}\n{}",
                case.seed, h.household_id, details[0]["state"], d["state"]
            );
            let used: Vec<&str> = d["state"]["visits_used"]
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().unwrap()).collect())
                .unwrap_or_default();
            let contents: BTreeSet<&VisitId> = used.iter().map(|v| &content[*v]).collect();
            assert_eq!(
                contents.len(),
                used.len(),
                "case {}: a content counted twice",
                case.seed
            );
        }
        for (s, observers) in phones.iter().enumerate() {
            for (e, store) in observers.iter().enumerate() {
                let covered = areas_after(case.seed, e)
                    .iter()
                    .any(|a| a.covers(&h.region, h.rw.as_ref(), h.rt.as_ref()));
                let held = store.household(h.household_id).unwrap();
                match (covered, held) {
                    (true, Some(m)) => assert_eq!(
                        m.state_hash.as_str(),
                        details[s]["state_hash"].as_str().unwrap(),
                        "case {}: enumerator {e}'s phone on server {s} holds another state",
                        case.seed
                    ),
                    (true, None) => panic!(
                        "case {}: enumerator {e}'s phone on server {s} lacks a household of its areas",
                        case.seed
                    ),
                    (false, Some(_)) => panic!(
                        "case {}: enumerator {e}'s phone on server {s} kept a household it left",
                        case.seed
                    ),
                    (false, None) => {}
                }
            }
        }
    }
}
