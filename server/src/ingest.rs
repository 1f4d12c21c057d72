//! Receiving pushed visits (DESIGN §6): each item is decoded, checked and stored alone, so a bad
//! item is rejected with its reason while the rest of the batch is stored. Accepted visits are
//! immutable; the households they touch are merged again in the same transaction.
//!
//! Dedup: the same `visit_id` with the same content is a DUPLICATE (a retry costs nothing); with
//! other content it is rejected (SYN-02, ID_REUSED). A new id with the content of a visit already
//! held for the household (a double tap, a reinstalled phone sending again) is answered DUPLICATE
//! and stored for audit; the merge counts one visit of each content, the one with the smaller id,
//! whichever arrived first.
//!
//! What is accepted depends on the visit, its device and areas, never on which other visits came
//! before it: a visit is rejected only for what it says itself (validated alone, without the
//! household); what the household as merged so far says of it (an unknown member, the family's
//! shape, a NIK still missing) is kept as flags, because on another server, or later, the same
//! household may hold visits this one's phone had seen.

use std::collections::{BTreeMap, HashMap, btree_map};

use serde_json::Value;
use serde_json::value::RawValue;
use time::Duration;
use verivali_core::canonical::visit_content_hash;
use verivali_core::merge::{AcceptedVisit, Merged};
use verivali_core::model::*;
use verivali_core::protocol::{
    MAX_PUSH_ITEMS, PushItem, PushRequest, PushResponse, PushResult, PushStatus,
};
use verivali_core::validate::{
    Context, EARLIEST_YEAR, Issue, NikDirectory, Rule, Severity, rules, validate_visit,
};

use crate::auth::{DeviceAuth, stored_place};
use crate::campaigns::Campaign;
use crate::db::{Db, DbError};
use crate::error::{self, ApiError};
use crate::households::{self, DuplicateKeys, MergeInputs};
use crate::store::regions::RegionList;
use crate::store::{Conn, devices, households as stored_households, push as stored};
use crate::tallies;

/// Measured skews are rounded to this: a phone's clock is wrong by a time zone (hours, half and
/// quarter hours) or a date, so the rounding keeps the error the phone made and drops what the
/// network added, and two servers that measured one push a few seconds apart correct it alike.
/// A skew under half of it counts as none.
const SKEW_STEP: Duration = Duration::minutes(15);

/// Reasons a pushed item is refused, beyond the validation rules.
pub mod reject {
    use verivali_core::validate::{Rule, Severity};

    macro_rules! reasons {
        ($($name:ident = $code:literal, $id:literal, $en:literal;)+) => {
            $(pub const $name: Rule = Rule { code: $code, severity: Severity::Error, message_id: $id, message_en: $en };)+
        };
    }

    reasons! {
        ID_REUSED = "SYN-02", "ID kunjungan ini sudah dipakai untuk isi yang berbeda.", "This visit id was already used for different content.";
        MALFORMED = "SYN-03", "Data kunjungan tidak dapat dibaca.", "The visit data could not be read.";
        UNKNOWN_HOUSEHOLD = "SYN-04", "Keluarga ini tidak ada di daftar sasaran.", "This household is not on the target list.";
        OUT_OF_AREA = "SYN-05", "Keluarga ini tidak pernah berada di wilayah tugas Anda.", "This household was never in your assigned areas.";
        WRONG_DEVICE = "SYN-06", "Kunjungan ini dicatat oleh perangkat atau petugas lain.", "This visit was recorded by another device or enumerator.";
        NOT_FINISHED = "SYN-07", "Kunjungan ini belum selesai.", "This visit is not finished.";
        BAD_CORRECTION = "SYN-08", "Koreksi hanya boleh untuk kunjungan dari perangkat yang sama.", "A correction may only supersede a visit of the same device.";
    }
}

/// Flags kept with an accepted visit for supervisors.
const FLAG_LEFT_AREA: &str = "LEFT_AREA";
const FLAG_FUTURE: &str = "FUTURE_TIME";
const FLAG_SKEW: &str = "CLOCK_SKEW";
const FLAG_BEFORE_CAMPAIGN: &str = "BEFORE_CAMPAIGN";

/// Rules that need the household to mean anything: validated alone, a visit finds every member it
/// updates unknown and a family without members; these never reject (see the module comment).
const HOUSEHOLD_RULES: [&str; 4] = [
    rules::MEM_07.code,
    rules::NIK_08.code,
    rules::HH_01.code,
    rules::HH_04.code,
];

/// An item of a push on its way through: answered already, or decoded and waiting for the writer.
#[derive(Debug)]
pub enum Slot {
    Answered(PushResult),
    Pending {
        item: Box<PushItem>,
        content_hash: Sha256,
    },
}

/// Decodes every item and computes its content hash; CPU work, done off the writer. Items arrive
/// as raw JSON text, so each is parsed once, straight into its type.
pub fn decode(items: Vec<Box<RawValue>>) -> Vec<Slot> {
    items
        .into_iter()
        .map(
            |value| match serde_json::from_str::<PushItem>(value.get()) {
                Ok(item) => match visit_content_hash(&item.visit) {
                    Ok(content_hash) => Slot::Pending {
                        item: Box::new(item),
                        content_hash,
                    },
                    Err(e) => Slot::Answered(malformed(&value, &e)),
                },
                Err(e) => Slot::Answered(malformed(&value, &e)),
            },
        )
        .collect()
}

/// Receives a push: answers retries from a read snapshot without the writer, plans the rest there
/// (off the writer), and has the writer store the plan, or plan again if it went stale.
pub async fn push(
    db: &Db,
    device: DeviceAuth,
    request: PushRequest<Box<RawValue>>,
) -> Result<PushResponse, ApiError> {
    if request.items.len() > MAX_PUSH_ITEMS {
        return Err(ApiError::bad_request(error::TOO_MANY_ITEMS));
    }
    let received_at = Timestamp::now_utc();
    let (sent_at, finished_up_to) = (request.sent_at, request.finished_up_to);
    let read_device = device.clone();
    let (slots, plan) = db
        .read_snapshot(move |snapshot| {
            let mut slots = decode(request.items);
            answer_known(snapshot, &mut slots)?;
            // A retried push (every item already here) is answered without the writer; a
            // rejection goes through it, to be remembered for completeness.
            let nothing_to_write = slots
                .iter()
                .all(|s| matches!(s, Slot::Answered(r) if r.status != PushStatus::Rejected));
            if nothing_to_write {
                return Ok::<_, ApiError>((slots, None));
            }
            let plan = plan(snapshot, &read_device, &slots, sent_at, received_at)?;
            Ok((slots, Some(plan)))
        })
        .await?;
    let response = match plan {
        None => PushResponse {
            results: slots
                .into_iter()
                .filter_map(|s| match s {
                    Slot::Answered(r) => Some(r),
                    Slot::Pending { .. } => None,
                })
                .collect(),
        },
        Some(plan) => {
            db.write(move |tx| {
                let answer = store(tx, &device, &slots, Some(plan), sent_at, received_at)?;
                if let Some(finished) = finished_up_to {
                    crate::phones::record_finished(tx, device.device_id, finished)?;
                }
                Ok::<_, ApiError>(answer)
            })
            .await?
        }
    };
    crate::metrics::count_push(&response);
    Ok(response)
}

/// Answers, from a read connection, the items already stored: a retry is a DUPLICATE and a reused
/// id with other content is rejected, without queueing for the writer. The writer checks again,
/// so a race between two pushes of one new visit stays safe.
pub fn answer_known(conn: Conn<'_>, slots: &mut [Slot]) -> Result<(), DbError> {
    let ids: Vec<String> = slots
        .iter()
        .filter_map(|slot| match slot {
            Slot::Pending { item, .. } => Some(item.visit.visit_id.to_string()),
            Slot::Answered(_) => None,
        })
        .collect();
    let mut hashes = stored::content_hashes(conn, ids.iter().map(String::as_str))?.into_iter();
    for slot in slots.iter_mut() {
        let Slot::Pending { item, content_hash } = slot else {
            continue;
        };
        if let Some(stored) = hashes.next().flatten() {
            *slot = Slot::Answered(known(item, content_hash, &stored));
        }
    }
    Ok(())
}

fn known(item: &PushItem, content_hash: &Sha256, stored: &str) -> PushResult {
    if stored == content_hash.as_str() {
        PushResult {
            visit_id: Some(item.visit.visit_id),
            device_seq: Some(item.device_seq),
            status: PushStatus::Duplicate,
            issues: vec![],
        }
    } else {
        rejected(Some(item), one(&reject::ID_REUSED, "visit_id"))
    }
}

/// What one push will write, worked out against a snapshot of the database: every item's answer,
/// the visit rows, and the new merged state of each household it touches.
///
/// Checks, validation and merges are most of ingest's work. Planned on a read connection, off the
/// writer, they leave the one writer thread only the writes and a check that nothing the plan read
/// has moved since ([`store`]); if something has, the push is planned again on the writer.
#[derive(Debug)]
pub struct Plan {
    results: Vec<PushResult>,
    /// For each rejected item with a number, the device the number belongs to.
    rejections: Vec<(DeviceId, usize)>,
    visits: Vec<VisitRow>,
    /// Every household the plan read, with the change number it had and its region (`None`:
    /// not stored).
    read: BTreeMap<HouseholdId, Option<(i64, String)>>,
    /// Households proposed by a visit of this push: their baseline is stored first.
    proposed: Vec<Household>,
    merged: Vec<MergedRow>,
}

/// A visit row to insert.
#[derive(Debug)]
struct VisitRow {
    visit_id: String,
    household_id: String,
    /// The household's village, for the tallies.
    region: String,
    /// The campaign the visit belongs to, for its tally.
    campaign_id: Option<String>,
    enumerator_id: String,
    device_id: String,
    device_seq: u64,
    content_hash: String,
    body: String,
    skew_ms: i64,
    order_time: i64,
    flags: String,
    /// The GPS point (lat, lon), for the map.
    point: Option<(f64, f64)>,
    /// The enumerator says this household and another listed one are one family
    /// (DUPLICATE_OF, PART_OF_OTHER_FAMILY): the pair goes to the duplicates queue.
    same_family_as: Option<(String, &'static str)>,
}

/// A household's new merged state, with its duplicate keys as recorded and as they will be.
#[derive(Debug)]
struct MergedRow {
    id: HouseholdId,
    merged: Merged,
    text: String,
    recorded_keys: DuplicateKeys,
    keys: DuplicateKeys,
}

/// Plans the pending items of one push on `conn`, which should hold one read transaction, so that
/// everything is read from one snapshot.
pub fn plan(
    conn: Conn<'_>,
    device: &DeviceAuth,
    slots: &[Slot],
    sent_at: Timestamp,
    received_at: Timestamp,
) -> Result<Plan, DbError> {
    let mut planner = Planner {
        conn,
        device,
        received_at,
        skew: skew(received_at, sent_at),
        regions: RegionList::of(conn)?,
        campaigns: crate::campaigns::all(conn)?,
        drafts: BTreeMap::new(),
        read: BTreeMap::new(),
        taken: HashMap::new(),
        visits: Vec::new(),
        proposed: Vec::new(),
    };
    let mut results = Vec::with_capacity(slots.len());
    let mut rejections = Vec::new();
    for (n, slot) in slots.iter().enumerate() {
        let result = match slot {
            Slot::Answered(result) => result.clone(),
            Slot::Pending { item, content_hash } => planner.item(item, content_hash)?,
        };
        if result.status == PushStatus::Rejected {
            // A visit of the enumerator's former phone (a store restored onto a new enrollment)
            // was numbered by that phone.
            let owner = match slot {
                Slot::Pending { item, .. }
                    if item.visit.device_id != device.device_id
                        && planner.enumerators_device(item.visit.device_id)? =>
                {
                    item.visit.device_id
                }
                _ => device.device_id,
            };
            rejections.push((owner, n));
        }
        results.push(result);
    }
    let mut merged = Vec::new();
    for (id, draft) in planner.drafts {
        if draft.gained_visits {
            let inputs = draft.inputs;
            let (state, text) = inputs.merge()?;
            merged.push(MergedRow {
                id,
                keys: DuplicateKeys::of(&state.state.household),
                merged: state,
                text,
                recorded_keys: inputs.recorded_keys,
            });
        }
    }
    Ok(Plan {
        results,
        rejections,
        visits: planner.visits,
        read: planner.read,
        proposed: planner.proposed,
        merged,
    })
}

/// The highest `device_seq` a phone may give.
pub const MAX_DEVICE_SEQ: u64 = 10_000_000;

/// Stores one push on the writer, inside one transaction with the batch's other jobs, and answers
/// every slot in order. `planned`: its plan from a read connection, used if still current; without
/// one, or if it is stale, the push is planned here.
pub fn store(
    tx: Conn<'_>,
    device: &DeviceAuth,
    slots: &[Slot],
    planned: Option<Plan>,
    sent_at: Timestamp,
    received_at: Timestamp,
) -> Result<PushResponse, DbError> {
    let mut plan = match planned {
        Some(plan) => plan,
        None => plan(tx, device, slots, sent_at, received_at)?,
    };
    // On SQLite's one writer a plan made here is current at once. On PostgreSQL another write may
    // change a household between this plan's reads and its locks (`is_current` takes them), so it
    // is made again; the locks it holds by then keep those households as read.
    for _ in 0..MAX_PLANS {
        if plan.is_current(tx)? {
            return plan.write(tx, received_at);
        }
        plan = self::plan(tx, device, slots, sent_at, received_at)?;
    }
    Err(DbError::Inconsistent(
        "households kept changing while a push was planned".into(),
    ))
}

/// Plans made in one write before it gives up (the phone sends the push again).
const MAX_PLANS: usize = 8;

impl Plan {
    /// Whether what the plan read is as it was: every household at the same change number (each
    /// write to a household takes a new one) and none of its visit ids taken since. Another
    /// household's NIK, read for a warning, may have changed: warnings are advice, so a
    /// push racing another one is not planned again for that. The households read are locked
    /// until the write commits (on PostgreSQL), in their order, so two pushes never wait for
    /// each other's.
    fn is_current(&self, tx: Conn<'_>) -> Result<bool, DbError> {
        for (id, version) in &self.read {
            let key = id.to_string();
            let now = match version {
                Some((_, region)) => stored_households::change_seq_for_update(tx, (&key, region))?,
                // Not stored then: no row to lock, and a row stored since makes the plan stale.
                None => stored_households::change_seq(tx, &key)?,
            };
            if now != version.as_ref().map(|(seq, _)| *seq) {
                return Ok(false);
            }
        }
        let ids = self.visits.iter().map(|v| v.visit_id.as_str());
        Ok(!stored::any_stored(tx, ids)?)
    }

    fn write(self, tx: Conn<'_>, received_at: Timestamp) -> Result<PushResponse, DbError> {
        for household in &self.proposed {
            households::write_baseline(tx, household)?;
        }
        let received = received_at.unix_millis();
        stored::insert_visits(
            tx,
            self.visits.iter().map(|v| stored::NewVisit {
                visit_id: &v.visit_id,
                household_id: &v.household_id,
                region: &v.region,
                enumerator_id: &v.enumerator_id,
                device_id: &v.device_id,
                device_seq: v.device_seq,
                content_hash: &v.content_hash,
                body: &v.body,
                received_at: received,
                skew_ms: v.skew_ms,
                order_time: v.order_time,
                flags: &v.flags,
                point: v.point,
            }),
        )?;
        let tallied: Vec<tallies::TalliedVisit<'_>> = self
            .visits
            .iter()
            .map(|v| tallies::TalliedVisit {
                region: &v.region,
                enumerator_id: &v.enumerator_id,
                household_id: &v.household_id,
                campaign_id: v.campaign_id.as_deref(),
                order_time: v.order_time,
                flagged: v.flags != "[]",
                point: v.point,
            })
            .collect();
        tallies::add(tx, &tallied)?;
        for v in &self.visits {
            if let Some((other, kind)) = &v.same_family_as {
                let (a, b) = if v.household_id < *other {
                    (&v.household_id, other)
                } else {
                    (other, &v.household_id)
                };
                stored::record_same_family(tx, (a, b), kind, received, other)?;
            }
        }
        for (owner, n) in &self.rejections {
            if let Some(result) = self.results.get(*n) {
                record_rejection(tx, *owner, result, received_at)?;
            }
        }
        for m in &self.merged {
            households::write_merged(
                tx,
                m.id,
                &m.merged,
                &m.text,
                &m.recorded_keys,
                &m.keys,
                received_at,
            )?;
        }
        Ok(PushResponse {
            results: self.results,
        })
    }
}

/// Remembers a rejected number of the pushing device, so that completeness does not count it
/// missing. The latest rejection of a number wins (a phone may push it again before it hears).
fn record_rejection(
    tx: Conn<'_>,
    device: DeviceId,
    result: &PushResult,
    at: Timestamp,
) -> Result<(), DbError> {
    let Some(seq) = result
        .device_seq
        .filter(|&s| s > 0)
        .and_then(|s| i64::try_from(s).ok())
    else {
        return Ok(());
    };
    let codes: Vec<&str> = result.issues.iter().map(|i| i.code.as_str()).collect();
    stored::record_rejection(
        tx,
        &device.to_string(),
        seq,
        result.visit_id.map(|v| v.to_string()).as_deref(),
        &codes.join(","),
        at.unix_millis(),
    )
}

/// The phone's clock error: server time minus phone time, to the nearest [`SKEW_STEP`].
fn skew(received_at: Timestamp, sent_at: Timestamp) -> Duration {
    let step = SKEW_STEP.whole_milliseconds();
    let skew = (received_at.0 - sent_at.0).whole_milliseconds();
    // Rounded half away from zero; i128 holds any difference of two representable times.
    let steps = (skew + skew.signum() * step / 2) / step;
    i64::try_from(steps * step)
        .map(Duration::milliseconds)
        .unwrap_or(Duration::ZERO)
}

fn rejected(item: Option<&PushItem>, issues: Vec<Issue>) -> PushResult {
    PushResult {
        visit_id: item.map(|i| i.visit.visit_id),
        device_seq: item.map(|i| i.device_seq),
        status: PushStatus::Rejected,
        issues,
    }
}

fn malformed(raw: &RawValue, error: &dyn std::fmt::Display) -> PushResult {
    // Only to name the item in the answer: whatever of it can be read.
    let value: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
    let mut issue = Issue::new(&reject::MALFORMED, "visit");
    issue.message_en = format!(
        "{} ({})",
        reject::MALFORMED.message_en,
        crate::privacy::without_values(error)
    );
    PushResult {
        visit_id: value
            .pointer("/visit/visit_id")
            .and_then(Value::as_str)
            .and_then(|s| VisitId::parse(s).ok()),
        device_seq: value.get("device_seq").and_then(Value::as_u64),
        status: PushStatus::Rejected,
        issues: vec![issue],
    }
}

fn one(rule: &Rule, field: &str) -> Vec<Issue> {
    vec![Issue::new(rule, field)]
}

/// Works out a push item by item, keeping the households it touches in memory so that each visit
/// is checked against its household with the earlier visits of the push merged in.
struct Planner<'c> {
    conn: Conn<'c>,
    device: &'c DeviceAuth,
    received_at: Timestamp,
    skew: Duration,
    /// The region list, looked up once per push (`None` when there is none).
    regions: Option<RegionList<'c>>,
    /// The campaigns, read once per push: VIS-05 checks a visit against its region's.
    campaigns: Vec<Campaign>,
    drafts: BTreeMap<HouseholdId, Draft>,
    read: BTreeMap<HouseholdId, Option<(i64, String)>>,
    /// Visit ids of earlier items of the push, with their content.
    taken: HashMap<VisitId, Sha256>,
    visits: Vec<VisitRow>,
    proposed: Vec<Household>,
}

/// A household as the push has left it so far.
struct Draft {
    /// What the next visit is checked against.
    household: Household,
    /// Stored, or proposed by a visit of this push that was accepted.
    listed: bool,
    /// The stored inputs (with the keys recorded), then the push's visits.
    inputs: MergeInputs,
    gained_visits: bool,
    /// `household` predates the last visit added to `inputs`.
    behind: bool,
}

/// The household `id` as the push has left it, or one `proposal` adds; `None` if neither. The
/// household's stored change number goes into `read`.
fn draft<'d>(
    conn: Conn<'_>,
    drafts: &'d mut BTreeMap<HouseholdId, Draft>,
    read: &mut BTreeMap<HouseholdId, Option<(i64, String)>>,
    id: HouseholdId,
    proposal: Option<&HouseholdProposal>,
    campaigns: &[Campaign],
) -> Result<Option<&'d mut Draft>, DbError> {
    if let btree_map::Entry::Vacant(entry) = drafts.entry(id) {
        let stored = households::Stored::read(conn, id, campaigns)?;
        read.insert(
            id,
            stored
                .as_ref()
                .map(|s| (s.change_seq, s.inputs.baseline.region.to_string())),
        );
        if let Some(stored) = stored {
            entry.insert(Draft::new(stored.household, stored.inputs, true));
        }
    }
    if drafts.get(&id).is_none_or(|d| !d.listed) {
        // A new household proposed by this visit (listed once the visit is accepted).
        match proposal {
            Some(p) => {
                let household = households::proposed(id, p);
                let rounds = crate::campaigns::rounds(campaigns, &household.region);
                let inputs = MergeInputs::new(household.clone(), rounds);
                drafts.insert(id, Draft::new(household, inputs, false));
            }
            None => return Ok(None),
        }
    }
    let Some(draft) = drafts.get_mut(&id) else {
        return Ok(None);
    };
    if draft.behind {
        draft.household = draft.inputs.household();
        draft.behind = false;
    }
    Ok(Some(draft))
}

impl Planner<'_> {
    /// Whether `id` is a phone of the pushing device's enumerator, revoked or not: a store
    /// restored onto a new enrollment still holds visits its former phone numbered and signed.
    fn enumerators_device(&self, id: DeviceId) -> Result<bool, DbError> {
        devices::belongs_to(
            self.conn,
            &id.to_string(),
            &self.device.enumerator_id.to_string(),
        )
    }

    fn item(&mut self, item: &PushItem, content_hash: &Sha256) -> Result<PushResult, DbError> {
        let (device, received_at, skew) = (self.device, self.received_at, self.skew);
        let visit = &item.visit;
        // Numbers start at 1 and grow by one per finished visit: no phone reaches ten million,
        // and a number near 2^63 would make completeness count that many missing.
        if !(1..=MAX_DEVICE_SEQ).contains(&item.device_seq) {
            return Ok(rejected(Some(item), one(&reject::MALFORMED, "device_seq")));
        }
        let Some(finished_at) = visit.finished_at else {
            return Ok(rejected(
                Some(item),
                one(&reject::NOT_FINISHED, "finished_at"),
            ));
        };
        if visit.enumerator_id != device.enumerator_id
            || (visit.device_id != device.device_id && !self.enumerators_device(visit.device_id)?)
        {
            return Ok(rejected(
                Some(item),
                one(&reject::WRONG_DEVICE, "device_id"),
            ));
        }
        // Retries and reused ids that raced past `answer_known`, or came twice in this push.
        let visit_id = visit.visit_id.to_string();
        let stored: Option<String> = match self.taken.get(&visit.visit_id) {
            Some(hash) => Some(hash.to_string()),
            None => stored::content_hash(self.conn, &visit_id)?,
        };
        if let Some(stored) = stored {
            return Ok(known(item, content_hash, &stored));
        }

        // The household, and whether it is (or was) the enumerator's.
        let Some(household_id) = visit.household_id else {
            // New-household proposals are received with the supervisor queue (later issue).
            return Ok(rejected(
                Some(item),
                one(&reject::UNKNOWN_HOUSEHOLD, "household_id"),
            ));
        };
        let conn = self.conn;
        let regions = self.regions.as_ref().map(|r| r as &dyn RegionLookup);
        let found = draft(
            conn,
            &mut self.drafts,
            &mut self.read,
            household_id,
            visit.proposal.as_ref(),
            &self.campaigns,
        )?;
        let Some(draft) = found else {
            return Ok(rejected(
                Some(item),
                one(&reject::UNKNOWN_HOUSEHOLD, "household_id"),
            ));
        };
        let h = &draft.household;
        let covers = |areas: &[verivali_core::protocol::Area]| {
            areas
                .iter()
                .any(|a| a.covers(&h.region, h.rw.as_ref(), h.rt.as_ref()))
        };
        let mut flags: Vec<String> = Vec::new();
        if !covers(&device.areas) {
            if covers(&device.former_areas) {
                flags.push(FLAG_LEFT_AREA.into());
            } else {
                return Ok(rejected(
                    Some(item),
                    one(&reject::OUT_OF_AREA, "household_id"),
                ));
            }
        }
        if let Some(old) = visit.supersedes {
            let old_device = stored::device_of(conn, &old.to_string())?;
            if old_device.is_some_and(|d| d != visit.device_id.to_string()) {
                return Ok(rejected(
                    Some(item),
                    one(&reject::BAD_CORRECTION, "supersedes"),
                ));
            }
        }

        // The core's rules again, on the skew-corrected times: the server never trusts the phone.
        // A correction that leaves the calendar or the programme's years (a phone that sends at
        // year 9999 what it finished today) is no time: such a visit would sort before every
        // other one for good. A time still in the future after correction is only flagged.
        let in_programme = |t: &time::OffsetDateTime| t.year() >= EARLIEST_YEAR;
        let (Some(started), Some(finished)) = (
            visit.started_at.0.checked_add(skew).filter(in_programme),
            finished_at.0.checked_add(skew).filter(in_programme),
        ) else {
            return Ok(rejected(
                Some(item),
                one(&rules::VIS_05_TIME, "finished_at"),
            ));
        };
        let mut corrected = visit.clone();
        corrected.started_at = Timestamp(started);
        corrected.finished_at = Some(Timestamp(finished));
        let niks = StoredNiks { conn, device };
        let campaign_start = crate::campaigns::start_for(&self.campaigns, &h.region, received_at);
        let ctx = Context {
            regions,
            campaign_start,
            household: Some(h),
            niks: Some(&niks),
            earlier_nobody_home: 0,
            ..Context::new(received_at)
        };
        let alone = Context {
            household: None,
            niks: None,
            ..ctx
        };
        let errors: Vec<Issue> = validate_visit(&corrected, &alone)
            .into_iter()
            .filter(|i| {
                i.severity == Severity::Error
                    && i.code != rules::VIS_05_TIME.code
                    && !HOUSEHOLD_RULES.contains(&i.code.as_str())
            })
            .collect();
        if !errors.is_empty() {
            return Ok(rejected(Some(item), errors));
        }
        let issues = validate_visit(&corrected, &ctx);
        // A visit still in the future after correction, or finished before its region's campaign
        // began, is flagged, not dropped; warnings the phone could not see (another household's
        // NIK) are kept as flags for the supervisor.
        if issues.iter().any(|i| i.code == rules::VIS_05_TIME.code) {
            let before_campaign = campaign_start
                .is_some_and(|start| started.date() < start || finished.date() < start);
            flags.push(
                if before_campaign {
                    FLAG_BEFORE_CAMPAIGN
                } else {
                    FLAG_FUTURE
                }
                .into(),
            );
        }
        if skew != Duration::ZERO {
            flags.push(FLAG_SKEW.into());
        }
        flags.extend(
            issues
                .iter()
                .filter(|i| i.severity == Severity::Error && i.code != rules::VIS_05_TIME.code)
                .map(Issue::key),
        );
        let kept: Vec<Issue> = issues
            .into_iter()
            .filter(|i| i.severity != Severity::Error)
            .collect();
        flags.extend(
            kept.iter()
                .filter(|i| i.blocks_finishing())
                .map(|i| i.key()),
        );

        // Accepted. A new household is listed with its first accepted visit.
        if !draft.listed {
            draft.listed = true;
            self.proposed.push(draft.household.clone());
        }
        let inputs = &mut draft.inputs;
        // The same content held already: the merge keeps one of the two (the smaller id), so a
        // duplicate that arrives first is merged now and left out once its twin arrives.
        let duplicate = inputs
            .visits
            .iter()
            .any(|v| v.content_hash == *content_hash);
        let order_time = Timestamp(finished).normalized();
        inputs.visits.push(AcceptedVisit {
            visit: visit.clone(),
            content_hash: content_hash.clone(),
            order_time,
        });
        draft.gained_visits = true;
        draft.behind = true;
        self.taken.insert(visit.visit_id, content_hash.clone());
        self.visits.push(VisitRow {
            visit_id,
            household_id: household_id.to_string(),
            region: draft.household.region.to_string(),
            campaign_id: crate::campaigns::holding(
                &self.campaigns,
                &draft.household.region,
                order_time,
            )
            .map(|c| c.id.clone()),
            enumerator_id: visit.enumerator_id.to_string(),
            device_id: visit.device_id.to_string(),
            device_seq: item.device_seq,
            content_hash: content_hash.to_string(),
            body: serde_json::to_string(visit)?,
            skew_ms: i64::try_from(skew.whole_milliseconds()).unwrap_or(0),
            order_time: order_time.unix_millis(),
            flags: serde_json::to_string(&flags)?,
            point: visit.location.as_ref().map(|l| (l.lat, l.lon)),
            same_family_as: match (visit.outcome, visit.other_household_id) {
                (Some(o @ (Outcome::DuplicateOf | Outcome::PartOfOtherFamily)), Some(other)) => {
                    Some((other.to_string(), o.code()))
                }
                _ => None,
            },
        });
        Ok(PushResult {
            visit_id: Some(visit.visit_id),
            device_seq: Some(item.device_seq),
            status: if duplicate {
                PushStatus::Duplicate
            } else {
                PushStatus::Accepted
            },
            issues: kept,
        })
    }
}

impl Draft {
    fn new(household: Household, inputs: MergeInputs, listed: bool) -> Self {
        Self {
            household,
            listed,
            inputs,
            gained_visits: false,
            behind: false,
        }
    }
}

/// NIKs of the whole district, through the duplicate keys (held as digests).
/// The NIKs of the households the pushing phone's areas cover. A NIK-09 warning names the other
/// household, and its answer goes to the phone: a phone must learn no more than its areas hold
/// (it could not otherwise probe the district's list by adding members with chosen NIKs). A
/// family listed twice across areas is still found, by the duplicate keys (the duplicates queue).
struct StoredNiks<'c> {
    conn: Conn<'c>,
    device: &'c DeviceAuth,
}

impl NikDirectory for StoredNiks<'_> {
    fn household_with_nik(&self, nik: &Nik, except: Option<HouseholdId>) -> Option<HouseholdId> {
        let except = except.map(|h| h.to_string()).unwrap_or_default();
        let holders = stored_households::holders_of_key(
            self.conn,
            "NIK",
            &households::nik_digest(nik),
            &except,
            50,
        )
        .ok()?;
        holders
            .into_iter()
            .find(|h| {
                stored_place(&h.region, h.rw.as_deref(), h.rt.as_deref())
                    .is_ok_and(|place| self.device.covers(&place))
            })
            .and_then(|h| HouseholdId::parse(&h.household_id).ok())
    }
}
