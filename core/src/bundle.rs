//! Bundles (DESIGN §7): a phone's unsent visits and photos in one file, for when there is no
//! signal for days or a phone is broken. The file travels by USB, Bluetooth or a chat app; the
//! server imports it through the same ingest as a push, so a bundle imported twice, or imported
//! and later pushed, still stores each visit once.
//!
//! The file is one gzip stream of:
//!
//! ```text
//! verivali-bundle/1
//! {"device_id":…,"enumerator_id":…,"created_at":…,"visits":[{"device_seq":…,"content_hash":…,"visit":{…}},…]}
//! photo <sha256> <length>
//! <length bytes>
//! … one `photo` line and its bytes per photo …
//! seal <HMAC-SHA256 of every byte above, hex>
//! ```
//!
//! Every visit carries its content hash and every photo its sha256, so a damaged file is caught
//! item by item; the seal covers the whole, keyed by the hash of the device's token, which the
//! phone can compute and the server keeps (and no one else has), so a file edited by hand, hashes
//! and all, is rejected whole too. Nothing of a rejected bundle is stored.

use std::io::{BufRead, Read};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::canonical::visit_content_hash;
use crate::model::{DeviceId, EnumeratorId, Sha256, Timestamp, Visit};
use crate::protocol::PushItem;

const FORMAT_LINE: &str = "verivali-bundle/1";
/// What an importer unpacks at most: a week of a busy enumerator's photos fits many times over,
/// and a file that inflates beyond it is not a bundle.
pub const MAX_UNPACKED_BYTES: u64 = 1 << 30;

type Seal = Hmac<sha2::Sha256>;

/// The key a device seals its bundles with: the sha256 of its token, in hex. The server stores
/// exactly this for each device, never the token.
pub fn seal_key(token: &str) -> String {
    format!("{:x}", sha2::Sha256::digest(token.as_bytes()))
}

/// Why a bundle cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("not a Verivali bundle, or a damaged one: {0}")]
    Unreadable(String),
    #[error("the bundle was altered: {0}")]
    Altered(String),
    #[error("the bundle's device is not known here")]
    UnknownDevice,
    #[error("this phone is not enrolled yet")]
    NotEnrolled,
    #[error("writing the bundle: {0}")]
    Write(String),
}

impl From<std::io::Error> for BundleError {
    fn from(e: std::io::Error) -> Self {
        Self::Write(e.to_string())
    }
}

#[cfg(feature = "store")]
impl From<crate::store::Error> for BundleError {
    fn from(e: crate::store::Error) -> Self {
        Self::Write(e.to_string())
    }
}

impl BundleError {
    /// A stable code and the message in Bahasa Indonesia and English, for a screen or an answer.
    pub fn describe(&self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Unreadable(_) => (
                "BDL-01",
                "Berkas ini bukan bundel Verivali atau sudah rusak. Minta petugas membuat ulang.",
                "This file is not a Verivali bundle, or it is damaged. Ask the enumerator to make it again.",
            ),
            Self::Altered(_) => (
                "BDL-02",
                "Bundel ini telah diubah setelah dibuat; tidak ada isinya yang disimpan.",
                "This bundle was changed after it was made; nothing in it was stored.",
            ),
            Self::UnknownDevice => (
                "BDL-03",
                "Perangkat pembuat bundel ini tidak terdaftar di server ini.",
                "The device that made this bundle is not enrolled on this server.",
            ),
            Self::NotEnrolled => (
                "BDL-04",
                "HP ini belum terdaftar, jadi belum dapat membuat bundel.",
                "This phone is not enrolled yet, so it cannot make a bundle.",
            ),
            Self::Write(_) => (
                "BDL-05",
                "Bundel tidak dapat ditulis. Periksa ruang penyimpanan HP.",
                "The bundle could not be written. Check the phone's free storage.",
            ),
        }
    }
}

/// A finished visit in a bundle, with the content hash the phone computed when it finished it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundledVisit {
    pub device_seq: u64,
    pub content_hash: Sha256,
    pub visit: Visit,
}

impl BundledVisit {
    pub fn into_push_item(self) -> PushItem {
        PushItem {
            device_seq: self.device_seq,
            visit: self.visit,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    device_id: DeviceId,
    enumerator_id: EnumeratorId,
    created_at: Timestamp,
    visits: Vec<BundledVisit>,
}

/// A bundle read and checked: every byte under the seal, every hash matching.
#[derive(Debug)]
pub struct Bundle {
    pub device_id: DeviceId,
    pub enumerator_id: EnumeratorId,
    pub created_at: Timestamp,
    pub visits: Vec<BundledVisit>,
    pub photos: Vec<(Sha256, Vec<u8>)>,
}

/// A bundle whose heading and manifest are read, the rest still packed: the importer looks up
/// its device's key, and checks who may import it, before anything more is inflated.
pub struct Unchecked<'a> {
    manifest: Manifest,
    /// The heading and the manifest line as read: the start of what the seal covers.
    head: Vec<u8>,
    /// The photos and the seal line, still packed, to be read to at most the file's limit.
    rest: std::io::Take<std::io::BufReader<flate2::read::GzDecoder<&'a [u8]>>>,
}

impl std::fmt::Debug for Unchecked<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unchecked")
            .field("device_id", &self.manifest.device_id)
            .finish_non_exhaustive()
    }
}

/// How many bytes a packed file of `packed` bytes may inflate to: photos hardly pack and visits
/// pack some tenfold, so more than 16 times the file (and at least 64 MiB) is a gzip bomb, not
/// a bundle.
pub fn unpacked_limit(packed: usize) -> u64 {
    (packed as u64)
        .saturating_mul(16)
        .clamp(64 << 20, MAX_UNPACKED_BYTES)
}

impl<'a> Unchecked<'a> {
    /// Reads a bundle file's heading and manifest, inflating no more of it.
    pub fn read(file: &'a [u8]) -> Result<Self, BundleError> {
        let unreadable = |what: &str| BundleError::Unreadable(what.to_owned());
        let limit = unpacked_limit(file.len());
        let mut unpacked =
            std::io::BufReader::new(flate2::read::GzDecoder::new(file)).take(limit + 1);
        let mut head = Vec::new();
        unpacked
            .read_until(b'\n', &mut head)
            .map_err(|e| BundleError::Unreadable(e.to_string()))?;
        if head != format!("{FORMAT_LINE}\n").as_bytes() {
            return Err(unreadable("no bundle heading"));
        }
        unpacked
            .read_until(b'\n', &mut head)
            .map_err(|e| BundleError::Unreadable(e.to_string()))?;
        let manifest_line = head[FORMAT_LINE.len() + 1..]
            .strip_suffix(b"\n")
            .ok_or_else(|| unreadable("no manifest: cut short or larger than a bundle can be"))?;
        let manifest: Manifest = serde_json::from_slice(manifest_line)
            .map_err(|e| BundleError::Unreadable(e.to_string()))?;
        Ok(Self {
            manifest,
            head,
            rest: unpacked,
        })
    }

    /// The device the bundle says it comes from, whose key checks it.
    pub fn device_id(&self) -> DeviceId {
        self.manifest.device_id
    }

    /// Checks the seal with the device's key ([`seal_key`]) and every item's hash.
    pub fn check(mut self, key: &str) -> Result<Bundle, BundleError> {
        let unreadable = |what: &str| BundleError::Unreadable(what.to_owned());
        let altered = |what: String| BundleError::Altered(what);
        let mut body = Vec::new();
        self.rest
            .read_to_end(&mut body)
            .map_err(|e| BundleError::Unreadable(e.to_string()))?;
        if self.rest.limit() == 0 {
            return Err(unreadable("larger than a bundle can be"));
        }
        // The seal is the last line.
        let without_newline = body
            .strip_suffix(b"\n")
            .ok_or_else(|| unreadable("cut short"))?;
        let start = without_newline
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let seal = without_newline[start..]
            .strip_prefix(b"seal ")
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(from_hex)
            .ok_or_else(|| unreadable("no seal: cut short"))?;
        body.truncate(start);
        let mut mac = Seal::new_from_slice(key.as_bytes())
            .map_err(|e| BundleError::Unreadable(e.to_string()))?;
        mac.update(&self.head);
        mac.update(&body);
        mac.verify_slice(&seal)
            .map_err(|_| altered("the seal does not match".into()))?;

        let manifest = self.manifest;
        for v in &manifest.visits {
            let hash =
                visit_content_hash(&v.visit).map_err(|e| BundleError::Unreadable(e.to_string()))?;
            if hash != v.content_hash {
                return Err(altered(format!("visit {}", v.visit.visit_id)));
            }
            if v.visit.device_id != manifest.device_id {
                return Err(altered(format!(
                    "visit {} of another device",
                    v.visit.visit_id
                )));
            }
        }
        let mut rest = body.as_slice();
        let mut photos = Vec::new();
        while !rest.is_empty() {
            let mut line = String::new();
            rest.read_line(&mut line)
                .map_err(|e| BundleError::Unreadable(e.to_string()))?;
            let mut words = line.trim_end().split(' ');
            let (Some("photo"), Some(sha), Some(length), None) =
                (words.next(), words.next(), words.next(), words.next())
            else {
                return Err(BundleError::Unreadable(format!("unexpected line {line:?}")));
            };
            let sha = Sha256::parse(sha).map_err(|e| BundleError::Unreadable(e.to_string()))?;
            let length: usize = length
                .parse()
                .map_err(|_| BundleError::Unreadable("a photo length".into()))?;
            let bytes = rest
                .get(..length)
                .ok_or_else(|| BundleError::Unreadable("a photo cut short".into()))?
                .to_vec();
            rest = &rest[length..];
            rest = rest.strip_prefix(b"\n").unwrap_or(rest);
            if Sha256::of(&bytes) != sha {
                return Err(altered(format!("photo {sha}")));
            }
            photos.push((sha, bytes));
        }
        Ok(Bundle {
            device_id: manifest.device_id,
            enumerator_id: manifest.enumerator_id,
            created_at: manifest.created_at,
            visits: manifest.visits,
            photos,
        })
    }
}

/// What a bundle written by a phone holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub visits: u64,
    pub photos: u64,
    pub bytes: u64,
}

/// Writes the phone's unsent visits and photos (the ones a sync would send) to `path`, sealed
/// with its token. The file appears whole or not at all; the outbox is left as it is, since the
/// phone cannot know whether the file arrives (a later push is answered DUPLICATE).
#[cfg(feature = "store")]
pub fn export(
    store: &crate::store::Store,
    path: &std::path::Path,
    now: Timestamp,
) -> Result<Written, BundleError> {
    use std::io::Write;

    let enrollment = store.enrollment()?.ok_or(BundleError::NotEnrolled)?;
    let visits: Vec<BundledVisit> = store
        .pending_outbox(u32::MAX)?
        .into_iter()
        .map(|o| BundledVisit {
            device_seq: o.device_seq,
            content_hash: o.content_hash,
            visit: o.visit,
        })
        .collect();
    let photos = store.unsent_attachments()?;
    let manifest = Manifest {
        device_id: enrollment.device_id,
        enumerator_id: enrollment.enumerator_id,
        created_at: now,
        visits,
    };

    let partial = path.with_extension("partial");
    let file = std::fs::File::create(&partial)?;
    let gzip = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), Default::default());
    let mut out = Sealing {
        inner: gzip,
        mac: Seal::new_from_slice(seal_key(&enrollment.token).as_bytes())
            .map_err(|e| BundleError::Unreadable(e.to_string()))?,
    };
    writeln!(out, "{FORMAT_LINE}")?;
    serde_json::to_writer(&mut out, &manifest).map_err(std::io::Error::from)?;
    writeln!(out)?;
    for sha in &photos {
        // One photo in memory at a time: a week of photos need not fit in a cheap phone's RAM.
        let bytes = store
            .attachment(sha)?
            .ok_or(crate::store::Error::NotFound { what: "photo" })?;
        writeln!(out, "photo {sha} {}", bytes.len())?;
        out.write_all(&bytes)?;
        writeln!(out)?;
    }
    let seal = out.mac.finalize().into_bytes();
    let mut gzip = out.inner;
    writeln!(gzip, "seal {}", crate::model::hex(&seal))?;
    let file = gzip.finish()?.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    let bytes = file.metadata()?.len();
    std::fs::rename(&partial, path)?;
    Ok(Written {
        visits: manifest.visits.len() as u64,
        photos: photos.len() as u64,
        bytes,
    })
}

/// A writer that feeds every byte it passes on to the seal.
#[cfg(feature = "store")]
struct Sealing<W> {
    inner: W,
    mac: Seal,
}

#[cfg(feature = "store")]
impl<W: std::io::Write> std::io::Write for Sealing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.mac.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn from_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(all(test, feature = "store"))]
mod tests {
    use std::io::Write;

    use tempfile::TempDir;
    use uuid::Uuid;

    use super::*;
    use crate::merge::merge;
    use crate::model::{Photo, PhotoKind};
    use crate::protocol::Area;
    use crate::sample;
    use crate::store::{Enrollment, Store};

    const TOKEN: &str = "token-rahasia";

    /// An enrolled phone with three finished visits, one with a photo, written to a bundle.
    fn written() -> (TempDir, Store, Vec<u8>, Written) {
        let dir = TempDir::new().unwrap();
        let store = Store::open(dir.path().join("phone.db"), &sample::store_key()).unwrap();
        store
            .save_enrollment(&Enrollment {
                server_url: "http://127.0.0.1:1".into(),
                device_id: DeviceId(Uuid::from_u128(1)),
                enumerator_id: EnumeratorId(Uuid::from_u128(2)),
                enumerator_name: "Siti".into(),
                token: TOKEN.into(),
                areas: vec![Area {
                    region: sample::village(),
                    rw: None,
                    rt: None,
                }],
            })
            .unwrap();
        let now = Timestamp::now_utc();
        for i in 0..3 {
            let household = sample::household(i, &sample::village(), 1, 1);
            store
                .save_households(&[merge(&household, &[], &[]).unwrap()], None)
                .unwrap();
            let draft = store
                .start_visit(
                    Some(household.household_id),
                    Timestamp(now.0 - time::Duration::minutes(20)),
                )
                .unwrap();
            let mut visit = sample::fill_draft(&draft, &household, now, i);
            if i == 0 {
                visit.photos.push(Photo {
                    sha256: store.put_attachment(&[9u8; 5000]).unwrap(),
                    kind: PhotoKind::HouseFront,
                });
            }
            store.save_draft(&visit).unwrap();
            store.finish_visit(visit.visit_id, now, None).unwrap();
        }
        let path = dir.path().join("hp-siti.bundle");
        let written = export(&store, &path, now).unwrap();
        let file = std::fs::read(&path).unwrap();
        (dir, store, file, written)
    }

    fn repacked(unpacked: &[u8]) -> Vec<u8> {
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), Default::default());
        gzip.write_all(unpacked).unwrap();
        gzip.finish().unwrap()
    }

    /// Sealed again with the right key, as only the device (or the server) could.
    fn resealed(text: &str) -> Vec<u8> {
        let body = &text[..text.rfind("seal ").unwrap()];
        let mut mac = Seal::new_from_slice(seal_key(TOKEN).as_bytes()).unwrap();
        mac.update(body.as_bytes());
        let seal = crate::model::hex(&mac.finalize().into_bytes());
        repacked(format!("{body}seal {seal}\n").as_bytes())
    }

    fn unpacked(file: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(file)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn a_bundle_carries_the_outbox_and_its_photos_under_the_seal() {
        let (_dir, store, file, written) = written();
        assert_eq!((written.visits, written.photos), (3, 1));
        assert_eq!(written.bytes, file.len() as u64);
        let unchecked = Unchecked::read(&file).unwrap();
        assert_eq!(unchecked.device_id(), DeviceId(Uuid::from_u128(1)));
        let bundle = unchecked.check(&seal_key(TOKEN)).unwrap();
        let outbox = store.pending_outbox(10).unwrap();
        assert_eq!(bundle.visits.len(), 3);
        for (bundled, queued) in bundle.visits.iter().zip(&outbox) {
            assert_eq!(bundled.visit, queued.visit);
            assert_eq!(bundled.device_seq, queued.device_seq);
        }
        assert_eq!(
            bundle.photos,
            vec![(Sha256::of(&[9u8; 5000]), vec![9u8; 5000])]
        );
        // Writing a bundle sends nothing: the outbox still waits for the server's answers.
        assert_eq!(store.pending_count().unwrap(), 3);
    }

    #[test]
    fn an_altered_bundle_is_rejected_whole() {
        let (_dir, _store, file, _) = written();
        let key = seal_key(TOKEN);
        let text = unpacked(&file);

        // Another device's key: the seal does not match.
        let wrong = Unchecked::read(&file).unwrap().check(&seal_key("other"));
        assert!(matches!(wrong, Err(BundleError::Altered(_))), "{wrong:?}");

        // One answer changed by hand, in the visit and in the photo bytes.
        let edited = String::from_utf8_lossy(&text).replacen("\"FOUND\"", "\"NOBODY_HOME\"", 1);
        let unsealed = Unchecked::read(&repacked(edited.as_bytes()))
            .unwrap()
            .check(&key);
        assert!(
            matches!(unsealed, Err(BundleError::Altered(_))),
            "{unsealed:?}"
        );
        // Even sealed again with the right key, the visit no longer matches its content hash.
        let resealed_edit = Unchecked::read(&resealed(&edited)).unwrap().check(&key);
        let Err(BundleError::Altered(what)) = resealed_edit else {
            panic!("{resealed_edit:?}")
        };
        assert!(what.starts_with("visit "), "{what}");
        let untouched = resealed(&String::from_utf8_lossy(&text));
        assert!(Unchecked::read(&untouched).unwrap().check(&key).is_ok());
        let mut photo = text.clone();
        let at = photo.windows(3).position(|w| w == [9, 9, 9]).unwrap();
        photo[at] = 8;
        let photo = Unchecked::read(&repacked(&photo)).unwrap().check(&key);
        assert!(matches!(photo, Err(BundleError::Altered(_))), "{photo:?}");

        // Cut short on the way, or not a bundle at all.
        let cut = repacked(&text[..text.len() - 20]);
        for broken in [
            &file[..file.len() / 2],
            b"PK\x03\x04 a zip".as_slice(),
            &cut,
        ] {
            let read = Unchecked::read(broken).and_then(|u| u.check(&key));
            assert!(matches!(read, Err(BundleError::Unreadable(_))), "{read:?}");
        }
        let (code, id, en) = BundleError::Altered(String::new()).describe();
        assert_eq!(code, "BDL-02");
        assert!(!id.is_empty() && !en.is_empty());
    }

    /// A small file that inflates far beyond what a bundle of its size holds is refused once
    /// it passes the limit, without inflating the rest.
    #[test]
    fn a_gzip_bomb_is_refused_at_its_limit() {
        let (_dir, _store, file, _) = written();
        let text = unpacked(&file);
        let seal_at = text.windows(5).rposition(|w| w == b"seal ").unwrap();
        let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        bomb.write_all(&text[..seal_at]).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..100 {
            bomb.write_all(&zeros).unwrap();
        }
        let bomb = bomb.finish().unwrap();
        assert!(bomb.len() < 1 << 20, "{} bytes packed", bomb.len());
        let read = Unchecked::read(&bomb).and_then(|u| u.check(&seal_key(TOKEN)));
        let Err(BundleError::Unreadable(why)) = read else {
            panic!("{read:?}")
        };
        assert!(why.contains("larger than a bundle"), "{why}");
    }

    #[test]
    fn a_phone_not_enrolled_cannot_write_a_bundle() {
        let dir = TempDir::new().unwrap();
        let store = Store::open(dir.path().join("phone.db"), &sample::store_key()).unwrap();
        let path = dir.path().join("b.bundle");
        let result = export(&store, &path, Timestamp::now_utc());
        assert!(matches!(result, Err(BundleError::NotEnrolled)));
        assert!(!path.exists());
    }
}
