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

/// Why a photo cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("the photo has not arrived")]
    Absent,
    #[error("the bytes are not a JPEG image")]
    Unreadable,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Thumbnails fit in this square: four to a row on the household page.
const THUMB_PX: u32 = 320;

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

    fn thumb_path(&self, sha: &Sha256) -> PathBuf {
        self.root
            .join("thumbs")
            .join(format!("{}.jpg", sha.as_str()))
    }

    /// The whole attachment, once all of it has arrived.
    pub fn read(&self, sha: &Sha256) -> Result<Vec<u8>, PhotoError> {
        match fs::read(self.complete_path(sha)) {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(PhotoError::Absent),
            Err(e) => Err(e.into()),
        }
    }

    /// A small JPEG of the photo, made at the first request and kept beside it.
    pub fn thumbnail(&self, sha: &Sha256) -> Result<Vec<u8>, PhotoError> {
        let path = self.thumb_path(sha);
        if let Ok(bytes) = fs::read(&path) {
            return Ok(bytes);
        }
        let thumb = make_thumbnail(&self.read(sha)?)?;
        // Written aside, then renamed: two requests at once never read half a file.
        let dir = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir)?;
        let mut aside = tempfile_in(dir)?;
        aside.1.write_all(&thumb)?;
        fs::rename(&aside.0, &path)?;
        Ok(thumb)
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

/// Decodes a phone's JPEG within limits (a photo is a few hundred KB; a crafted header must not
/// make the server allocate gigabytes) and encodes a small one.
pub fn make_thumbnail(bytes: &[u8]) -> Result<Vec<u8>, PhotoError> {
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Jpeg);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(8_000);
    limits.max_image_height = Some(8_000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let image = reader.decode().map_err(|_| PhotoError::Unreadable)?;
    let small = image.thumbnail(THUMB_PX, THUMB_PX).into_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70)
        .encode_image(&small)
        .map_err(|_| PhotoError::Unreadable)?;
    Ok(out)
}

/// A new file in `dir` with a name no other request uses.
fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, File)> {
    let path = dir.join(format!(".{}.part", uuid::Uuid::now_v7()));
    let file = File::create(&path)?;
    Ok((path, file))
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

    #[test]
    fn a_thumbnail_is_small_and_kept_and_a_non_image_is_refused() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = Attachments::new(dir.path());
        let photo = image::RgbImage::from_fn(1600, 1200, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
            .encode_image(&photo)
            .unwrap();
        let sha = Sha256::of(&jpeg);
        assert!(matches!(store.thumbnail(&sha), Err(PhotoError::Absent)));
        store.put(&sha, 0, jpeg.len() as u64, &jpeg).unwrap();
        let thumb = store.thumbnail(&sha).unwrap();
        let small = image::load_from_memory(&thumb).unwrap();
        assert_eq!((small.width(), small.height()), (320, 240));
        assert!(
            thumb.len() < jpeg.len() / 4,
            "{} of {}",
            thumb.len(),
            jpeg.len()
        );
        assert_eq!(
            store.thumbnail(&sha).unwrap(),
            thumb,
            "kept, not made again"
        );

        let text = b"not a photo at all".to_vec();
        let sha = Sha256::of(&text);
        store.put(&sha, 0, text.len() as u64, &text).unwrap();
        assert!(matches!(store.thumbnail(&sha), Err(PhotoError::Unreadable)));
    }
}
