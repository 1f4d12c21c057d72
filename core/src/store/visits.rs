//! Visits on the phone: drafts that can be edited and survive a restart, finishing (validate,
//! freeze, number, queue: one transaction), corrections as new visits, and the outbox.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::households::{StoredNiks, household};
use super::sealed::Sealer;
use super::{Error, Result, Store, identity, unix_millis_now};
use crate::canonical::visit_content_hash;
use crate::model::*;
use crate::sqlite::RegionTable;
use crate::validate::{Context, Issue, validate_visit};

/// The sealed column of a visit row: the whole visit as JSON.
pub(super) const BODY: &str = "visits.body";

/// The answer to finishing a visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub visit_id: VisitId,
    /// The phone's number for it: 1, 2, 3, … with no gaps.
    pub device_seq: u64,
    pub content_hash: Sha256,
    /// Warnings (with their reasons) and notes that did not block finishing.
    pub issues: Vec<Issue>,
}

/// One line of the drafts list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitSummary {
    pub visit_id: VisitId,
    pub household_id: Option<HouseholdId>,
    pub outcome: Option<Outcome>,
    pub finished: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    Pending,
    Accepted,
    Duplicate,
    Rejected,
}

impl OutboxState {
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Accepted => "ACCEPTED",
            Self::Duplicate => "DUPLICATE",
            Self::Rejected => "REJECTED",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Accepted,
            Self::Duplicate,
            Self::Rejected,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// A finished visit waiting to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub device_seq: u64,
    pub content_hash: Sha256,
    pub visit: Visit,
}

impl Store {
    /// Starts a draft visit to a listed household, or, with `None`, to a household not on the
    /// list: the draft then carries a new household id, and the form fills in its `proposal`.
    pub fn start_visit(&self, household_id: Option<HouseholdId>, now: Timestamp) -> Result<Visit> {
        let sealer = &self.sealer;
        self.write(|tx| {
            let (device, enumerator) = identity(tx, sealer)?.ok_or(Error::NotEnrolled)?;
            let household_id = household_id.unwrap_or_else(HouseholdId::new_v4);
            let visit = Visit::draft(Some(household_id), enumerator, device, now);
            write_draft(tx, sealer, &visit)?;
            Ok(visit)
        })
    }

    /// Saves a draft as the enumerator edits it. Whatever was typed is kept, valid or not.
    pub fn save_draft(&self, visit: &Visit) -> Result<()> {
        self.write(|tx| {
            let finished: Option<bool> = tx
                .prepare_cached("SELECT finished FROM visits WHERE visit_id = ?1")?
                .query_row([visit.visit_id.to_string()], |r| r.get(0))
                .optional()?;
            if finished == Some(true) {
                return Err(Error::Frozen);
            }
            write_draft(tx, &self.sealer, visit)
        })
    }

    /// Sets one answer of a draft by its wire path, such as `outcome`, `housing.floor` or
    /// `welfare.monthly_expenditure_rp` (the names validation issues give in `field`); `null`
    /// clears it. The form needs no type of its own for each question. A value of the wrong kind
    /// (text where a number goes, an unknown code) is refused and the draft stays as it was.
    pub fn set_answer(&self, id: VisitId, path: &str, value: serde_json::Value) -> Result<Visit> {
        self.edit_answer(id, path, |tree, keys| set_path(tree, keys, value))
    }

    /// Adds one item to a list answer of a draft, such as a member change to `member_changes`
    /// or a photo to `photos`: the form adds them one at a time, also to a draft resumed later,
    /// and never needs to hold the list itself.
    pub fn add_to_answer(&self, id: VisitId, path: &str, item: serde_json::Value) -> Result<Visit> {
        self.edit_answer(id, path, |tree, keys| {
            let mut list = keys
                .iter()
                .try_fold(&*tree, |node, key| node.get(*key))
                .and_then(serde_json::Value::as_array)
                .cloned()
                .unwrap_or_default();
            list.push(item);
            set_path(tree, keys, serde_json::Value::Array(list));
        })
    }

    /// Gives the enumerator's reason to go on despite the warning whose key is `issue_key`
    /// (`VIS-03@location`): kept in the draft's `warning_reasons`, also when it is resumed later.
    pub fn set_warning_reason(&self, id: VisitId, issue_key: &str, reason: &str) -> Result<Visit> {
        self.edit_answer(id, "warning_reasons", |tree, _| {
            if !tree["warning_reasons"].is_object() {
                tree["warning_reasons"] = serde_json::Value::Object(Default::default());
            }
            tree["warning_reasons"][issue_key] = serde_json::Value::String(reason.to_owned());
        })
    }

    /// Changes a draft's JSON tree at `path` and keeps the result if it is still a visit.
    fn edit_answer(
        &self,
        id: VisitId,
        path: &str,
        edit: impl FnOnce(&mut serde_json::Value, &[&str]),
    ) -> Result<Visit> {
        self.write(|tx| {
            let (visit, finished) =
                load_visit(tx, &self.sealer, id)?.ok_or(Error::NotFound { what: "draft" })?;
            if finished.is_some() {
                return Err(Error::Frozen);
            }
            let mut tree = serde_json::to_value(&visit)?;
            let fixed = ["visit_id", "enumerator_id", "device_id", "finished_at"];
            let keys: Vec<&str> = path.split('.').collect();
            if keys.iter().any(|k| k.is_empty()) || fixed.contains(&keys[0]) {
                return Err(Error::BadAnswer {
                    path: path.to_owned(),
                    reason: "not a question of the form".into(),
                });
            }
            edit(&mut tree, &keys);
            let changed: Visit = serde_json::from_value(tree).map_err(|e| Error::BadAnswer {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
            write_draft(tx, &self.sealer, &changed)?;
            Ok(changed)
        })
    }

    /// A visit (draft or finished) as stored.
    pub fn visit(&self, id: VisitId) -> Result<Option<Visit>> {
        self.read(|c| load_visit(c, &self.sealer, id).map(|v| v.map(|(visit, _)| visit)))
    }

    /// Drafts, newest first.
    pub fn drafts(&self) -> Result<Vec<VisitSummary>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT visit_id, household_id, outcome FROM visits WHERE finished = 0
                 ORDER BY updated_at DESC, visit_id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?;
            let mut list = Vec::new();
            for row in rows {
                let (id, household, outcome) = row?;
                list.push(VisitSummary {
                    visit_id: VisitId::parse(&id)
                        .map_err(|_| Error::Unreadable { what: "visit id" })?,
                    household_id: household.and_then(|h| HouseholdId::parse(&h).ok()),
                    outcome: outcome.and_then(|o| Outcome::from_code(&o)),
                    finished: false,
                });
            }
            Ok(list)
        })
    }

    /// Throws a draft away. A finished visit cannot be discarded.
    pub fn discard_draft(&self, id: VisitId) -> Result<()> {
        self.write(|tx| {
            let deleted = tx
                .prepare_cached("DELETE FROM visits WHERE visit_id = ?1 AND finished = 0")?
                .execute([id.to_string()])?;
            if deleted == 0 {
                return Err(if load_visit(tx, &self.sealer, id)?.is_some() {
                    Error::Frozen
                } else {
                    Error::NotFound { what: "draft" }
                });
            }
            Ok(())
        })
    }

    /// Finishes a draft: validates it against the household as the phone knows it, then, if
    /// nothing blocks, stamps `finished_at`, freezes it, gives it the next `device_seq` and puts it
    /// in the outbox, all in one transaction. Finishing an already finished visit (a double tap)
    /// answers as the first time did. With blocking issues, nothing changes and they are returned.
    pub fn finish_visit(
        &self,
        id: VisitId,
        now: Timestamp,
        campaign_start: Option<time::Date>,
    ) -> Result<Finished> {
        let sealer = &self.sealer;
        self.write(|tx| {
            let (mut visit, finished) =
                load_visit(tx, sealer, id)?.ok_or(Error::NotFound { what: "draft" })?;
            if let Some((device_seq, content_hash)) = finished {
                return Ok(Finished {
                    visit_id: id,
                    device_seq,
                    content_hash,
                    issues: Vec::new(),
                });
            }
            visit.finished_at.get_or_insert(now);

            let merged = match visit.household_id {
                Some(h) => household(tx, sealer, h)?,
                None => None,
            };
            let regions = RegionTable::of(tx)?;
            let niks = StoredNiks(tx, sealer);
            let has_attachment = |sha: &Sha256| {
                tx.prepare_cached("SELECT 1 FROM attachments WHERE sha256 = ?1")
                    .and_then(|mut s| s.exists([sha.as_str()]))
                    .unwrap_or(false)
            };
            let ctx = Context {
                campaign_start,
                regions: regions.as_ref().map(|r| r as &dyn RegionLookup),
                household: merged.as_ref().map(|m| &m.state.household),
                niks: Some(&niks),
                earlier_nobody_home: earlier_nobody_home(tx, &visit)?,
                has_attachment: Some(&has_attachment),
                ..Context::new(now)
            };
            let mut issues = validate_visit(&visit, &ctx);
            // A household the phone does not hold must be a proposal: its place and head.
            if merged.is_none() && visit.proposal.is_none() && visit.household_id.is_some() {
                issues.push(Issue::new(&crate::validate::rules::VIS_09, "proposal"));
            }
            if issues.iter().any(Issue::blocks_finishing) {
                return Err(Error::Invalid { issues });
            }

            let content_hash = visit_content_hash(&visit)?;
            let device_seq: u64 = tx.query_row(
                "SELECT coalesce(max(device_seq), 0) + 1 FROM visits",
                [],
                |r| r.get(0),
            )?;
            tx.prepare_cached(
                "UPDATE visits SET finished = 1, body = ?2, outcome = ?3, content_hash = ?4,
                     device_seq = ?5, updated_at = ?6 WHERE visit_id = ?1",
            )?
            .execute(params![
                id.to_string(),
                sealer.seal_json(BODY, &id.to_string(), &visit)?,
                visit.outcome.map(|o| o.code()),
                content_hash.as_str(),
                device_seq,
                unix_millis_now(),
            ])?;
            tx.prepare_cached("INSERT INTO outbox (device_seq, visit_id) VALUES (?1, ?2)")?
                .execute(params![device_seq, id.to_string()])?;
            Ok(Finished {
                visit_id: id,
                device_seq,
                content_hash,
                issues,
            })
        })
    }

    /// Starts a correction of a finished visit: a new draft with the same content that, once
    /// finished, supersedes the original. It keeps the original's `started_at`: it records the
    /// same interview, and its `finished_at` will say when the record was completed.
    pub fn start_correction(&self, original: VisitId) -> Result<Visit> {
        self.write(|tx| {
            let (old, finished) =
                load_visit(tx, &self.sealer, original)?.ok_or(Error::NotFound { what: "visit" })?;
            if finished.is_none() {
                return Err(Error::NotFound {
                    what: "finished visit",
                });
            }
            let mut correction = old;
            correction.visit_id = VisitId::new_v7();
            correction.supersedes = Some(original);
            correction.finished_at = None;
            write_draft(tx, &self.sealer, &correction)?;
            Ok(correction)
        })
    }

    /// Finished visits the server has not answered for yet, oldest first.
    pub fn pending_outbox(&self, limit: u32) -> Result<Vec<OutboxItem>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT o.device_seq, v.content_hash, v.body, v.visit_id FROM outbox o
                 JOIN visits v ON v.visit_id = o.visit_id
                 WHERE o.state = 'PENDING' ORDER BY o.device_seq LIMIT ?1",
            )?;
            let rows = stmt.query_map([limit], |r| {
                Ok((
                    r.get::<_, u64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?;
            let mut items = Vec::new();
            for row in rows {
                let (device_seq, hash, body, id) = row?;
                items.push(OutboxItem {
                    device_seq,
                    content_hash: Sha256::parse(&hash).map_err(|_| Error::Unreadable {
                        what: "content hash",
                    })?,
                    visit: self.sealer.open_json(BODY, &id, &body)?,
                });
            }
            Ok(items)
        })
    }

    /// The highest `device_seq` given to a finished visit (0 before the first): each push tells
    /// the server, so that visits finished and never sent show in its completeness.
    pub fn highest_finished_seq(&self) -> Result<u64> {
        self.read(|c| {
            Ok(
                c.query_row("SELECT coalesce(max(device_seq), 0) FROM visits", [], |r| {
                    r.get(0)
                })?,
            )
        })
    }

    /// How many finished visits wait for the server.
    pub fn pending_count(&self) -> Result<u64> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM outbox WHERE state = 'PENDING'",
                [],
                |r| r.get(0),
            )?)
        })
    }
}

/// Sets `value` at `keys` in a JSON tree, making objects on the way; `null` removes the key.
fn set_path(tree: &mut serde_json::Value, keys: &[&str], value: serde_json::Value) {
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let mut node = tree;
    for key in parents {
        if !node.get(*key).is_some_and(serde_json::Value::is_object) {
            node[*key] = serde_json::Value::Object(Default::default());
        }
        node = &mut node[*key];
    }
    match (value, node.as_object_mut()) {
        (serde_json::Value::Null, Some(object)) => {
            object.remove(*last);
        }
        (value, _) => node[*last] = value,
    }
}

/// Inserts or updates a draft. The `WHERE` keeps a finished visit out of reach even here.
pub(super) fn write_draft(tx: &Transaction<'_>, sealer: &Sealer, visit: &Visit) -> Result<()> {
    let id = visit.visit_id.to_string();
    tx.prepare_cached(
        "INSERT INTO visits (visit_id, household_id, outcome, body, supersedes, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (visit_id) DO UPDATE SET household_id = excluded.household_id,
             outcome = excluded.outcome, body = excluded.body, supersedes = excluded.supersedes,
             updated_at = excluded.updated_at
         WHERE finished = 0",
    )?
    .execute(params![
        id,
        visit.household_id.map(|h| h.to_string()),
        visit.outcome.map(|o| o.code()),
        sealer.seal_json(BODY, &id, visit)?,
        visit.supersedes.map(|v| v.to_string()),
        unix_millis_now(),
    ])?;
    Ok(())
}

/// What finishing gave a visit: its number and content hash.
type Seal = (u64, Sha256);

/// A stored visit and, if finished, its seal.
pub(super) fn load_visit(
    conn: &Connection,
    sealer: &Sealer,
    id: VisitId,
) -> Result<Option<(Visit, Option<Seal>)>> {
    let id = id.to_string();
    let row: Option<(Vec<u8>, Option<u64>, Option<String>)> = conn
        .prepare_cached("SELECT body, device_seq, content_hash FROM visits WHERE visit_id = ?1")?
        .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((body, seq, hash)) = row else {
        return Ok(None);
    };
    let finished = match (seq, hash) {
        (Some(seq), Some(hash)) => Some((
            seq,
            Sha256::parse(&hash).map_err(|_| Error::Unreadable {
                what: "content hash",
            })?,
        )),
        _ => None,
    };
    Ok(Some((sealer.open_json(BODY, &id, &body)?, finished)))
}

/// Finished NOBODY_HOME visits to the same household, for VIS-07.
fn earlier_nobody_home(conn: &Connection, visit: &Visit) -> Result<u32> {
    let Some(h) = visit.household_id else {
        return Ok(0);
    };
    Ok(conn
        .prepare_cached("SELECT count(*) FROM visits WHERE household_id = ?1 AND finished = 1 AND outcome = 'NOBODY_HOME'")?
        .query_row([h.to_string()], |r| r.get(0))?)
}
