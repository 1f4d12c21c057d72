//! The national region list as the server holds it (imported with `import-regions`).

use verivali_core::model::{Code, RegionCode, RegionLookup};

use super::Conn;
use crate::db::DbError;

/// The region list a push checks visits against; `None` when none was imported (the region checks
/// are then skipped, never guessed).
#[derive(Debug)]
pub struct RegionList<'c>(Conn<'c>);

impl<'c> RegionList<'c> {
    pub fn of(conn: Conn<'c>) -> Result<Option<Self>, DbError> {
        let any = conn.exists("SELECT 1 FROM regions LIMIT 1", &[])?;
        Ok(any.then_some(Self(conn)))
    }
}

impl RegionLookup for RegionList<'_> {
    fn contains(&self, code: &RegionCode) -> bool {
        self.0
            .exists("SELECT 1 FROM regions WHERE code = ?1", &[&code.as_str()])
            .unwrap_or(false)
    }
}
