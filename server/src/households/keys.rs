//! Keys for suspected duplicates (data ganda, DESIGN §6): a NIK, a family card number, a name with
//! a birth date in a village, each indexed as a sha256 digest so that `household_keys` never holds
//! a NIK in clear.
//!
//! The keys recorded for a household are always those of its stored state: every merge records
//! them, and the row's `keys_digest` is the digest of their material. So a push works out what is
//! recorded from the state it read, and what changes, off the writer; the writer only deletes and
//! inserts the keys that differ, by the table's primary key, with no index by household to keep.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256 as Sha};
use verivali_core::model::*;

use crate::db::DbError;
use crate::store::{Conn, households as stored};

/// The kinds of suspected duplicate.
const NIK: &str = "NIK";
const KK: &str = "KK";
const NAME_BIRTH: &str = "NAME_BIRTH";

/// The digest under which a NIK is indexed.
pub fn nik_digest(nik: &Nik) -> String {
    digest(&[nik.as_str()])
}

fn digest(parts: &[&str]) -> String {
    let mut h = Sha::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex(&h.finalize())
}

/// A household's duplicate keys, as `household_keys` holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DuplicateKeys {
    /// The digest of the keys' material, stored in the row as `keys_digest`; empty for a row
    /// never merged, which has no keys.
    pub digest: String,
    /// (kind, digest of the key).
    keys: BTreeSet<(String, String)>,
}

impl DuplicateKeys {
    /// The keys of a household, from its members, family card and village.
    pub fn of(h: &Household) -> Self {
        // The material of each key, in clear only here, in memory.
        let mut material: Vec<(&str, Vec<String>)> = Vec::new();
        // A household merged into another one has its keys there.
        let merged = h.target_status == TargetStatus::MergedInto;
        for m in h.members.iter().filter(|m| m.is_active() && !merged) {
            if let Some(nik) = m.nik() {
                material.push((NIK, vec![nik.as_str().to_owned()]));
            }
            if let Some(born) = m.details.birth_date {
                let name = m
                    .name()
                    .to_lowercase()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                if !name.is_empty() {
                    material.push((
                        NAME_BIRTH,
                        vec![h.region.as_str().to_owned(), name, born.to_string()],
                    ));
                }
            }
        }
        if let Some(kk) = h
            .kk_number
            .as_ref()
            .and_then(Entered::valid)
            .filter(|_| !merged)
        {
            material.push((KK, vec![kk.as_str().to_owned()]));
        }
        material.sort();
        material.dedup();
        let all: Vec<&str> = material
            .iter()
            .flat_map(|(kind, parts)| {
                std::iter::once(*kind).chain(parts.iter().map(String::as_str))
            })
            .collect();
        Self {
            digest: digest(&all),
            keys: material
                .iter()
                .map(|(kind, parts)| {
                    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
                    ((*kind).to_owned(), digest(&parts))
                })
                .collect(),
        }
    }

    /// The keys recorded for a stored household: those of `household`, its stored state's, whose
    /// material has the digest `recorded` the row holds (empty: never merged, no keys).
    pub fn recorded(
        conn: Conn<'_>,
        id: HouseholdId,
        household: &Household,
        recorded: String,
    ) -> Result<Self, DbError> {
        if recorded.is_empty() {
            return Ok(Self::default());
        }
        let keys = Self::of(household);
        if keys.digest == recorded {
            return Ok(keys);
        }
        // Not written by this version's merge: read what the table holds (a scan, there being
        // no index by household; it never happens while every merge records its keys).
        tracing::warn!(household = %id, "duplicate keys not those of the stored state; read from the table");
        Ok(Self {
            digest: recorded,
            keys: stored::keys_of(conn, &id.to_string())?
                .into_iter()
                .collect(),
        })
    }

    /// Replaces the keys `recorded` for household `id` by these, and queues every other household
    /// that shares one of the new ones. The caller stores `self.digest` in the row.
    pub fn replace(
        &self,
        conn: Conn<'_>,
        (id, region): (HouseholdId, &str),
        recorded: &DuplicateKeys,
        now: Timestamp,
    ) -> Result<(), DbError> {
        // Most merges change no NIK, KK or name: then there is nothing to rewrite, and no new
        // pair (a household that gains a shared key finds this one when it is merged itself).
        if self.digest == recorded.digest {
            return Ok(());
        }
        let id = id.to_string();
        // A key held before found its pairs when it came (or they found it when they gained it).
        let pairs = stored::replace_keys(
            conn,
            (&id, region),
            recorded.keys.difference(&self.keys),
            self.keys.difference(&recorded.keys),
        )?;
        for (kind, other) in pairs {
            let (a, b) = if id < other {
                (&id, &other)
            } else {
                (&other, &id)
            };
            stored::record_duplicate(conn, a, b, kind, now.unix_millis())?;
        }
        Ok(())
    }
}
