//! What the phone's store and the server share over their SQLite files: both keep the region
//! list in a table `regions (code TEXT PRIMARY KEY, name TEXT)`, and validation looks codes up in it.

use rusqlite::Connection;

use crate::model::{Code, RegionCode, RegionLookup};

/// The region table of a database, for validation.
#[derive(Debug)]
pub struct RegionTable<'c>(&'c Connection);

impl<'c> RegionTable<'c> {
    /// `None` when the table is empty: the region checks are then skipped, never guessed.
    pub fn of(conn: &'c Connection) -> rusqlite::Result<Option<Self>> {
        let any: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM regions)")?
            .query_row([], |r| r.get(0))?;
        Ok(any.then_some(Self(conn)))
    }
}

impl RegionLookup for RegionTable<'_> {
    fn contains(&self, code: &RegionCode) -> bool {
        self.0
            .prepare_cached("SELECT 1 FROM regions WHERE code = ?1")
            .and_then(|mut s| s.exists([code.as_str()]))
            .unwrap_or(false)
    }
}
