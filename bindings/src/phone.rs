//! The phone: one object over the store and the sync client. Blocking calls (on Android, call
//! them from `Dispatchers.IO`); every failure is one `PhoneException` with a stable code and
//! messages in Indonesian and English.

use std::path::Path;
use std::sync::Arc;

use verivali_core::bundle::{self, BundleError};
use verivali_core::model::*;
use verivali_core::protocol::EnrollmentPayload;
use verivali_core::store::{self, Store};
use verivali_core::sync::{self, SyncConfig, SyncError};

use crate::records::*;

#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum PhoneError {
    /// The network or the server failed; nothing is lost, sync again later.
    #[error("{code}: {message_en}")]
    Sync {
        code: String,
        message_id: String,
        message_en: String,
    },
    /// An answer, id or code the user gave cannot be used.
    #[error("{code}: {message_en}")]
    Input {
        code: String,
        message_id: String,
        message_en: String,
    },
    /// The phone's own storage failed.
    #[error("{code}: {message_en}")]
    Storage {
        code: String,
        message_id: String,
        message_en: String,
    },
}

/// An answer as the form gives it, in JSON.
fn json_answer(path: &str, json: &str) -> Result<serde_json::Value> {
    serde_json::from_str(json).map_err(|e| {
        input(
            "PHONE-ANSWER",
            &format!("Jawaban untuk {path} bukan JSON: {e}"),
            &format!("The answer to {path} is not JSON: {e}"),
        )
    })
}

fn input(code: &str, id: &str, en: &str) -> PhoneError {
    PhoneError::Input {
        code: code.into(),
        message_id: id.into(),
        message_en: en.into(),
    }
}

impl From<SyncError> for PhoneError {
    fn from(e: SyncError) -> Self {
        let (code, message_id, message_en) = e.describe();
        match e {
            SyncError::Store(inner) => inner.into(),
            _ => PhoneError::Sync {
                code,
                message_id,
                message_en,
            },
        }
    }
}

impl From<store::Error> for PhoneError {
    fn from(e: store::Error) -> Self {
        match e {
            store::Error::NotFound { what } => input(
                "PHONE-NOT-FOUND",
                &format!("Tidak ditemukan: {what}"),
                &format!("Not found: {what}"),
            ),
            store::Error::Frozen => input(
                "PHONE-FROZEN",
                "Kunjungan ini sudah selesai dan tidak dapat diubah; buat koreksi.",
                "This visit is finished and cannot change; start a correction.",
            ),
            store::Error::BadAnswer { path, reason } => input(
                "PHONE-ANSWER",
                &format!("Jawaban untuk {path} tidak dapat disimpan: isiannya tidak sesuai."),
                &format!("The answer to {path} cannot be stored: {reason}"),
            ),
            store::Error::Photo(_) => input(
                "PHONE-PHOTO",
                "Foto tidak dapat dibaca; ambil ulang fotonya.",
                "The photo cannot be read; take it again.",
            ),
            store::Error::BadKey { length } => input(
                "PHONE-KEY",
                &format!("Kunci penyimpanan harus 32 bita, bukan {length}."),
                &format!("The store's key must be 32 bytes, not {length}."),
            ),
            store::Error::WrongKey => PhoneError::Storage {
                code: "PHONE-KEY".into(),
                message_id: "Kunci ini tidak membuka penyimpanan HP; datanya tidak diubah.".into(),
                message_en:
                    "This key does not open the phone's store; its data was left untouched.".into(),
            },
            store::Error::NotEnrolled => input(
                "SYNC-ENROLL",
                "HP ini belum terdaftar. Masukkan kode pendaftaran.",
                "This phone is not enrolled yet. Enter an enrollment code.",
            ),
            other => PhoneError::Storage {
                code: "PHONE-STORE".into(),
                message_id: format!("Penyimpanan HP bermasalah: {other}"),
                message_en: format!("The phone's storage has a problem: {other}"),
            },
        }
    }
}

impl From<BundleError> for PhoneError {
    fn from(e: BundleError) -> Self {
        let (code, id, en) = e.describe();
        match e {
            BundleError::Write(_) => PhoneError::Storage {
                code: code.into(),
                message_id: id.into(),
                message_en: en.into(),
            },
            _ => input(code, id, en),
        }
    }
}

type Result<T> = std::result::Result<T, PhoneError>;

fn visit_id(text: &str) -> Result<VisitId> {
    VisitId::parse(text).map_err(|_| input("PHONE-ID", "Kode kunjungan salah.", "Bad visit id."))
}

fn household_id(text: &str) -> Result<HouseholdId> {
    HouseholdId::parse(text)
        .map_err(|_| input("PHONE-ID", "Kode keluarga salah.", "Bad household id."))
}

/// How the phone reaches its server.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PhoneConfig {
    /// The store's file, in the app's private storage.
    pub store_path: String,
    /// The 32 bytes that unlock the store (docs/phone-encryption.md): made once by
    /// [`new_store_key`], kept wrapped by the Android Keystore, never beside the store's file.
    pub store_key: Vec<u8>,
    /// A district server with its own certificate authority: the CA in PEM.
    pub ca_certificate_pem: Option<String>,
    /// The app's version, reported to the server at each sync with the work the phone holds
    /// unsent (the admin's list of phones shows both).
    #[uniffi(default = None)]
    pub app_version: Option<String>,
}

/// A new random key for a phone's store, made once at the app's first start.
#[uniffi::export]
pub fn new_store_key() -> Result<Vec<u8>> {
    Ok(store::StoreKey::generate()?.as_bytes().to_vec())
}

/// Told how a sync goes.
#[uniffi::export(callback_interface)]
pub trait SyncProgress: Send + Sync {
    fn on_progress(&self, phase: SyncPhase, done: u64, total: u64);
}

struct Forward(Box<dyn SyncProgress>);

impl sync::Progress for Forward {
    fn update(&self, phase: sync::Phase, done: u64, total: u64) {
        self.0.on_progress(phase.into(), done, total);
    }
}

#[derive(uniffi::Object)]
pub struct Phone {
    store: Store,
    ca_certificate_pem: Option<String>,
    app_version: Option<String>,
}

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Phone")
            .field("store", &self.store.path())
            .finish()
    }
}

impl Phone {
    fn config(&self, server_url: String) -> SyncConfig {
        let defaults = SyncConfig::new(server_url);
        SyncConfig {
            ca_certificate_pem: self.ca_certificate_pem.clone(),
            app_version: self
                .app_version
                .clone()
                .unwrap_or_else(|| defaults.app_version.clone()),
            ..defaults
        }
    }
}

#[uniffi::export]
impl Phone {
    /// Opens (or creates) the phone's store.
    #[uniffi::constructor]
    pub fn open(config: PhoneConfig) -> Result<Arc<Self>> {
        let key = store::StoreKey::from_bytes(&config.store_key)?;
        Ok(Arc::new(Self {
            store: Store::open(&config.store_path, &key)?,
            ca_certificate_pem: config.ca_certificate_pem,
            app_version: config.app_version,
        }))
    }

    /// Enrolls with a one-time code from the district's admin.
    pub fn enroll(
        &self,
        server_url: String,
        code: String,
        device_name: String,
    ) -> Result<EnrollmentInfo> {
        let enrollment = sync::enroll(&self.config(server_url), &self.store, &code, &device_name)?;
        Ok(enrollment.into())
    }

    /// Enrolls with the QR code the admin's page shows, as the camera read it: it carries the
    /// server's address and the code (`verivali:enroll?server=…&code=…`).
    pub fn enroll_scanned(&self, payload: String, device_name: String) -> Result<EnrollmentInfo> {
        let scanned = EnrollmentPayload::parse(&payload).ok_or_else(|| {
            input(
                "PHONE-QR",
                "Kode QR ini bukan kode pendaftaran Verivali; ketik kodenya.",
                "This QR code is not a Verivali enrollment code; type the code instead.",
            )
        })?;
        self.enroll(scanned.server, scanned.code, device_name)
    }

    pub fn enrollment(&self) -> Result<Option<EnrollmentInfo>> {
        Ok(self.store.enrollment()?.map(Into::into))
    }

    /// Pushes the outbox, sends photos, pulls changes. Safe to cut and call again.
    pub fn sync(&self, progress: Box<dyn SyncProgress>) -> Result<SyncReport> {
        let enrollment = self.store.enrollment()?.ok_or(SyncError::NotEnrolled)?;
        let summary = sync::sync(
            &self.config(enrollment.server_url),
            &self.store,
            &Forward(progress),
        )?;
        Ok(summary.into())
    }

    /// The households of one RT, by head's name.
    pub fn households_in_rt(
        &self,
        region: String,
        rw: String,
        rt: String,
    ) -> Result<Vec<HouseholdRow>> {
        let bad = |what: &str| {
            input(
                "PHONE-PLACE",
                &format!("{what} salah."),
                &format!("Bad {what}."),
            )
        };
        let region = RegionCode::parse(&region).map_err(|_| bad("kode wilayah"))?;
        let rw = Rw::parse(&rw).map_err(|_| bad("RW"))?;
        let rt = Rt::parse(&rt).map_err(|_| bad("RT"))?;
        Ok(self
            .store
            .households_in_rt(&region, &rw, &rt)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Search by part of a name or a whole NIK.
    pub fn search_households(&self, query: String) -> Result<Vec<HouseholdRow>> {
        Ok(self
            .store
            .search_households(&query)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub fn household(&self, household_id: String) -> Result<Option<HouseholdDetail>> {
        Ok(self
            .store
            .household(self::household_id(&household_id)?)?
            .map(Into::into))
    }

    /// Starts a visit to a listed household, or with `None` to a household not on the list.
    /// Returns the new draft's id.
    pub fn start_visit(&self, household_id: Option<String>) -> Result<String> {
        let household = household_id
            .as_deref()
            .map(self::household_id)
            .transpose()?;
        let draft = self.store.start_visit(household, Timestamp::now_utc())?;
        Ok(draft.visit_id.to_string())
    }

    /// Sets an answer of a draft by its wire path (`outcome`, `housing.floor`, …) to a JSON
    /// value: `"FOUND"`, `24.5`, `true`, `["TELEVISION"]`, or `null` to clear it.
    pub fn set_answer(&self, visit_id: String, path: String, value_json: String) -> Result<()> {
        let value = json_answer(&path, &value_json)?;
        self.store
            .set_answer(self::visit_id(&visit_id)?, &path, value)?;
        Ok(())
    }

    /// Adds one item (JSON) to a list answer of a draft: a member change to `member_changes`
    /// (`{"op": "MARK_MOVED", "member_id": …}`), a photo to `photos`.
    pub fn add_to_answer(&self, visit_id: String, path: String, item_json: String) -> Result<()> {
        let item = json_answer(&path, &item_json)?;
        self.store
            .add_to_answer(self::visit_id(&visit_id)?, &path, item)?;
        Ok(())
    }

    /// Sets a text answer (also codes such as `FOUND`, and numbers as typed, such as a KK number).
    pub fn set_text(&self, visit_id: String, path: String, text: String) -> Result<()> {
        self.store.set_answer(
            self::visit_id(&visit_id)?,
            &path,
            serde_json::Value::String(text),
        )?;
        Ok(())
    }

    /// The enumerator's reason to go on despite a warning (`IssueInfo.key`), kept in the draft.
    pub fn set_warning_reason(
        &self,
        visit_id: String,
        issue_key: String,
        reason: String,
    ) -> Result<()> {
        self.store
            .set_warning_reason(self::visit_id(&visit_id)?, &issue_key, &reason)?;
        Ok(())
    }

    /// The household a visit is to (for a new family, the id its proposal made).
    pub fn visit_household(&self, visit_id: String) -> Result<Option<String>> {
        let visit = self
            .store
            .visit(self::visit_id(&visit_id)?)?
            .ok_or(store::Error::NotFound { what: "visit" })?;
        Ok(visit.household_id.map(|h| h.to_string()))
    }

    /// The visit (draft or finished) as wire JSON, for the form to show.
    pub fn visit_json(&self, visit_id: String) -> Result<String> {
        let visit = self
            .store
            .visit(self::visit_id(&visit_id)?)?
            .ok_or(store::Error::NotFound { what: "visit" })?;
        serde_json::to_string(&visit).map_err(|e| store::Error::Json(e).into())
    }

    /// Drafts, newest first, each with the server's reasons if it came back rejected.
    pub fn drafts(&self) -> Result<Vec<DraftRow>> {
        let mut rows = Vec::new();
        for d in self.store.drafts()? {
            rows.push(DraftRow {
                visit_id: d.visit_id.to_string(),
                household_id: d.household_id.map(|h| h.to_string()),
                outcome: d.outcome.map(|o| o.code().to_owned()),
                rejection: self
                    .store
                    .rejection_of(d.visit_id)?
                    .iter()
                    .map(IssueInfo::from)
                    .collect(),
            });
        }
        Ok(rows)
    }

    /// Finishes a draft. Blocking issues come back as data (`finished` false, nothing changed);
    /// warnings need a reason in `warning_reasons` first.
    pub fn finish_visit(&self, visit_id: String) -> Result<FinishResult> {
        match self
            .store
            .finish_visit(self::visit_id(&visit_id)?, Timestamp::now_utc(), None)
        {
            Ok(done) => Ok(FinishResult {
                finished: true,
                device_seq: Some(done.device_seq),
                issues: done.issues.iter().map(IssueInfo::from).collect(),
            }),
            Err(store::Error::Invalid { issues }) => Ok(FinishResult {
                finished: false,
                device_seq: None,
                issues: issues.iter().map(IssueInfo::from).collect(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Starts a correction of a finished visit; returns the new draft's id.
    pub fn start_correction(&self, visit_id: String) -> Result<String> {
        Ok(self
            .store
            .start_correction(self::visit_id(&visit_id)?)?
            .visit_id
            .to_string())
    }

    pub fn discard_draft(&self, visit_id: String) -> Result<()> {
        Ok(self.store.discard_draft(self::visit_id(&visit_id)?)?)
    }

    /// Stores a photo from the camera (JPEG), turned upright, shrunk to at most 1,600 px and
    /// without the camera's metadata (its GPS position among them); returns its sha256 for the
    /// visit's `photos`.
    pub fn put_photo(&self, camera_jpeg: Vec<u8>) -> Result<String> {
        Ok(self.store.put_photo(&camera_jpeg)?.to_string())
    }

    /// Finished visits waiting for the server.
    pub fn pending_count(&self) -> Result<u64> {
        Ok(self.store.pending_count()?)
    }

    /// Finished visits and what the server said of each, newest first.
    pub fn outbox(&self, limit: u32) -> Result<Vec<OutboxLine>> {
        Ok(self
            .store
            .outbox(limit)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Supervisors' returns, re-visit requests, approvals of this phone's visits and resolved
    /// conflicts, newest first.
    pub fn inbox(&self) -> Result<Vec<InboxLine>> {
        Ok(self.store.inbox()?.into_iter().map(Into::into).collect())
    }

    /// Households of this phone's work in conflict with another enumerator's visit, or changed
    /// by one since a draft of them was opened here (SYN-01); they stay while that holds.
    pub fn notices(&self) -> Result<Vec<NoticeLine>> {
        Ok(self.store.notices()?.into_iter().map(Into::into).collect())
    }

    /// Writes the unsent visits and photos to one sealed file at `path`, for when there is no
    /// signal: share it by USB, Bluetooth or a chat app for a supervisor to import. The outbox
    /// stays as it is; a later sync is answered "already received".
    pub fn export_bundle(&self, path: String) -> Result<BundleWritten> {
        let written = bundle::export(&self.store, Path::new(&path), Timestamp::now_utc())?;
        Ok(BundleWritten {
            path,
            visits: written.visits,
            photos: written.photos,
            bytes: written.bytes,
        })
    }

    pub fn mark_read(&self, review_id: String) -> Result<()> {
        let id = ReviewId::parse(&review_id)
            .map_err(|_| input("PHONE-ID", "Kode keputusan salah.", "Bad review id."))?;
        Ok(self.store.mark_read(id)?)
    }
}
