//! Photos and other attachments, stored as files named by the sha256 of their bytes under
//! `<data_dir>/attachments/`. Uploads resume: the bytes received so far wait in `partial/`, `HEAD`
//! tells how many, and the next `PUT` continues from there. When the last byte arrives the hash is
//! checked; a file whose bytes do not match its name is deleted and refused.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256 as Sha};
use verivali_core::model::Sha256;

/// The largest attachment accepted (photos are downscaled on the phone to a few hundred KB).
pub const MAX_ATTACHMENT_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("the upload continues at byte {held}, not {offered}")]
    WrongOffset { held: u64, offered: u64 },
    #[error("the bytes do not hash to the name they were sent under")]
    HashMismatch,
    #[error("attachment larger than the limit")]
    TooLarge,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Where an attachment stands on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Complete {
        size: u64,
    },
    /// Part of it arrived: the upload continues at this byte.
    Partial {
        held: u64,
    },
    Absent,
}

#[derive(Debug, Clone)]
pub struct Attachments {
    root: PathBuf,
}

impl Attachments {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            root: data_dir.join("attachments"),
        }
    }

    fn complete_path(&self, sha: &Sha256) -> PathBuf {
        self.root.join(&sha.as_str()[..2]).join(sha.as_str())
    }

    fn partial_path(&self, sha: &Sha256) -> PathBuf {
        self.root.join("partial").join(sha.as_str())
    }

    pub fn presence(&self, sha: &Sha256) -> Presence {
        if let Ok(meta) = fs::metadata(self.complete_path(sha)) {
            return Presence::Complete { size: meta.len() };
        }
        match fs::metadata(self.partial_path(sha)) {
            Ok(meta) => Presence::Partial { held: meta.len() },
            Err(_) => Presence::Absent,
        }
    }

    /// Appends `bytes` at `offset` (which must be what the server holds already). Returns the
    /// presence afterwards: complete once `total` bytes are held and their hash matches.
    pub fn put(
        &self,
        sha: &Sha256,
        offset: u64,
        total: u64,
        bytes: &[u8],
    ) -> Result<Presence, AttachmentError> {
        if total > MAX_ATTACHMENT_BYTES {
            return Err(AttachmentError::TooLarge);
        }
        if let Presence::Complete { size } = self.presence(sha) {
            return Ok(Presence::Complete { size });
        }
        let partial = self.partial_path(sha);
        fs::create_dir_all(partial.parent().unwrap_or(&self.root))?;
        let held = fs::metadata(&partial).map(|m| m.len()).unwrap_or(0);
        if offset != held {
            return Err(AttachmentError::WrongOffset {
                held,
                offered: offset,
            });
        }
        if held + bytes.len() as u64 > total {
            return Err(AttachmentError::TooLarge);
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&partial)?;
        file.write_all(bytes)?;
        file.sync_data()?;
        let held = held + bytes.len() as u64;
        if held < total {
            return Ok(Presence::Partial { held });
        }
        // All bytes are here: check them before they take their name.
        let mut hasher = Sha::new();
        let mut reader = File::open(&partial)?;
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
        if format!("{:x}", hasher.finalize()) != sha.as_str() {
            fs::remove_file(&partial)?;
            return Err(AttachmentError::HashMismatch);
        }
        let complete = self.complete_path(sha);
        fs::create_dir_all(complete.parent().unwrap_or(&self.root))?;
        fs::rename(&partial, &complete)?;
        if let Some(dir) = complete.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(Presence::Complete { size: held })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_upload_resumes_and_a_wrong_one_is_refused() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = Attachments::new(dir.path());
        let photo: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let sha = Sha256::of(&photo);
        assert_eq!(store.presence(&sha), Presence::Absent);
        assert_eq!(
            store.put(&sha, 0, 100_000, &photo[..40_000]).unwrap(),
            Presence::Partial { held: 40_000 }
        );
        assert!(matches!(
            store.put(&sha, 0, 100_000, &photo[..10]),
            Err(AttachmentError::WrongOffset { held: 40_000, .. })
        ));
        assert_eq!(
            store.put(&sha, 40_000, 100_000, &photo[40_000..]).unwrap(),
            Presence::Complete { size: 100_000 }
        );
        assert_eq!(store.presence(&sha), Presence::Complete { size: 100_000 });

        let other = Sha256::of(b"something else");
        assert!(matches!(
            store.put(&other, 0, 5, b"hello"),
            Err(AttachmentError::HashMismatch)
        ));
        assert_eq!(
            store.presence(&other),
            Presence::Absent,
            "nothing of a mismatched upload is kept"
        );
    }
}
