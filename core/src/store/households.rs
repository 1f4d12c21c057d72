//! Households as pulled: their merged states, the members index for search, and the RT lists.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use unicode_normalization::UnicodeNormalization;

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

impl Store {
    /// Stores a page of pulled household states and, in the same transaction, the cursor that
    /// follows it: a page is applied whole or not at all.
    pub fn save_households(&self, states: &[Merged], cursor: Option<&str>) -> Result<()> {
        self.write(|tx| {
            for merged in states {
                save_household(tx, merged)?;
            }
            if let Some(cursor) = cursor {
                set_meta(tx, "pull_cursor", cursor)?;
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
        self.read(|c| household(c, id))
    }

    /// The households of one RT, by head's name: the enumerator's daily list.
    pub fn households_in_rt(
        &self,
        region: &RegionCode,
        rw: &Rw,
        rt: &Rt,
    ) -> Result<Vec<HouseholdSummary>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT household_id, head_name, address, rw, rt, status FROM households
                 WHERE region = ?1 AND rw = ?2 AND rt = ?3 ORDER BY head_name, household_id",
            )?;
            let rows = stmt.query_map([region.as_str(), rw.as_str(), rt.as_str()], summary_row)?;
            rows.map(|r| r.map_err(super::Error::from).and_then(summary))
                .collect()
        })
    }

    /// Households whose head or a member has this name (in part, any case), or whose member has
    /// this NIK (whole): the enumerator's search box. At most 50, by head's name.
    pub fn search_households(&self, query: &str) -> Result<Vec<HouseholdSummary>> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let by_nik = Nik::parse(query).ok();
        let pattern = format!(
            "%{}%",
            name_key(query)
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT household_id, head_name, address, rw, rt, status FROM households
                 WHERE household_id IN (
                     SELECT household_id FROM members
                     WHERE name_key LIKE ?1 ESCAPE '\\' OR nik = ?2)
                 ORDER BY head_name, household_id LIMIT 50",
            )?;
            let rows = stmt.query_map(
                params![pattern, by_nik.as_ref().map(Nik::as_str)],
                summary_row,
            )?;
            rows.map(|r| r.map_err(super::Error::from).and_then(summary))
                .collect()
        })
    }

    pub fn household_count(&self) -> Result<u64> {
        self.read(|c| Ok(c.query_row("SELECT count(*) FROM households", [], |r| r.get(0))?))
    }
}

/// The columns of a list line: id, head's name, address, RW, RT, status.
type SummaryRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
);

fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SummaryRow> {
    r.try_into()
}

fn summary((id, head_name, address, rw, rt, status): SummaryRow) -> Result<HouseholdSummary> {
    Ok(HouseholdSummary {
        household_id: HouseholdId::parse(&id).map_err(|_| corrupt("household id"))?,
        head_name,
        address,
        rw,
        rt,
        status: VerificationStatus::from_code(&status).ok_or_else(|| corrupt("status"))?,
    })
}

pub(super) fn corrupt(what: &'static str) -> super::Error {
    super::Error::Unreadable { what }
}

pub(super) fn household(conn: &Connection, id: HouseholdId) -> Result<Option<Merged>> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT state_json, state_hash FROM households WHERE household_id = ?1")?
        .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((json, hash)) = row else {
        return Ok(None);
    };
    let state: HouseholdState = serde_json::from_str(&json)?;
    let state_hash = Sha256::parse(&hash).map_err(|_| corrupt("state hash"))?;
    Ok(Some(Merged { state, state_hash }))
}

pub(super) fn save_household(tx: &Transaction<'_>, merged: &Merged) -> Result<()> {
    let h = &merged.state.household;
    let id = h.household_id.to_string();
    tx.prepare_cached(
        "INSERT INTO households
             (household_id, region, rw, rt, head_name, address, status, state_json, state_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (household_id) DO UPDATE SET
             region = excluded.region, rw = excluded.rw, rt = excluded.rt,
             head_name = excluded.head_name, address = excluded.address, status = excluded.status,
             state_json = excluded.state_json, state_hash = excluded.state_hash",
    )?
    .execute(params![
        id,
        h.region.as_str(),
        h.rw.as_ref().map(Rw::as_str),
        h.rt.as_ref().map(Rt::as_str),
        h.head_name,
        h.address,
        merged.state.status.code(),
        serde_json::to_string(&merged.state)?,
        merged.state_hash.as_str(),
    ])?;
    index_members(tx, h)
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

fn index_members(tx: &Transaction<'_>, h: &Household) -> Result<()> {
    let id = h.household_id.to_string();
    tx.prepare_cached("DELETE FROM members WHERE household_id = ?1")?
        .execute([&id])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO members (member_id, household_id, name_key, nik) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (member_id) DO UPDATE SET household_id = excluded.household_id,
             name_key = excluded.name_key, nik = excluded.nik",
    )?;
    for m in &h.members {
        let nik = m
            .details
            .nik
            .as_ref()
            .and_then(Entered::valid)
            .map(Nik::as_str);
        insert.execute(params![
            m.member_id.to_string(),
            id,
            name_key(m.name()),
            nik
        ])?;
    }
    Ok(())
}

/// Rebuilds the members index from the stored states (schema upgrade to version 2).
pub(super) fn reindex_all_members(tx: &Transaction<'_>) -> Result<()> {
    let states: Vec<String> = tx
        .prepare("SELECT state_json FROM households")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for json in states {
        let state: HouseholdState = serde_json::from_str(&json)?;
        index_members(tx, &state.household)?;
    }
    Ok(())
}

/// The NIKs of the households on the phone, for NIK-09.
pub(super) struct StoredNiks<'c>(pub &'c Connection);

impl NikDirectory for StoredNiks<'_> {
    fn household_with_nik(&self, nik: &Nik, except: Option<HouseholdId>) -> Option<HouseholdId> {
        let except = except.map(|h| h.to_string()).unwrap_or_default();
        self.0
            .prepare_cached(
                "SELECT household_id FROM members WHERE nik = ?1 AND household_id <> ?2 LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row([nik.as_str(), &except], |r| r.get::<_, String>(0))
                    .optional()
            })
            .ok()
            .flatten()
            .and_then(|id| HouseholdId::parse(&id).ok())
    }
}
