//! Importing a phone's bundle (DESIGN §7), from the CLI or `POST /api/v1/bundles`: the bundle is
//! checked whole against its device's key first (an altered one stores nothing), then its photos
//! are filed and its visits go through the push's own ingest, so importing twice, or importing
//! and later pushing, stores each visit once.

use serde::Serialize;
use verivali_core::bundle::{Bundle, BundleError, Unchecked};
use verivali_core::model::{DeviceId, Timestamp};
use verivali_core::protocol::{MAX_PUSH_ITEMS, PushResult, PushStatus};

use crate::attachments::{Attachments, Presence};
use crate::auth::{self, DeviceAuth, SupervisorAuth};
use crate::db::Db;
use crate::error::ApiError;
use crate::{audit, ingest, roles};

/// A bundle is larger than a push: days of visits and their photos.
pub const MAX_BUNDLE_BYTES: usize = 256 * 1024 * 1024;

/// What an import did, visit by visit where it matters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    pub device_id: DeviceId,
    pub visits: u64,
    pub accepted: u64,
    /// Already on the server: pushed before, or in a bundle imported before.
    pub duplicates: u64,
    /// Each with its code, field and both messages; the rest of the bundle is stored.
    pub rejected: Vec<PushResult>,
    pub photos: u64,
}

/// A supervisor's import of a bundle `file`: refused unless their role imports and the bundle's
/// enumerator works, or worked, inside their region.
pub async fn import_by(
    db: &Db,
    data_dir: &std::path::Path,
    who: &SupervisorAuth,
    file: axum::body::Bytes,
) -> Result<ImportReport, ApiError> {
    who.check_role(roles::IMPORT)?;
    let (db, who) = (db.clone(), who.clone());
    let attachments = Attachments::new(data_dir);
    tokio::task::spawn_blocking(move || {
        let (device, bundle) = open(&db, &file, |device| {
            device
                .areas
                .iter()
                .chain(&device.former_areas)
                .try_for_each(|area| who.check(&area.region))
        })?;
        import(&db, &attachments, &device, bundle, &who.actor())
    })
    .await
    .map_err(ApiError::internal)?
}

/// Reads a bundle file and checks it whole against its device's key. `may_import` sees the
/// device first, from the manifest alone: an importer outside its areas is refused before the
/// photos are inflated.
pub fn open(
    db: &Db,
    file: &[u8],
    may_import: impl FnOnce(&DeviceAuth) -> Result<(), ApiError>,
) -> Result<(DeviceAuth, Bundle), ApiError> {
    let unchecked = Unchecked::read(file).map_err(refused)?;
    let device_id = unchecked.device_id();
    let (device, key) = db
        .read_blocking(|conn| auth::device_by_id(conn, device_id))?
        .ok_or_else(|| refused(BundleError::UnknownDevice))?;
    may_import(&device)?;
    let bundle = unchecked.check(&key).map_err(refused)?;
    Ok((device, bundle))
}

/// Files a checked bundle's photos and ingests its visits as `device`'s pushes would be, with
/// `actor` in the audit log. Blocking.
pub fn import(
    db: &Db,
    attachments: &Attachments,
    device: &DeviceAuth,
    bundle: Bundle,
    actor: &str,
) -> Result<ImportReport, ApiError> {
    let mut report = ImportReport {
        device_id: device.device_id,
        visits: bundle.visits.len() as u64,
        accepted: 0,
        duplicates: 0,
        rejected: Vec::new(),
        photos: bundle.photos.len() as u64,
    };
    let uploader = device.device_id.to_string();
    for (sha, bytes) in &bundle.photos {
        // A cut upload of the same photo may have left part of it: continue from there.
        let holds =
            db.read_blocking(|conn| crate::store::photos::holds(conn, sha.as_str(), &uploader))?;
        let held = match attachments.presence(sha, &uploader, holds) {
            Presence::Complete { .. } => continue,
            Presence::Partial { held } => held,
            Presence::Absent => 0,
        };
        let rest = usize::try_from(held)
            .ok()
            .and_then(|h| bytes.get(h..))
            .unwrap_or_default();
        attachments
            .put(sha, &uploader, held, bytes.len() as u64, rest)
            .map_err(ApiError::from)?;
        let (sha, who) = (sha.clone(), uploader.clone());
        db.write_blocking(move |tx| crate::store::photos::record_holder(tx, sha.as_str(), &who))?;
    }
    let mut visits = bundle.visits.into_iter().peekable();
    while visits.peek().is_some() {
        let mut slots: Vec<ingest::Slot> = visits
            .by_ref()
            .take(MAX_PUSH_ITEMS)
            .map(|v| ingest::Slot::Pending {
                content_hash: v.content_hash.clone(),
                item: Box::new(v.into_push_item()),
            })
            .collect();
        // The phone's clock cannot be compared with ours for a file that travelled for days:
        // its times are taken as they are.
        let now = Timestamp::now_utc();
        let device = device.clone();
        let answers = db.write_blocking(move |tx| {
            ingest::answer_known(tx, &mut slots)?;
            ingest::store(tx, &device, &slots, None, now, now)
        })?;
        for result in answers.results {
            match result.status {
                PushStatus::Accepted => report.accepted += 1,
                PushStatus::Duplicate => report.duplicates += 1,
                PushStatus::Rejected => report.rejected.push(result),
            }
        }
    }
    let detail = serde_json::json!({
        "visits": report.visits,
        "accepted": report.accepted,
        "duplicates": report.duplicates,
        "rejected": report.rejected.len(),
        "photos": report.photos,
    })
    .to_string();
    let (target, actor) = (device.device_id.to_string(), actor.to_owned());
    db.write_blocking(move |tx| {
        audit::record(tx, &actor, "bundle:import", Some(&target), Some(&detail))
    })?;
    Ok(report)
}

fn refused(e: BundleError) -> ApiError {
    let (code, message_id, message_en) = e.describe();
    // The reason names a fault of the file; any value it quotes is left out, since a decoder
    // quotes what it read (a member's NIK given as a number, say).
    let reason = crate::privacy::without_values(&e);
    tracing::warn!(code, reason, "bundle refused");
    let mut error = ApiError::bad_request(crate::error::ErrorCode {
        code,
        message_id,
        message_en,
    });
    error.body.message_en = format!("{message_en} ({reason})");
    error
}
