//! Photos, stored once each under the sha256 of their bytes, sealed.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, unix_millis_now};

/// The sealed column of a photo.
pub(super) const BYTES: &str = "attachments.bytes";
use crate::model::Sha256;

impl Store {
    /// Stores a photo from the camera as a visit keeps it (upright, at most 1,600 px on its long
    /// side, without the camera's metadata: `crate::photo`) and returns the sha256 the visit's
    /// `photos` name it by.
    pub fn put_photo(&self, camera_jpeg: &[u8]) -> Result<Sha256> {
        self.put_attachment(&crate::photo::for_the_record(camera_jpeg)?)
    }

    /// Stores bytes and returns their sha256; storing the same bytes again changes nothing.
    pub fn put_attachment(&self, bytes: &[u8]) -> Result<Sha256> {
        let sha = Sha256::of(bytes);
        let sealed = self.sealer.seal(BYTES, sha.as_str(), bytes)?;
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO attachments (sha256, bytes, stored_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (sha256) DO NOTHING",
            )?
            .execute(params![sha.as_str(), sealed, unix_millis_now()])?;
            Ok(())
        })?;
        Ok(sha)
    }

    pub fn attachment(&self, sha: &Sha256) -> Result<Option<Vec<u8>>> {
        let sealed: Option<Vec<u8>> = self.read(|c| {
            Ok(
                c.prepare_cached("SELECT bytes FROM attachments WHERE sha256 = ?1")?
                    .query_row([sha.as_str()], |r| r.get(0))
                    .optional()?,
            )
        })?;
        sealed
            .map(|s| self.sealer.open(BYTES, sha.as_str(), &s))
            .transpose()
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
