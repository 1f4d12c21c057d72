//! Photos and other attachments, stored as files named by the sha256 of their bytes under
//! `<data_dir>/attachments/`. Uploads resume: the bytes a device sent so far wait in
//! `partial/<device>/`, `HEAD` tells how many, and the next `PUT` continues from there. When the
//! last byte arrives the hash is checked; a file whose bytes do not match its name is deleted and
//! refused. A device is told a photo is held only once it sent all of that photo's bytes itself
//! (`attachment_holders`): a hash alone does not tell whether a house was photographed. Partial
//! uploads are kept a week and take at most [`MAX_PARTIAL_BYTES`] together.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256 as Sha};
use verivali_core::model::Sha256;

/// The largest attachment accepted (photos are downscaled on the phone to a few hundred KB).
pub const MAX_ATTACHMENT_BYTES: u64 = 8 * 1024 * 1024;

/// What unfinished uploads may take on disk together: some hundred phones' photos in flight.
pub const MAX_PARTIAL_BYTES: u64 = 1 << 30;

/// An unfinished upload is forgotten after this long: the phone starts that photo again.
pub const PARTIAL_KEPT: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("the upload continues at byte {held}, not {offered}")]
    WrongOffset { held: u64, offered: u64 },
    #[error("the bytes do not hash to the name they were sent under")]
    HashMismatch,
    #[error("attachment larger than the limit")]
    TooLarge,
    #[error("another request is writing this upload")]
    Busy,
    #[error("unfinished uploads fill their space")]
    NoRoom,
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

/// A stored object: a photo whole, or its thumbnail.
#[derive(Debug, Clone, Copy)]
pub enum Object<'s> {
    Photo(&'s Sha256),
    Thumbnail(&'s Sha256),
}

/// Where whole photos and their thumbnails are kept, named by the sha256 of the photo's bytes:
/// the calls an object store answers (GET, HEAD, PUT of a whole object), so that one (S3, MinIO)
/// can take the place of the directory when several server processes run on several machines.
/// An object once stored never changes: a name always holds the same bytes, and storing it again
/// changes nothing. Unfinished uploads are appended to, which an object store does not do: they
/// stay in the directory the processes share (`partial/`, at most [`MAX_PARTIAL_BYTES`]).
pub trait PhotoStore: std::fmt::Debug + Send + Sync {
    /// The object's bytes; `None` when it is not stored.
    fn get(&self, object: Object<'_>) -> std::io::Result<Option<Vec<u8>>>;
    /// The object's size; `None` when it is not stored.
    fn size(&self, object: Object<'_>) -> std::io::Result<Option<u64>>;
    /// Stores `bytes` as the object, durably.
    fn put(&self, object: Object<'_>, bytes: &[u8]) -> std::io::Result<()>;
    /// Stores the file at `path` as the object, durably, and removes the file.
    fn put_moving(&self, object: Object<'_>, path: &Path) -> std::io::Result<()>;
    /// Every photo stored whole.
    fn photos(&self) -> std::io::Result<Vec<Sha256>>;
}

/// The photo store of one directory (the default), shared by the processes that mount it.
#[derive(Debug, Clone)]
pub struct Directory {
    root: PathBuf,
}

impl Directory {
    fn path(&self, object: Object<'_>) -> PathBuf {
        match object {
            Object::Photo(sha) => self.root.join(&sha.as_str()[..2]).join(sha.as_str()),
            Object::Thumbnail(sha) => self
                .root
                .join("thumbs")
                .join(format!("{}.jpg", sha.as_str())),
        }
    }

    /// The object's path, its directory made.
    fn path_made(&self, object: Object<'_>) -> std::io::Result<PathBuf> {
        let path = self.path(object);
        fs::create_dir_all(path.parent().unwrap_or(&self.root))?;
        Ok(path)
    }
}

impl PhotoStore for Directory {
    fn get(&self, object: Object<'_>) -> std::io::Result<Option<Vec<u8>>> {
        match fs::read(self.path(object)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn size(&self, object: Object<'_>) -> std::io::Result<Option<u64>> {
        match fs::metadata(self.path(object)) {
            Ok(meta) => Ok(Some(meta.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn put(&self, object: Object<'_>, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.path_made(object)?;
        // Written aside, then renamed: a reader in any process never sees half a file.
        let dir = path.parent().unwrap_or(&self.root);
        let (aside, mut file) = tempfile_in(dir)?;
        file.write_all(bytes)?;
        file.sync_data()?;
        fs::rename(&aside, &path)?;
        File::open(dir)?.sync_all()
    }

    fn put_moving(&self, object: Object<'_>, from: &Path) -> std::io::Result<()> {
        let path = self.path_made(object)?;
        fs::rename(from, &path)?;
        File::open(path.parent().unwrap_or(&self.root))?.sync_all()
    }

    fn photos(&self) -> std::io::Result<Vec<Sha256>> {
        Ok(complete_photos(&self.root)?
            .into_iter()
            .map(|(sha, _)| sha)
            .collect())
    }
}

/// The photos stored whole in the directory `root`, with their paths: `<2 hex>/<sha256>`.
pub fn complete_photos(root: &Path) -> std::io::Result<Vec<(Sha256, PathBuf)>> {
    let mut photos = Vec::new();
    let Ok(shelves) = fs::read_dir(root) else {
        return Ok(photos);
    };
    for shelf in shelves {
        let shelf = shelf?.path();
        let name = shelf.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.len() != 2 || !shelf.is_dir() {
            continue;
        }
        for photo in fs::read_dir(&shelf)? {
            let photo = photo?.path();
            if let Some(sha) = photo.file_name().and_then(|n| n.to_str())
                && let Ok(sha) = Sha256::parse(sha)
                && sha.as_str().starts_with(name)
            {
                photos.push((sha, photo.clone()));
            }
        }
    }
    Ok(photos)
}

/// Photo uploads and the photos they complete.
#[derive(Debug, Clone)]
pub struct Attachments {
    /// The directory the processes share: unfinished uploads are in `partial/` under it.
    root: PathBuf,
    store: std::sync::Arc<dyn PhotoStore>,
}

impl Attachments {
    /// The photos of `data_dir`, in its `attachments/` directory.
    pub fn new(data_dir: &Path) -> Self {
        let root = data_dir.join("attachments");
        Self {
            store: std::sync::Arc::new(Directory { root: root.clone() }),
            root,
        }
    }

    /// The whole attachment, once all of it has arrived.
    pub fn read(&self, sha: &Sha256) -> Result<Vec<u8>, PhotoError> {
        self.store
            .get(Object::Photo(sha))?
            .ok_or(PhotoError::Absent)
    }

    /// A small JPEG of the photo, made at the first request and kept beside it.
    pub fn thumbnail(&self, sha: &Sha256) -> Result<Vec<u8>, PhotoError> {
        if let Some(bytes) = self.store.get(Object::Thumbnail(sha))? {
            return Ok(bytes);
        }
        let thumb = verivali_core::photo::thumbnail(&self.read(sha)?, THUMB_PX)
            .map_err(|_| PhotoError::Unreadable)?;
        self.store.put(Object::Thumbnail(sha), &thumb)?;
        Ok(thumb)
    }

    fn partial_path(&self, sha: &Sha256, uploader: &str) -> PathBuf {
        self.root.join("partial").join(uploader).join(sha.as_str())
    }

    /// Copies every whole photo `into` another store that lacks it, checking each one's hash on
    /// the way; returns how many were copied.
    pub fn copy_into(&self, into: &Attachments) -> Result<u64, PhotoError> {
        let mut copied = 0;
        for sha in self.store.photos()? {
            if into.is_complete(&sha).is_some() {
                continue;
            }
            let bytes = self.read(&sha)?;
            if Sha256::of(&bytes) != sha {
                let damaged = format!("photo {sha} does not hash to its name");
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, damaged).into());
            }
            into.store.put(Object::Photo(&sha), &bytes)?;
            copied += 1;
        }
        Ok(copied)
    }

    /// Whether all of the attachment is here.
    pub fn is_complete(&self, sha: &Sha256) -> Option<u64> {
        self.store.size(Object::Photo(sha)).ok().flatten()
    }

    /// Where `uploader`'s upload of the attachment stands, `holds` telling whether the uploader
    /// sent all of it before (a device learns of no one else's photos).
    pub fn presence(&self, sha: &Sha256, uploader: &str, holds: bool) -> Presence {
        if holds && let Some(size) = self.is_complete(sha) {
            return Presence::Complete { size };
        }
        match fs::metadata(self.partial_path(sha, uploader)) {
            Ok(meta) => Presence::Partial { held: meta.len() },
            Err(_) => Presence::Absent,
        }
    }

    /// Appends `bytes` at `offset` of `uploader`'s upload (which must be what the server holds of
    /// it already). Returns the presence afterwards: complete once `total` bytes are held and
    /// their hash matches, when the caller records the uploader as a holder.
    pub fn put(
        &self,
        sha: &Sha256,
        uploader: &str,
        offset: u64,
        total: u64,
        bytes: &[u8],
    ) -> Result<Presence, AttachmentError> {
        if total > MAX_ATTACHMENT_BYTES {
            return Err(AttachmentError::TooLarge);
        }
        let partial = self.partial_path(sha, uploader);
        let mut file = claim(&partial)?;
        let held = file.metadata()?.len();
        let refused = if offset != held {
            Some(AttachmentError::WrongOffset {
                held,
                offered: offset,
            })
        } else if held + bytes.len() as u64 > total {
            Some(AttachmentError::TooLarge)
        } else if self.partial_bytes()? + bytes.len() as u64 > MAX_PARTIAL_BYTES {
            Some(AttachmentError::NoRoom)
        } else {
            None
        };
        if let Some(refused) = refused {
            if held == 0 {
                // Claiming made the file: a refused upload leaves none (HEAD answers absent).
                fs::remove_file(&partial)?;
            }
            return Err(refused);
        }
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
        if self.is_complete(sha).is_some() {
            // Another device sent the same bytes first.
            fs::remove_file(&partial)?;
            return Ok(Presence::Complete { size: held });
        }
        self.store.put_moving(Object::Photo(sha), &partial)?;
        Ok(Presence::Complete { size: held })
    }

    /// The bytes unfinished uploads take, once those older than [`PARTIAL_KEPT`] are deleted.
    fn partial_bytes(&self) -> std::io::Result<u64> {
        let mut total = 0;
        let Ok(uploaders) = fs::read_dir(self.root.join("partial")) else {
            return Ok(0);
        };
        for uploader in uploaders.flatten() {
            for upload in fs::read_dir(uploader.path())?.flatten() {
                let meta = upload.metadata()?;
                let stale = meta
                    .modified()
                    .ok()
                    .and_then(|m| m.elapsed().ok())
                    .is_some_and(|age| age > PARTIAL_KEPT);
                if stale {
                    let _ = fs::remove_file(upload.path());
                } else {
                    total += meta.len();
                }
            }
        }
        Ok(total)
    }
}

/// Opens `path`'s partial upload for appending, holding its file's lock until the file is
/// dropped: a second request for the same upload, in this process or another sharing the
/// directory, is refused (409, as for an offset another request moved), never writing beside
/// the first. The file is made when there is none.
fn claim(path: &Path) -> Result<File, AttachmentError> {
    fs::create_dir_all(path.parent().unwrap_or(path))?;
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Err(AttachmentError::Busy),
        Err(TryLockError::Error(e)) => return Err(e.into()),
    }
    // Between the open and the lock, the request holding it may have finished the upload (the
    // file took its name) or dropped it: then this is not the upload's file any more.
    let locked = file.metadata()?.ino();
    if fs::metadata(path).map(|m| m.ino()).ok() != Some(locked) {
        return Err(AttachmentError::Busy);
    }
    Ok(file)
}

/// An upload refused, with its code.
impl From<AttachmentError> for crate::error::ApiError {
    fn from(e: AttachmentError) -> Self {
        use crate::error::{self, ApiError};
        use axum::http::StatusCode;
        use verivali_core::protocol::UPLOAD_OFFSET;
        match e {
            AttachmentError::WrongOffset { held, .. } => {
                let mut e = ApiError::new(StatusCode::CONFLICT, error::WRONG_OFFSET);
                e.body.field = Some(format!("{UPLOAD_OFFSET}={held}"));
                e
            }
            // The client asks where the upload stands and continues, as after a moved offset.
            AttachmentError::Busy => ApiError::new(StatusCode::CONFLICT, error::WRONG_OFFSET),
            AttachmentError::HashMismatch => ApiError::bad_request(error::HASH_MISMATCH),
            AttachmentError::TooLarge => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, error::TOO_LARGE)
            }
            AttachmentError::NoRoom => {
                ApiError::new(StatusCode::INSUFFICIENT_STORAGE, error::UPLOADS_FULL)
            }
            AttachmentError::Io(e) if crate::db::disk_full_io(&e) => ApiError::disk_full(e),
            AttachmentError::Io(e) => ApiError::internal(e),
        }
    }
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
        assert_eq!(store.presence(&sha, "hp", false), Presence::Absent);
        assert_eq!(
            store.put(&sha, "hp", 0, 100_000, &photo[..40_000]).unwrap(),
            Presence::Partial { held: 40_000 }
        );
        assert_eq!(
            store.presence(&sha, "other", false),
            Presence::Absent,
            "another device's upload is its own"
        );
        assert!(matches!(
            store.put(&sha, "hp", 0, 100_000, &photo[..10]),
            Err(AttachmentError::WrongOffset { held: 40_000, .. })
        ));
        assert_eq!(
            store
                .put(&sha, "hp", 40_000, 100_000, &photo[40_000..])
                .unwrap(),
            Presence::Complete { size: 100_000 }
        );
        assert_eq!(
            store.presence(&sha, "hp", true),
            Presence::Complete { size: 100_000 }
        );
        assert_eq!(store.presence(&sha, "other", false), Presence::Absent);

        let other = Sha256::of(b"something else");
        assert!(matches!(
            store.put(&other, "hp", 0, 5, b"hello"),
            Err(AttachmentError::HashMismatch)
        ));
        assert_eq!(
            store.presence(&other, "hp", true),
            Presence::Absent,
            "nothing of a mismatched upload is kept"
        );
    }

    #[test]
    fn a_second_writer_of_one_upload_is_refused_and_a_refusal_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Attachments::new(dir.path());
        let bytes = b"a photo's bytes".to_vec();
        let sha = Sha256::parse(&format!("{:x}", Sha::digest(&bytes))).unwrap();
        // The lock is the file's (flock): another process opening the upload meets it the same.
        let held = claim(&store.partial_path(&sha, "phone-1")).unwrap();
        assert!(matches!(
            store.put(&sha, "phone-1", 0, 15, &bytes[..5]),
            Err(AttachmentError::Busy)
        ));
        assert!(
            store.put(&sha, "phone-2", 0, 15, &bytes[..5]).is_ok(),
            "another phone's upload"
        );
        drop(held);
        assert!(matches!(
            store.put(&sha, "phone-3", 4, 15, &bytes[4..]),
            Err(AttachmentError::WrongOffset { held: 0, .. })
        ));
        assert_eq!(store.presence(&sha, "phone-3", false), Presence::Absent);
        assert_eq!(
            store.put(&sha, "phone-1", 0, 15, &bytes).unwrap(),
            Presence::Complete { size: 15 }
        );
    }

    #[test]
    fn an_upload_left_unfinished_for_a_week_is_forgotten() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = Attachments::new(dir.path());
        let photo = vec![7u8; 1000];
        let sha = Sha256::of(&photo);
        store.put(&sha, "hp", 0, 1000, &photo[..400]).unwrap();
        let old = std::time::SystemTime::now() - PARTIAL_KEPT - std::time::Duration::from_secs(60);
        File::options()
            .write(true)
            .open(store.partial_path(&sha, "hp"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert_eq!(store.partial_bytes().unwrap(), 0);
        assert_eq!(store.presence(&sha, "hp", false), Presence::Absent);
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
        store.put(&sha, "hp", 0, jpeg.len() as u64, &jpeg).unwrap();
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
        store.put(&sha, "hp", 0, text.len() as u64, &text).unwrap();
        assert!(matches!(store.thumbnail(&sha), Err(PhotoError::Unreadable)));
    }
}
