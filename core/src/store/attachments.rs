//! Photos, stored once each under the sha256 of their bytes.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, unix_millis_now};
use crate::model::Sha256;

impl Store {
    /// Stores bytes and returns their sha256; storing the same bytes again changes nothing.
    pub fn put_attachment(&self, bytes: &[u8]) -> Result<Sha256> {
        let sha = Sha256::of(bytes);
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO attachments (sha256, bytes, stored_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (sha256) DO NOTHING",
            )?
            .execute(params![sha.as_str(), bytes, unix_millis_now()])?;
            Ok(())
        })?;
        Ok(sha)
    }

    pub fn attachment(&self, sha: &Sha256) -> Result<Option<Vec<u8>>> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT bytes FROM attachments WHERE sha256 = ?1")?
                    .query_row([sha.as_str()], |r| r.get(0))
                    .optional()?,
            )
        })
    }

    pub fn has_attachment(&self, sha: &Sha256) -> Result<bool> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT 1 FROM attachments WHERE sha256 = ?1")?
                    .exists([sha.as_str()])?,
            )
        })
    }
}
