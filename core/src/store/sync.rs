//! What syncing keeps on the phone: the enrollment, the server's answer for each queued visit
//! (a rejected one goes back to the drafts with the server's messages), pulled pages applied
//! whole with their cursor (supervisors' decisions among them, which inbox.rs reads), and which
//! photos the server holds.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::households::{corrupt, save_household};
use super::sealed::Sealer;
use super::visits::{OutboxState, load_visit, write_draft};
use super::{Error, Result, Store, get_meta, set_meta};
use crate::model::*;
use crate::protocol::{Area, PullResponse, PushResult, PushStatus};
use crate::validate::Issue;

/// The sealed columns of syncing's tables.
pub(super) const ANSWER: &str = "outbox.answer";
pub(super) const REVIEW: &str = "reviews.body";
pub(super) const REOPENED_ISSUES: &str = "reopened.issues";

/// What enrollment gave this phone. The token is the phone's only credential: it stays in the
/// store, never in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Enrollment {
    pub server_url: String,
    pub device_id: DeviceId,
    pub enumerator_id: EnumeratorId,
    pub enumerator_name: String,
    pub token: String,
    pub areas: Vec<Area>,
}

impl std::fmt::Debug for Enrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrollment")
            .field("server_url", &self.server_url)
            .field("device_id", &self.device_id)
            .field("enumerator_id", &self.enumerator_id)
            .field("enumerator_name", &self.enumerator_name)
            .field("token", &"…")
            .field("areas", &self.areas)
            .finish()
    }
}

/// One line of the outbox view: a finished visit, and what the server said of it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    pub device_seq: u64,
    pub visit_id: VisitId,
    pub household_id: Option<HouseholdId>,
    pub state: OutboxState,
    /// REJECTED: why; ACCEPTED: the warnings the server kept as flags.
    pub issues: Vec<Issue>,
    /// REJECTED: the draft it was reopened as, for the enumerator to fix and finish again.
    pub reopened_as: Option<VisitId>,
}

/// What applying one pulled page changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageApplied {
    pub households: u64,
    pub reviews: u64,
    pub removed: u64,
    /// Households that left the phone's areas but stay, because unsent work refers to them.
    pub kept: u64,
    /// Acknowledged visits the server no longer holds, queued to be sent again.
    pub requeued: u64,
}

impl Store {
    /// Records the enrollment (and the identity that visits are stamped with).
    pub fn save_enrollment(&self, e: &Enrollment) -> Result<()> {
        let s = &self.sealer;
        self.write(|tx| {
            set_meta(tx, s, "server_url", &e.server_url)?;
            set_meta(tx, s, "device_id", &e.device_id.to_string())?;
            set_meta(tx, s, "enumerator_id", &e.enumerator_id.to_string())?;
            set_meta(tx, s, "enumerator_name", &e.enumerator_name)?;
            set_meta(tx, s, "device_token", &e.token)?;
            set_meta(tx, s, "areas", &serde_json::to_string(&e.areas)?)
        })
    }

    /// The device id a first enrollment uses: the same on every attempt, so that a code whose
    /// answer was lost can be sent again.
    pub fn enrolling_device_id(&self) -> Result<DeviceId> {
        self.write(|tx| {
            if let Some(id) = get_meta(tx, &self.sealer, "enrolling_device_id")?
                .and_then(|s| DeviceId::parse(&s).ok())
            {
                return Ok(id);
            }
            let id = DeviceId::new_v4();
            set_meta(tx, &self.sealer, "enrolling_device_id", &id.to_string())?;
            Ok(id)
        })
    }

    /// This phone's enrollment, if it has one.
    pub fn enrollment(&self) -> Result<Option<Enrollment>> {
        let s = &self.sealer;
        self.read(|c| {
            let Some((device_id, enumerator_id)) = super::identity(c, s)? else {
                return Ok(None);
            };
            let (Some(server_url), Some(token)) = (
                get_meta(c, s, "server_url")?,
                get_meta(c, s, "device_token")?,
            ) else {
                return Ok(None);
            };
            let areas = match get_meta(c, s, "areas")? {
                Some(json) => serde_json::from_str(&json)?,
                None => Vec::new(),
            };
            Ok(Some(Enrollment {
                server_url,
                device_id,
                enumerator_id,
                enumerator_name: get_meta(c, s, "enumerator_name")?.unwrap_or_default(),
                token,
                areas,
            }))
        })
    }

    /// Records the server's answers to one push, in one transaction. Each answer is matched to
    /// its queued visit by `device_seq` and visit id; a REJECTED visit is reopened as a draft.
    /// An answer for a visit no longer pending (a retry's second answer) changes nothing.
    pub fn record_answers(&self, results: &[PushResult]) -> Result<()> {
        self.write(|tx| {
            for result in results {
                record_answer(tx, &self.sealer, result)?;
            }
            Ok(())
        })
    }

    /// Finished visits and what the server said of them, newest first.
    pub fn outbox(&self, limit: u32) -> Result<Vec<OutboxEntry>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT o.device_seq, o.visit_id, v.household_id, o.state, o.answer, r.draft_id
                 FROM outbox o JOIN visits v ON v.visit_id = o.visit_id
                 LEFT JOIN reopened r ON r.rejected_id = o.visit_id
                 ORDER BY o.device_seq DESC LIMIT ?1",
            )?;
            type Row = (
                u64,
                String,
                Option<String>,
                String,
                Option<Vec<u8>>,
                Option<String>,
            );
            let rows = stmt.query_map([limit], |r| Row::try_from(r))?;
            let mut list = Vec::new();
            for row in rows {
                let (device_seq, visit, household, state, answer, draft): Row = row?;
                list.push(OutboxEntry {
                    device_seq,
                    visit_id: VisitId::parse(&visit).map_err(|_| corrupt("visit id"))?,
                    household_id: household.and_then(|h| HouseholdId::parse(&h).ok()),
                    state: OutboxState::from_code(&state).ok_or_else(|| corrupt("outbox state"))?,
                    issues: match answer {
                        Some(sealed) => self.sealer.open_json(ANSWER, &visit, &sealed)?,
                        None => Vec::new(),
                    },
                    reopened_as: draft.and_then(|d| VisitId::parse(&d).ok()),
                });
            }
            Ok(list)
        })
    }

    /// The server's issues with the visit a reopened draft came from (empty for other drafts).
    pub fn rejection_of(&self, draft: VisitId) -> Result<Vec<Issue>> {
        self.read(|c| {
            let draft = draft.to_string();
            let sealed: Option<Vec<u8>> = c
                .prepare_cached("SELECT issues FROM reopened WHERE draft_id = ?1")?
                .query_row([&draft], |r| r.get(0))
                .optional()?;
            match sealed {
                Some(sealed) => self.sealer.open_json(REOPENED_ISSUES, &draft, &sealed),
                None => Ok(Vec::new()),
            }
        })
    }

    /// Applies one pulled page in one transaction, with the cursor that follows it: a page is
    /// applied whole or not at all, so a pull cut half way continues where it stopped.
    pub fn apply_pull(&self, page: &PullResponse) -> Result<PageApplied> {
        let sealer = &self.sealer;
        self.write(|tx| {
            let mut applied = PageApplied::default();
            for merged in &page.households {
                save_household(tx, sealer, merged)?;
                applied.households += 1;
            }
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO reviews
                     (review_id, household_id, visit_id, decision, body, decided_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for r in &page.reviews {
                let id = r.review_id.to_string();
                applied.reviews += insert.execute(params![
                    id,
                    r.household_id.to_string(),
                    r.visit_id.map(|v| v.to_string()),
                    r.decision.code(),
                    sealer.seal_json(REVIEW, &id, r)?,
                    r.decided_at.unix_millis(),
                ])? as u64;
            }
            for id in &page.removed {
                if has_unsent_work(tx, *id)? {
                    applied.kept += 1;
                } else {
                    applied.removed += tx
                        .prepare_cached("DELETE FROM households WHERE household_id = ?1")?
                        .execute([id.to_string()])? as u64;
                }
            }
            if let Some(held) = page.stored_up_to {
                applied.requeued = requeue_above(tx, sealer, held)?;
            }
            set_meta(tx, sealer, "pull_cursor", &page.next_cursor)?;
            Ok(applied)
        })
    }

    /// Photos the server has not confirmed holding whole.
    pub fn unsent_attachments(&self) -> Result<Vec<Sha256>> {
        self.read(|c| {
            let shas: Vec<String> = c
                .prepare_cached(
                    "SELECT sha256 FROM attachments
                     WHERE sha256 NOT IN (SELECT sha256 FROM attachments_sent) ORDER BY stored_at",
                )?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            shas.iter()
                .map(|s| Sha256::parse(s).map_err(|_| corrupt("attachment hash")))
                .collect()
        })
    }

    /// Records that the server holds these photos whole.
    pub fn mark_attachments_sent(&self, shas: &[Sha256]) -> Result<()> {
        self.write(|tx| {
            let mut insert =
                tx.prepare_cached("INSERT OR IGNORE INTO attachments_sent (sha256) VALUES (?1)")?;
            for sha in shas {
                insert.execute([sha.as_str()])?;
            }
            Ok(())
        })
    }
}

fn record_answer(tx: &Transaction<'_>, sealer: &Sealer, result: &PushResult) -> Result<()> {
    let (Some(device_seq), Some(visit_id)) = (result.device_seq, result.visit_id) else {
        // The phone never sends an item without both; an answer without them is not ours.
        return Ok(());
    };
    let state = match result.status {
        PushStatus::Accepted => OutboxState::Accepted,
        PushStatus::Duplicate => OutboxState::Duplicate,
        PushStatus::Rejected => OutboxState::Rejected,
    };
    let id = visit_id.to_string();
    let changed = tx
        .prepare_cached(
            "UPDATE outbox SET state = ?3, answer = ?4
             WHERE device_seq = ?1 AND visit_id = ?2 AND state = 'PENDING'",
        )?
        .execute(params![
            device_seq,
            id,
            state.code(),
            (!result.issues.is_empty())
                .then(|| sealer.seal_json(ANSWER, &id, &result.issues))
                .transpose()?,
        ])?;
    if changed == 1 && state == OutboxState::Rejected {
        reopen(tx, sealer, visit_id, &result.issues)?;
    }
    Ok(())
}

/// A rejected visit goes back to the drafts as a copy under a new id (the finished original stays
/// frozen, as every finished visit does), with the server's issues beside it.
fn reopen(
    tx: &Transaction<'_>,
    sealer: &Sealer,
    rejected: VisitId,
    issues: &[Issue],
) -> Result<()> {
    let (mut draft, _) =
        load_visit(tx, sealer, rejected)?.ok_or(Error::NotFound { what: "visit" })?;
    draft.visit_id = VisitId::new_v7();
    draft.finished_at = None;
    write_draft(tx, sealer, &draft)?;
    let id = draft.visit_id.to_string();
    tx.prepare_cached("INSERT INTO reopened (draft_id, rejected_id, issues) VALUES (?1, ?2, ?3)")?
        .execute(params![
            id,
            rejected.to_string(),
            sealer.seal_json(REOPENED_ISSUES, &id, issues)?,
        ])?;
    Ok(())
}

/// Whether a draft, or a visit the server has not answered for, refers to the household.
fn has_unsent_work(conn: &Connection, household: HouseholdId) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM visits v LEFT JOIN outbox o ON o.visit_id = v.visit_id
             WHERE v.household_id = ?1 AND (v.finished = 0 OR o.state = 'PENDING')",
        )?
        .exists([household.to_string()])?)
}

/// Queues again the visits the server acknowledged and no longer holds (numbered above `held`:
/// it was restored from a backup taken before they arrived), with their photos, which it may
/// lack as well. The server answers a visit it does hold DUPLICATE, so a retry costs nothing.
///
/// Only this device's visits: `stored_up_to` counts this device's numbers. A store restored onto
/// a new enrollment also holds its former phone's visits, which the server keeps under that
/// phone's id; comparing them with the new device's numbers would send them again at every sync.
fn requeue_above(tx: &Transaction<'_>, sealer: &Sealer, held: u64) -> Result<u64> {
    let Some((device, _)) = super::identity(tx, sealer)? else {
        return Ok(0);
    };
    let lost: Vec<(String, Vec<u8>)> = tx
        .prepare_cached(
            "SELECT v.visit_id, v.body FROM outbox o JOIN visits v USING (visit_id)
             WHERE o.device_seq > ?1 AND o.state IN ('ACCEPTED', 'DUPLICATE')",
        )?
        .query_map([held], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut requeue = tx
        .prepare_cached("UPDATE outbox SET state = 'PENDING', answer = NULL WHERE visit_id = ?1")?;
    let mut unsent = tx.prepare_cached("DELETE FROM attachments_sent WHERE sha256 = ?1")?;
    let mut requeued = 0;
    for (id, body) in &lost {
        let visit: Visit = sealer.open_json(super::visits::BODY, id, body)?;
        if visit.device_id != device {
            continue;
        }
        requeue.execute([id])?;
        requeued += 1;
        for photo in &visit.photos {
            unsent.execute([photo.sha256.as_str()])?;
        }
    }
    Ok(requeued)
}
