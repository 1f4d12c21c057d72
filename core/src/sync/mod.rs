//! Syncing the phone's store with the server (DESIGN §7): enroll once; then each sync pushes the
//! outbox in batches, uploads the photos the server lacks (resuming a cut upload), and pulls pages
//! until there are none left.
//!
//! Every step can be cut at any point and started again: a push is answered per visit and the
//! server counts a visit once however often it arrives, answers are recorded per batch, an upload
//! continues from the bytes the server holds, and a pulled page is applied with its cursor in one
//! transaction. Blocking calls: on Android, run them on `Dispatchers.IO`.

mod transport;

use std::time::Duration;

use reqwest::StatusCode;

use crate::model::{Sha256, Timestamp, VisitId};
use crate::protocol::{
    EnrollRequest, EnrollResponse, ErrorBody, MissingRequest, MissingResponse, PhoneReport,
    PullResponse, PushItem, PushRequest, PushResponse, PushStatus, UPLOAD_LENGTH, UPLOAD_OFFSET,
};
use crate::store::{self, Enrollment, Store};
use crate::validate::Issue;
use transport::Transport;

/// Installs rustls's ring provider for the process, unless one is installed already. reqwest asks
/// for a process-wide provider even when given a configuration, and so does every other reqwest
/// client of a program that links this module (its `rustls-no-provider` feature is shared).
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Where the server is and how patient to be with it.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// For example `https://verivali.kab-oku.go.id`.
    pub server_url: String,
    /// A district server with its own certificate authority: the CA in PEM, trusted alone.
    pub ca_certificate_pem: Option<String>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Tries per request, counting the first.
    pub attempts: u32,
    /// The pause after the first failure, doubled after each next one up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// Visits per push: small enough that a push finishes on a weak signal.
    pub push_batch: u32,
    /// Households per pulled page.
    pub pull_limit: u32,
    /// Bytes per upload request of a photo: what a cut connection can lose at most.
    pub upload_chunk: usize,
    /// Added to the time a push says it was sent. Zero on a phone, which reports its own clock
    /// however wrong; a simulated phone (the server's demo) sets it to act one with a wrong clock.
    pub clock_offset: time::Duration,
    /// The app's version, reported to the server at each sync (`PhoneReport`).
    pub app_version: String,
}

impl SyncConfig {
    pub fn new(server_url: impl Into<String>) -> Self {
        Self {
            server_url: server_url.into(),
            ca_certificate_pem: None,
            connect_timeout: Duration::from_secs(15),
            request_timeout: Duration::from_secs(60),
            attempts: 6,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            push_batch: 100,
            pull_limit: 500,
            upload_chunk: 256 * 1024,
            clock_offset: time::Duration::ZERO,
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// Why a sync stopped. Whatever it was, nothing finished on the phone is lost: the next sync
/// continues where this one stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("network: {0}")]
    Network(String),
    #[error("the server refused this phone (revoked or unknown): enroll again")]
    Unauthorized(Option<ErrorBody>),
    #[error("this app version is too old for the server: update it")]
    UpgradeRequired(Option<ErrorBody>),
    #[error("the server answered {status}")]
    Server {
        status: u16,
        body: Option<ErrorBody>,
    },
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("this phone is not enrolled yet")]
    NotEnrolled,
    #[error("the phone's store: {0}")]
    Store(#[from] store::Error),
}

impl SyncError {
    /// A stable code, and the message in Indonesian and English, for the phone's screen.
    pub fn describe(&self) -> (String, String, String) {
        let own = |code: &str, id: &str, en: &str| (code.to_owned(), id.to_owned(), en.to_owned());
        let from_server = |body: &Option<ErrorBody>, fallback: (String, String, String)| {
            body.as_ref()
                .map(|b| (b.code.clone(), b.message_id.clone(), b.message_en.clone()))
                .unwrap_or(fallback)
        };
        match self {
            Self::Network(_) => own(
                "SYNC-NET",
                "Tidak terhubung ke server. Data aman di HP; sinkronkan lagi saat ada sinyal.",
                "Could not reach the server. Your data is safe on the phone; sync again when there is signal.",
            ),
            Self::Unauthorized(body) => from_server(
                body,
                own(
                    "SYNC-AUTH",
                    "HP ini tidak dikenali server. Minta kode pendaftaran baru.",
                    "The server does not recognise this phone. Ask for a new enrollment code.",
                ),
            ),
            Self::UpgradeRequired(body) => from_server(
                body,
                own(
                    "SYNC-UPGRADE",
                    "Versi aplikasi terlalu lama. Perbarui aplikasi.",
                    "This app version is too old. Update the app.",
                ),
            ),
            Self::Server { body, .. } => from_server(
                body,
                own(
                    "SYNC-SERVER",
                    "Server sedang bermasalah. Data aman di HP; coba lagi nanti.",
                    "The server has a problem. Your data is safe on the phone; try again later.",
                ),
            ),
            Self::Protocol(_) => own(
                "SYNC-PROTOCOL",
                "Jawaban server tidak dapat dibaca. Data aman di HP; hubungi admin.",
                "The server's answer could not be read. Your data is safe on the phone; call the admin.",
            ),
            Self::Config(_) => own(
                "SYNC-CONFIG",
                "Alamat server atau sertifikat salah.",
                "The server address or certificate is wrong.",
            ),
            Self::NotEnrolled => own(
                "SYNC-ENROLL",
                "HP ini belum terdaftar. Masukkan kode pendaftaran.",
                "This phone is not enrolled yet. Enter an enrollment code.",
            ),
            Self::Store(_) => own(
                "SYNC-STORE",
                "Penyimpanan HP bermasalah. Jangan hapus aplikasi; hubungi admin.",
                "The phone's storage has a problem. Do not uninstall the app; call the admin.",
            ),
        }
    }
}

/// The three steps of a sync, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Push,
    Photos,
    Pull,
}

/// Told how a sync goes: `done` of `total` for the current phase. A pull's total is an upper
/// bound the server counts as it goes.
pub trait Progress: Send + Sync {
    fn update(&self, phase: Phase, done: u64, total: u64);
}

/// No one is watching.
impl Progress for () {
    fn update(&self, _: Phase, _: u64, _: u64) {}
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncSummary {
    /// Visits the server stored now.
    pub accepted: u64,
    /// Visits it already held (from an earlier, cut sync, or a bundle).
    pub duplicates: u64,
    /// Visits it refused, each now a draft again.
    pub rejected: Vec<RejectedVisit>,
    pub photos_sent: u64,
    pub households_pulled: u64,
    pub reviews_pulled: u64,
    pub households_removed: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RejectedVisit {
    pub visit_id: VisitId,
    pub device_seq: u64,
    pub issues: Vec<Issue>,
}

/// Enrolls this phone with a one-time code and keeps what the server answered. A code can be
/// sent again by the same phone when the answer was lost: the device id is kept for that.
pub fn enroll(
    config: &SyncConfig,
    store: &Store,
    code: &str,
    device_name: &str,
) -> Result<Enrollment, SyncError> {
    // The phone's id survives a new enrollment, so that its numbering and queued visits stay
    // valid; a first enrollment keeps the id it tried with until an answer arrives.
    let device_id = match store.identity()? {
        Some((device, _)) => device,
        None => store.enrolling_device_id()?,
    };
    let transport = Transport::new(config, None)?;
    let request = EnrollRequest {
        code: code.to_owned(),
        device_id,
        device_name: device_name.to_owned(),
    };
    let answer: EnrollResponse =
        transport.json(|http| http.post(transport.url("devices/enroll")).json(&request))?;
    let enrollment = Enrollment {
        server_url: config.server_url.clone(),
        device_id,
        enumerator_id: answer.enumerator_id,
        enumerator_name: answer.enumerator_name,
        token: answer.token,
        areas: answer.areas,
    };
    store.save_enrollment(&enrollment)?;
    Ok(enrollment)
}

/// One sync: push, photos, pull. On an error, what was done stays done.
pub fn sync(
    config: &SyncConfig,
    store: &Store,
    progress: &dyn Progress,
) -> Result<SyncSummary, SyncError> {
    let enrollment = store.enrollment()?.ok_or(SyncError::NotEnrolled)?;
    let mut run = Run {
        transport: Transport::new(config, Some(enrollment.token))?,
        config,
        store,
        progress,
        summary: SyncSummary::default(),
    };
    run.push()?;
    run.send_photos()?;
    run.pull()?;
    Ok(run.summary)
}

/// One sync under way: what its three steps share.
struct Run<'a> {
    transport: Transport,
    config: &'a SyncConfig,
    store: &'a Store,
    progress: &'a dyn Progress,
    summary: SyncSummary,
}

impl Run<'_> {
    fn push(&mut self) -> Result<(), SyncError> {
        let total = self.store.pending_count()?;
        let mut done = 0;
        self.progress.update(Phase::Push, done, total);
        loop {
            let queued = self.store.pending_outbox(self.config.push_batch)?;
            if queued.is_empty() {
                return Ok(());
            }
            let request = PushRequest {
                sent_at: Timestamp(Timestamp::now_utc().0 + self.config.clock_offset),
                items: queued
                    .iter()
                    .map(|o| PushItem {
                        device_seq: o.device_seq,
                        visit: o.visit.clone(),
                    })
                    .collect(),
                finished_up_to: Some(self.store.highest_finished_seq()?),
            };
            let body = Transport::gzip_json(&request)?;
            let answer: PushResponse = self.transport.json(|http| {
                http.post(self.transport.url("sync/push"))
                    .header("content-type", "application/json")
                    .header("content-encoding", "gzip")
                    .body(body.clone())
            })?;
            let answered = |r: &crate::protocol::PushResult| {
                queued.iter().any(|o| {
                    Some(o.device_seq) == r.device_seq && Some(o.visit.visit_id) == r.visit_id
                })
            };
            if answer.results.len() != queued.len() || !answer.results.iter().all(answered) {
                return Err(SyncError::Protocol(
                    "the push answer does not match the visits sent".into(),
                ));
            }
            self.store.record_answers(&answer.results)?;
            for r in &answer.results {
                match r.status {
                    PushStatus::Accepted => self.summary.accepted += 1,
                    PushStatus::Duplicate => self.summary.duplicates += 1,
                    PushStatus::Rejected => {
                        // Every answer was matched to a visit sent above, so both are present.
                        if let (Some(visit_id), Some(device_seq)) = (r.visit_id, r.device_seq) {
                            self.summary.rejected.push(RejectedVisit {
                                visit_id,
                                device_seq,
                                issues: r.issues.clone(),
                            });
                        }
                    }
                }
            }
            done += queued.len() as u64;
            self.progress.update(Phase::Push, done, total.max(done));
        }
    }

    fn send_photos(&mut self) -> Result<(), SyncError> {
        let unsent = self.store.unsent_attachments()?;
        if unsent.is_empty() {
            return Ok(());
        }
        let request = MissingRequest {
            sha256: unsent.clone(),
        };
        let answer: MissingResponse = self.transport.json(|http| {
            http.post(self.transport.url("attachments/missing"))
                .json(&request)
        })?;
        let held: Vec<Sha256> = unsent
            .into_iter()
            .filter(|s| !answer.missing.contains(s))
            .collect();
        self.store.mark_attachments_sent(&held)?;
        let total = answer.missing.len() as u64;
        self.progress.update(Phase::Photos, 0, total);
        for (n, sha) in answer.missing.iter().enumerate() {
            let bytes = self
                .store
                .attachment(sha)?
                .ok_or(SyncError::Store(store::Error::NotFound { what: "photo" }))?;
            upload(&self.transport, self.config, sha, &bytes)?;
            self.store
                .mark_attachments_sent(std::slice::from_ref(sha))?;
            self.summary.photos_sent += 1;
            self.progress.update(Phase::Photos, n as u64 + 1, total);
        }
        Ok(())
    }

    /// What this phone says of itself to the server.
    fn report(&self) -> Result<PhoneReport, SyncError> {
        let app: String = self
            .config
            .app_version
            .chars()
            .take(PhoneReport::MAX_APP_VERSION)
            .collect();
        Ok(PhoneReport {
            app,
            unsent: self.store.pending_count()?,
            photos: self.store.unsent_attachments()?.len() as u64,
            drafts: self.store.drafts()?.len() as u64,
        })
    }

    fn pull(&mut self) -> Result<(), SyncError> {
        let mut done = 0;
        self.progress.update(Phase::Pull, 0, 0);
        // After the push and the photos: what is left is what this phone still holds unsent.
        let mut report = Some(self.report()?);
        loop {
            let cursor = self.store.cursor()?.unwrap_or_else(|| "0".into());
            let first = report.take();
            let page: PullResponse = self.transport.json(|http| {
                let request = http
                    .get(self.transport.url("sync/pull"))
                    .query(&[("cursor", cursor.as_str())])
                    .query(&[("limit", self.config.pull_limit)]);
                match &first {
                    Some(report) => request.query(&report.query()),
                    None => request,
                }
            })?;
            let applied = self.store.apply_pull(&page)?;
            self.summary.households_pulled += applied.households;
            self.summary.reviews_pulled += applied.reviews;
            self.summary.households_removed += applied.removed;
            done += applied.households;
            self.progress
                .update(Phase::Pull, done, done + page.remaining);
            if !page.more {
                return Ok(());
            }
            if page.next_cursor == cursor {
                return Err(SyncError::Protocol(
                    "the pull cursor did not advance".into(),
                ));
            }
        }
    }
}

/// Uploads a photo in chunks, each starting where the server's copy ends, so that a cut
/// connection costs at most one chunk.
fn upload(
    transport: &Transport,
    config: &SyncConfig,
    sha: &Sha256,
    bytes: &[u8],
) -> Result<(), SyncError> {
    let url = transport.url(&format!("attachments/{sha}"));
    let length = bytes.len();
    // A whole number of rounds bounds the loop even if the server never advances.
    let rounds = length / config.upload_chunk.max(1) + 2 * config.attempts as usize + 2;
    for _ in 0..rounds {
        // 404 is the answer for "not (completely) here", with the bytes held in the header.
        let head = transport.send(|http| http.head(&url), &[StatusCode::NOT_FOUND])?;
        if head.status() == StatusCode::OK {
            return Ok(());
        }
        let offset = header_offset(&head).unwrap_or(0).min(length);
        let end = (offset + config.upload_chunk.max(1)).min(length);
        let chunk = bytes[offset..end].to_vec();
        let put = transport.send(
            |http| {
                http.put(&url)
                    .header(UPLOAD_OFFSET, offset)
                    .header(UPLOAD_LENGTH, length)
                    .body(chunk.clone())
            },
            // Someone (an earlier try of ours) wrote more in the meantime: ask again.
            &[StatusCode::CONFLICT],
        )?;
        if put.status() == StatusCode::CREATED {
            return Ok(());
        }
    }
    Err(SyncError::Protocol(format!(
        "the upload of photo {sha} made no progress"
    )))
}

fn header_offset(response: &reqwest::blocking::Response) -> Option<usize> {
    response
        .headers()
        .get(UPLOAD_OFFSET)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}
