//! Households as pulled: their merged states, the members index for NIK lookups, and the RT
//! lists. Names and addresses are sealed, so lists and name search open the households' cards
//! (a few hundred bytes each) and sort and match them in memory.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::sealed::Sealer;
use super::{Result, Store, set_meta};
use crate::merge::{HouseholdState, Merged};
use crate::model::*;
use crate::validate::NikDirectory;

/// One line of a household list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdSummary {
    pub household_id: HouseholdId,
    pub head_name: String,
    pub address: String,
    pub rw: Option<String>,
    pub rt: Option<String>,
    pub status: VerificationStatus,
}

/// The sealed columns of a household row.
pub(super) const CARD: &str = "households.card";
pub(super) const STATE: &str = "households.state";

/// What lists and search show of a household: sealed in its own column, so that a list opens a
/// few hundred bytes per household and not the whole state.
#[derive(Debug, Serialize, Deserialize)]
struct Card {
    head_name: String,
    address: String,
    /// The members' names as search compares them ([`name_key`]).
    names: Vec<String>,
}

impl Store {
    /// Stores a page of pulled household states and, in the same transaction, the cursor that
    /// follows it: a page is applied whole or not at all.
    pub fn save_households(&self, states: &[Merged], cursor: Option<&str>) -> Result<()> {
        let sealer = &self.sealer;
        self.write(|tx| {
            for merged in states {
                save_household(tx, sealer, merged)?;
            }
            if let Some(cursor) = cursor {
                set_meta(tx, sealer, "pull_cursor", cursor)?;
            }
            Ok(())
        })
    }

    /// Stores the region list the phone was given (replacing the previous one).
    pub fn save_regions(&self, regions: &[Region]) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM regions", [])?;
            let mut insert =
                tx.prepare_cached("INSERT INTO regions (code, name) VALUES (?1, ?2)")?;
            for r in regions {
                insert.execute([r.code.as_str(), &r.name])?;
            }
            Ok(())
        })
    }

    /// One household's merged state and hash.
    pub fn household(&self, id: HouseholdId) -> Result<Option<Merged>> {
        self.read(|c| household(c, &self.sealer, id))
    }

    /// The households of one RT, by head's name: the enumerator's daily list. Households of the
    /// village whose RW or RT is not known yet are on every RT's list (their `rt` is `None`) until
    /// a visit records where they were found.
    pub fn households_in_rt(
        &self,
        region: &RegionCode,
        rw: &Rw,
        rt: &Rt,
    ) -> Result<Vec<HouseholdSummary>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                // Three parts, each a range of the (region, rw, rt) index: the RT's own, those
                // of its RW without an RT, those of the village without an RW.
                "SELECT household_id, card, rw, rt, status FROM households
                     WHERE region = ?1 AND rw = ?2 AND rt = ?3
                 UNION ALL
                 SELECT household_id, card, rw, rt, status FROM households
                     WHERE region = ?1 AND rw = ?2 AND rt IS NULL
                 UNION ALL
                 SELECT household_id, card, rw, rt, status FROM households
                     WHERE region = ?1 AND rw IS NULL AND (rt IS NULL OR rt = ?3)",
            )?;
            let rows = stmt.query_map([region.as_str(), rw.as_str(), rt.as_str()], list_row)?;
            let mut list = Vec::new();
            for row in rows {
                list.push(summary(&self.sealer, row?)?.0);
            }
            Ok(by_head_name(list))
        })
    }

    /// Households whose head or a member has this name (in part, any case), or whose member has
    /// this NIK (whole): the enumerator's search box. At most 50, by head's name.
    pub fn search_households(&self, query: &str) -> Result<Vec<HouseholdSummary>> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let key = name_key(query);
        self.read(|c| {
            let mut found = Vec::new();
            if let Ok(nik) = Nik::parse(query) {
                // A whole NIK: the members index finds it through its keyed hash.
                let mut stmt = c.prepare_cached(
                    "SELECT h.household_id, h.card, h.rw, h.rt, h.status FROM households h
                     WHERE h.household_id IN
                         (SELECT household_id FROM members WHERE nik_lookup = ?1)",
                )?;
                for row in stmt.query_map([self.sealer.nik_lookup(&nik)], list_row)? {
                    found.push(summary(&self.sealer, row?)?.0);
                }
            } else {
                // Part of a name: names are sealed, so every card is opened and matched here.
                let mut stmt =
                    c.prepare_cached("SELECT household_id, card, rw, rt, status FROM households")?;
                for row in stmt.query_map([], list_row)? {
                    let (line, names) = summary(&self.sealer, row?)?;
                    if names.iter().any(|n| n.contains(&key)) {
                        found.push(line);
                    }
                }
            }
            let mut found = by_head_name(found);
            found.truncate(50);
            Ok(found)
        })
    }

    pub fn household_count(&self) -> Result<u64> {
        self.read(|c| Ok(c.query_row("SELECT count(*) FROM households", [], |r| r.get(0))?))
    }
}

/// The columns of a list line: id, sealed card, RW, RT, status.
type ListRow = (String, Vec<u8>, Option<String>, Option<String>, String);

fn list_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ListRow> {
    r.try_into()
}

/// A list line, and the members' names for search.
fn summary(
    sealer: &Sealer,
    (id, card, rw, rt, status): ListRow,
) -> Result<(HouseholdSummary, Vec<String>)> {
    let card: Card = sealer.open_json(CARD, &id, &card)?;
    let line = HouseholdSummary {
        household_id: HouseholdId::parse(&id).map_err(|_| corrupt("household id"))?,
        head_name: card.head_name,
        address: card.address,
        rw,
        rt,
        status: VerificationStatus::from_code(&status).ok_or_else(|| corrupt("status"))?,
    };
    Ok((line, card.names))
}

/// By head's name, then id: the order of every household list.
fn by_head_name(mut list: Vec<HouseholdSummary>) -> Vec<HouseholdSummary> {
    list.sort_by(|a, b| {
        (&a.head_name, a.household_id.to_string()).cmp(&(&b.head_name, b.household_id.to_string()))
    });
    list
}

/// The head's name of a household, from its sealed card (the inbox shows it).
pub(super) fn head_name(sealer: &Sealer, id: &str, card: &[u8]) -> Result<String> {
    Ok(sealer.open_json::<Card>(CARD, id, card)?.head_name)
}

pub(super) fn corrupt(what: &'static str) -> super::Error {
    super::Error::Unreadable { what }
}

pub(super) fn household(
    conn: &Connection,
    sealer: &Sealer,
    id: HouseholdId,
) -> Result<Option<Merged>> {
    let id = id.to_string();
    let row: Option<(Vec<u8>, String)> = conn
        .prepare_cached("SELECT state, state_hash FROM households WHERE household_id = ?1")?
        .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((state, hash)) = row else {
        return Ok(None);
    };
    let state: HouseholdState = sealer.open_json(STATE, &id, &state)?;
    let state_hash = Sha256::parse(&hash).map_err(|_| corrupt("state hash"))?;
    Ok(Some(Merged { state, state_hash }))
}

pub(super) fn save_household(tx: &Transaction<'_>, sealer: &Sealer, merged: &Merged) -> Result<()> {
    let h = &merged.state.household;
    let id = h.household_id.to_string();
    let card = Card {
        head_name: h.head_name.clone(),
        address: h.address.clone(),
        names: h.members.iter().map(|m| name_key(m.name())).collect(),
    };
    tx.prepare_cached(
        "INSERT INTO households
             (household_id, region, rw, rt, status, card, state, state_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (household_id) DO UPDATE SET
             region = excluded.region, rw = excluded.rw, rt = excluded.rt,
             status = excluded.status, card = excluded.card, state = excluded.state,
             state_hash = excluded.state_hash",
    )?
    .execute(params![
        id,
        h.region.as_str(),
        h.rw.as_ref().map(Rw::as_str),
        h.rt.as_ref().map(Rt::as_str),
        merged.state.status.code(),
        sealer.seal_json(CARD, &id, &card)?,
        sealer.seal_json(STATE, &id, &merged.state)?,
        merged.state_hash.as_str(),
    ])?;
    index_members(tx, sealer, h)
}

/// A name as search compares it: NFC, lower case, single spaces.
pub fn name_key(name: &str) -> String {
    name.nfc()
        .collect::<String>()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn index_members(tx: &Transaction<'_>, sealer: &Sealer, h: &Household) -> Result<()> {
    let id = h.household_id.to_string();
    tx.prepare_cached("DELETE FROM members WHERE household_id = ?1")?
        .execute([&id])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO members (member_id, household_id, nik_lookup) VALUES (?1, ?2, ?3)
         ON CONFLICT (member_id) DO UPDATE SET household_id = excluded.household_id,
             nik_lookup = excluded.nik_lookup",
    )?;
    for m in &h.members {
        let nik = m.nik();
        insert.execute(params![
            m.member_id.to_string(),
            id,
            nik.map(|n| sealer.nik_lookup(n))
        ])?;
    }
    Ok(())
}

/// The NIKs of the households on the phone, for NIK-09.
pub(super) struct StoredNiks<'c>(pub &'c Connection, pub &'c Sealer);

impl NikDirectory for StoredNiks<'_> {
    fn household_with_nik(&self, nik: &Nik, except: Option<HouseholdId>) -> Option<HouseholdId> {
        let except = except.map(|h| h.to_string()).unwrap_or_default();
        self.0
            .prepare_cached(
                "SELECT household_id FROM members
                 WHERE nik_lookup = ?1 AND household_id <> ?2 LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![self.1.nik_lookup(nik), except], |r| {
                    r.get::<_, String>(0)
                })
                .optional()
            })
            .ok()
            .flatten()
            .and_then(|id| HouseholdId::parse(&id).ok())
    }
}
