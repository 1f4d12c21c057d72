//! The demo's phones: a few enumerators' phones, each with its own store on disk, doing visits and
//! syncing through the core's sync client over real HTTP, so that a newcomer who opens the
//! dashboard sees it move. Among their visits are the cases a supervisor must see: two
//! enumerators who disagree on a household (a conflict), a phone whose clock is five hours slow
//! (CLOCK_SKEW), and a visit finished in an area taken from its enumerator before the phone
//! synced (LEFT_AREA). The suspected duplicates come from the target list itself.
//!
//! The cases are played once, by phones enrolled in this run; a demo started again on its data
//! directory goes on with the households not yet visited.

use std::path::{Path, PathBuf};
use std::time::Duration;

use verivali_core::model::{
    Assessment, EnumeratorId, HouseholdId, Photo, PhotoKind, Recommendation, Timestamp,
};
use verivali_core::protocol::Area;
use verivali_core::sample;
use verivali_core::store::Store;
use verivali_core::sync::{self, SyncConfig};

use crate::admin;
use crate::db::Db;

/// One demo phone and what it is to do.
#[derive(Debug, Clone)]
pub struct PhonePlan {
    pub name: &'static str,
    pub enumerator: EnumeratorId,
    /// A one-time code, used when the phone's store is not enrolled yet.
    pub code: String,
    /// The households it visits, in order.
    pub households: Vec<HouseholdId>,
    /// How wrong the phone's clock is.
    pub clock_offset: time::Duration,
    pub case: Case,
}

/// The case a phone plays besides its ordinary visits.
#[derive(Debug, Clone)]
pub enum Case {
    None,
    /// Visits this household (another enumerator's first) and judges it otherwise: a conflict.
    Disagree(HouseholdId),
    /// Finishes a visit to this household, then loses the area before its next sync.
    LosesArea(HouseholdId, Area),
}

/// The demo's photo of a house front: a drawn house (walls, roof, door) as a phone's JPEG, its
/// colours varied per phone and visit so that no two photos share a hash.
fn house_front(seed: u64) -> Vec<u8> {
    let tint = (seed % 120) as u8;
    let picture = image::RgbImage::from_fn(640, 480, |x, y| {
        let roof = y > 120 && y < 220 && (x as i64 - 320).abs() < (y as i64 - 120) * 2;
        let walls = (200..440).contains(&y) && (160..480).contains(&x);
        let door = (320..440).contains(&y) && (290..350).contains(&x);
        image::Rgb(match (door, walls, roof) {
            (true, _, _) => [90, 60, 30],
            (_, true, _) => [200, 170 + tint / 4, 120],
            (_, _, true) => [150 + tint / 2, 50, 40],
            _ if y >= 440 => [110, 140, 70],
            _ => [150, 200, 235],
        })
    });
    let mut jpeg = Vec::new();
    // Writing to a Vec cannot fail for an image of this size.
    let _ =
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80).encode_image(&picture);
    jpeg
}

/// How many rounds the phones play: each visits one household per round.
const ROUNDS: u64 = 30;
/// A phone syncs every this many of its visits.
const SYNC_EVERY: u64 = 3;

/// Starts the phones on a thread of their own; `pace` is the pause between two visits.
pub fn spawn(
    db: Db,
    url: String,
    dir: PathBuf,
    plans: Vec<PhonePlan>,
    pace: Duration,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("demo-phones".into())
        .spawn(move || run(&db, &url, &dir, plans, pace))
}

struct Phone {
    plan: PhonePlan,
    store: Store,
    config: SyncConfig,
    /// Enrolled in this run: it plays its case.
    fresh: bool,
    next: usize,
    visits: u64,
}

fn run(db: &Db, url: &str, dir: &Path, plans: Vec<PhonePlan>, pace: Duration) {
    sync::install_tls_provider();
    if let Err(e) = std::fs::create_dir_all(dir) {
        tracing::warn!(error = %e, "demo phones: no directory for their stores");
        return;
    }
    let mut phones: Vec<Phone> = plans
        .into_iter()
        .filter_map(|plan| match start(url, dir, plan) {
            Ok(phone) => Some(phone),
            Err(e) => {
                tracing::warn!(error = %e, "demo phone could not start");
                None
            }
        })
        .collect();
    for round in 0..ROUNDS {
        for phone in &mut phones {
            if let Err(e) = play(db, phone, round) {
                tracing::warn!(phone = phone.plan.name, error = %e, "demo phone");
            }
            std::thread::sleep(pace);
        }
    }
    for phone in &phones {
        if let Err(e) = sync::sync(&phone.config, &phone.store, &()) {
            tracing::warn!(phone = phone.plan.name, error = %e, "demo phone: last sync");
        }
    }
    tracing::info!("demo phones: done");
}

fn start(url: &str, dir: &Path, plan: PhonePlan) -> Result<Phone, String> {
    let file = dir.join(format!("{}.db", plan.enumerator));
    let store = Store::open(&file, &sample::store_key()).map_err(|e| e.to_string())?;
    let config = SyncConfig {
        clock_offset: plan.clock_offset,
        ..SyncConfig::new(url)
    };
    let fresh = store.enrollment().map_err(|e| e.to_string())?.is_none();
    if fresh {
        sync::enroll(&config, &store, &plan.code, plan.name).map_err(|e| e.to_string())?;
    }
    sync::sync(&config, &store, &()).map_err(|e| e.to_string())?;
    Ok(Phone {
        plan,
        store,
        config,
        fresh,
        next: 0,
        visits: 0,
    })
}

/// One round of one phone: its case in the second round, else its next household; a sync every
/// few visits.
fn play(db: &Db, phone: &mut Phone, round: u64) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    match phone.plan.case.clone() {
        Case::Disagree(household) if phone.fresh && round == 1 => {
            visit(phone, household, true)?;
            return sync::sync(&phone.config, &phone.store, &())
                .map(drop)
                .map_err(|e| err(&e));
        }
        Case::LosesArea(household, area) if phone.fresh && round == 1 => {
            visit(phone, household, false)?;
            // The data team moves the area to someone else before the phone finds a signal.
            admin::remove_area(db, phone.plan.enumerator, area).map_err(|e| err(&e))?;
            return sync::sync(&phone.config, &phone.store, &())
                .map(drop)
                .map_err(|e| err(&e));
        }
        _ => {}
    }
    let mut visited = false;
    while let Some(&id) = phone.plan.households.get(phone.next) {
        phone.next += 1;
        let untouched = phone
            .store
            .household(id)
            .map_err(|e| err(&e))?
            .is_some_and(|h| h.state.last_visit_at.is_none());
        if untouched {
            visit(phone, id, false)?;
            visited = true;
            break;
        }
    }
    if visited && phone.visits.is_multiple_of(SYNC_EVERY) {
        sync::sync(&phone.config, &phone.store, &()).map_err(|e| err(&e))?;
    }
    Ok(())
}

/// A complete visit as the form would save it, at the phone's own (perhaps wrong) time;
/// `disagree` judges the household not poor where the list and the others say poor.
fn visit(phone: &mut Phone, id: HouseholdId, disagree: bool) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let Some(merged) = phone.store.household(id).map_err(|e| err(&e))? else {
        return Ok(());
    };
    let now = Timestamp(Timestamp::now_utc().0 + phone.plan.clock_offset);
    let draft = phone
        .store
        .start_visit(Some(id), Timestamp(now.0 - time::Duration::minutes(20)))
        .map_err(|e| err(&e))?;
    phone.visits += 1;
    let mut visit = sample::fill_draft(&draft, &merged.state.household, now, phone.visits);
    visit.location = super::house_location(&merged.state.household.region, id);
    if disagree {
        visit.assessment = Some(Assessment::NotPoor);
        visit.recommendation = Some(Recommendation::Remove);
    }
    // Every demo visit photographs the house front (a removal must: VIS-04).
    let sha256 = phone
        .store
        .put_attachment(&house_front(id.0.as_u128() as u64))
        .map_err(|e| err(&e))?;
    visit.photos.push(Photo {
        sha256,
        kind: PhotoKind::HouseFront,
    });
    phone.store.save_draft(&visit).map_err(|e| err(&e))?;
    phone
        .store
        .finish_visit(visit.visit_id, now, None)
        .map_err(|e| err(&e))?;
    Ok(())
}
