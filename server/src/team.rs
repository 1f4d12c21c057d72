//! The data team's work on enumerators, their areas and their phones from the browser (issue 14,
//! item 3): the command line's operations (`admin`), for an admin, inside their region, and
//! recorded in the audit log under their name. Phones learn of an area given, moved or taken at
//! their next pull, as with the CLI.

use time::Duration;
use verivali_core::model::{Code, DeviceId, EnumeratorId, RegionCode, RegionLevel, Timestamp};
use verivali_core::protocol::{Area, EnrollmentPayload};

use crate::admin::{self, AdminError};
use crate::auth::SupervisorAuth;
use crate::db::{Db, DbError};
use crate::error::{self, ApiError};
use crate::roles;
use crate::store::{Conn, devices, enumerators};
use crate::supervision::region_in_scope;

/// How long a code issued from the browser lets a phone enroll (a training day and the next).
pub const CODE_VALID_HOURS: i64 = 72;

/// An enumerator of the region, with their current areas and phones.
#[derive(Debug, Clone)]
pub struct EnumeratorLine {
    pub id: String,
    pub name: String,
    /// As the CLI writes them: `16.04.01.2001`, `…/2`, `…/2/5`.
    pub areas: Vec<String>,
    pub devices: Vec<DeviceLine>,
}

#[derive(Debug, Clone)]
pub struct DeviceLine {
    pub id: String,
    pub name: String,
    pub enrolled_at: Timestamp,
    pub last_seen_at: Option<Timestamp>,
    pub revoked: bool,
    /// What the phone last reported of itself, if it ever did.
    pub report: Option<PhoneLine>,
}

/// A phone's last report: its app, and the work it held unsent.
#[derive(Debug, Clone)]
pub struct PhoneLine {
    pub app_version: String,
    pub unsent_visits: i64,
    pub unsent_photos: i64,
    pub drafts: i64,
    pub at: Timestamp,
}

/// The enumerators working in a region, and the region tree an area is picked from.
#[derive(Debug)]
pub struct Team {
    pub region: RegionCode,
    pub enumerators: Vec<EnumeratorLine>,
    /// The region's kecamatan, each with its villages, as (code, name): the area picker's tree.
    pub tree: Vec<Kecamatan>,
}

/// A kecamatan of the tree with its villages.
#[derive(Debug, Clone)]
pub struct Kecamatan {
    pub code: String,
    pub name: String,
    pub villages: Vec<(String, String)>,
}

/// The enumerators who have or had an area in `region` (the admin's scope unless narrower): one
/// whose areas all moved to others stays listed, with their phones to revoke.
/// Villages whose code or name holds `find` (any case) are the tree's; all when it is empty.
pub async fn team(
    db: &Db,
    who: &SupervisorAuth,
    region: Option<&str>,
    find: &str,
) -> Result<Team, ApiError> {
    who.check_role(roles::MANAGE)?;
    let region = region_in_scope(who, region)?;
    let asked = region.clone();
    let find = find.trim().to_lowercase();
    let (enumerators, tree) = db
        .read(move |conn| {
            Ok::<_, ApiError>((enumerators(conn, &asked)?, tree(conn, &asked, &find)?))
        })
        .await?;
    Ok(Team {
        region,
        enumerators,
        tree,
    })
}

/// Adds an enumerator with a first area of the admin's region.
pub async fn add_enumerator(
    db: &Db,
    who: &SupervisorAuth,
    name: &str,
    area: &str,
) -> Result<EnumeratorId, ApiError> {
    who.check_role(roles::MANAGE)?;
    let area = area_in_scope(who, area)?;
    let name = name.trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::bad_request(error::MALFORMED));
    }
    let (db, actor) = (db.clone(), who.actor());
    blocking(move || {
        let id = EnumeratorId(uuid::Uuid::new_v4());
        admin::add_enumerator_by(&db, &actor, id, &name, vec![area])
    })
    .await
}

/// Gives an enumerator of the region one more area of it.
pub async fn add_area(
    db: &Db,
    who: &SupervisorAuth,
    enumerator: EnumeratorId,
    area: &str,
) -> Result<(), ApiError> {
    on_area(db, who, area, move |tx, scope, actor, area| {
        enumerator_in_scope(tx, scope, enumerator)?;
        admin::add_area_in(tx, actor, enumerator, area).map_err(refused)
    })
    .await
}

/// Takes an area from an enumerator of the region; 404 if they had no such area.
pub async fn remove_area(
    db: &Db,
    who: &SupervisorAuth,
    enumerator: EnumeratorId,
    area: &str,
) -> Result<(), ApiError> {
    on_area(db, who, area, move |tx, scope, actor, area| {
        enumerator_in_scope(tx, scope, enumerator)?;
        taken(admin::remove_area_in(tx, actor, enumerator, area))
    })
    .await
}

/// Moves an area from one enumerator to another in one transaction: the one who had it stops
/// receiving its households, the other pulls them all, at their next sync.
pub async fn move_area(
    db: &Db,
    who: &SupervisorAuth,
    from: EnumeratorId,
    to: EnumeratorId,
    area: &str,
) -> Result<(), ApiError> {
    on_area(db, who, area, move |tx, scope, actor, area| {
        enumerator_in_scope(tx, scope, from)?;
        enumerator_in_scope(tx, scope, to)?;
        taken(admin::remove_area_in(tx, actor, from, area))?;
        admin::add_area_in(tx, actor, to, area).map_err(refused)
    })
    .await
}

/// A change to an area of the admin's region, made on the writer by `op` with the admin's scope,
/// their name for the audit log, and the area read.
async fn on_area<T: Send + 'static>(
    db: &Db,
    who: &SupervisorAuth,
    area: &str,
    op: impl FnOnce(Conn<'_>, &SupervisorAuth, &str, &Area) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    who.check_role(roles::MANAGE)?;
    let area = area_in_scope(who, area)?;
    let (scope, actor) = (who.clone(), who.actor());
    db.write(move |tx| op(tx, &scope, &actor, &area)).await
}

/// An area taken, or 404 if the enumerator did not have it.
fn taken(removed: Result<bool, AdminError>) -> Result<(), ApiError> {
    match removed.map_err(refused)? {
        true => Ok(()),
        false => Err(ApiError::not_found()),
    }
}

/// A one-time enrollment code for an enumerator of the region; the code itself is never logged.
pub async fn enrollment_code(
    db: &Db,
    who: &SupervisorAuth,
    enumerator: EnumeratorId,
) -> Result<(String, Timestamp), ApiError> {
    who.check_role(roles::MANAGE)?;
    let scope = who.clone();
    db.read(move |conn| enumerator_in_scope(conn, &scope, enumerator))
        .await?;
    let (db, actor) = (db.clone(), who.actor());
    let valid = Duration::hours(CODE_VALID_HOURS);
    let code = blocking(move || admin::enrollment_code_by(&db, &actor, enumerator, valid)).await?;
    Ok((code, Timestamp(Timestamp::now_utc().0 + valid)))
}

/// One enumerator's card on the sheet of codes for a training day.
#[derive(Debug, Clone)]
pub struct CodeCard {
    pub name: String,
    pub areas: Vec<String>,
    pub code: String,
}

/// A code for every enumerator of the region who has no phone enrolled yet (those with one keep
/// it): the sheet printed for a training day. Each code is audited as one issued on its own.
pub async fn enrollment_sheet(
    db: &Db,
    who: &SupervisorAuth,
) -> Result<(Vec<CodeCard>, Timestamp), ApiError> {
    who.check_role(roles::MANAGE)?;
    let scope = who.scope.clone();
    let waiting: Vec<EnumeratorLine> = db
        .read(move |conn| {
            let mut lines = enumerators(conn, &scope)?;
            lines.retain(|e| !e.areas.is_empty() && e.devices.iter().all(|d| d.revoked));
            Ok::<_, ApiError>(lines)
        })
        .await?;
    let (db, actor) = (db.clone(), who.actor());
    let valid = Duration::hours(CODE_VALID_HOURS);
    let cards = blocking(move || {
        waiting
            .into_iter()
            .map(|e| {
                let id = EnumeratorId::parse(&e.id)
                    .map_err(|err| DbError::Inconsistent(format!("enumerator id: {err}")))?;
                let code = admin::enrollment_code_by(&db, &actor, id, valid)?;
                Ok(CodeCard {
                    name: e.name,
                    areas: e.areas,
                    code,
                })
            })
            .collect::<Result<Vec<_>, AdminError>>()
    })
    .await?;
    Ok((cards, Timestamp(Timestamp::now_utc().0 + valid)))
}

/// Revokes a phone of an enumerator of the region: its token stops at once.
pub async fn revoke_device(
    db: &Db,
    who: &SupervisorAuth,
    device: DeviceId,
) -> Result<(), ApiError> {
    who.check_role(roles::MANAGE)?;
    let scope = who.clone();
    db.read(move |conn| {
        let owner = devices::owner(conn, &device.to_string())?
            .and_then(|o| EnumeratorId::parse(&o).ok())
            .ok_or_else(ApiError::not_found)?;
        enumerator_in_scope(conn, &scope, owner)
    })
    .await?;
    let (db, actor) = (db.clone(), who.actor());
    if blocking(move || admin::revoke_device_by(&db, &actor, device)).await? {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

/// The QR code a phone scans to enroll: the server's address and the code
/// ([`EnrollmentPayload`]; the phone may also have the code typed).
pub fn enrollment_payload(server: &str, code: &str) -> String {
    EnrollmentPayload {
        server: server.to_owned(),
        code: code.to_owned(),
    }
    .text()
}

/// The payload as an SVG QR code, for the page and for printing.
pub fn qr_svg(payload: &str) -> Result<String, ApiError> {
    let code = qrcode::QrCode::new(payload.as_bytes()).map_err(ApiError::internal)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .build())
}

fn area_in_scope(who: &SupervisorAuth, text: &str) -> Result<Area, ApiError> {
    let area =
        admin::parse_area(text.trim()).map_err(|_| ApiError::bad_request(error::BAD_REGION))?;
    who.check(&area.region)?;
    Ok(area)
}

/// 404 unless the enumerator has (or had) an area in the admin's region: another region's
/// enumerators look like none.
fn enumerator_in_scope(
    conn: Conn<'_>,
    who: &SupervisorAuth,
    enumerator: EnumeratorId,
) -> Result<(), ApiError> {
    let regions = enumerators::area_regions(conn, &enumerator.to_string())?;
    let ours = regions
        .iter()
        .filter_map(|r| RegionCode::parse(r).ok())
        .any(|r| who.scope.contains(&r));
    if ours {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

fn enumerators(conn: Conn<'_>, region: &RegionCode) -> Result<Vec<EnumeratorLine>, DbError> {
    enumerators::working_in(conn, region.as_str())?
        .into_iter()
        .map(|(id, name)| {
            let areas = enumerators::areas_held(conn, &id)?
                .into_iter()
                .map(|a| {
                    [Some(a.region), a.rw, a.rt]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join("/")
                })
                .collect();
            let devices = devices::of_enumerator(conn, &id)?
                .into_iter()
                .map(|d| DeviceLine {
                    id: d.device_id,
                    name: d.name,
                    enrolled_at: Timestamp::from_unix_millis(d.enrolled_at),
                    last_seen_at: d.last_seen_at.map(Timestamp::from_unix_millis),
                    revoked: d.revoked,
                    report: d.app_version.map(|app_version| PhoneLine {
                        app_version,
                        unsent_visits: d.unsent_visits.unwrap_or(0),
                        unsent_photos: d.unsent_photos.unwrap_or(0),
                        drafts: d.drafts.unwrap_or(0),
                        at: Timestamp::from_unix_millis(d.reported_at.unwrap_or(0)),
                    }),
                })
                .collect();
            Ok(EnumeratorLine {
                id,
                name,
                areas,
                devices,
            })
        })
        .collect()
}

/// The region's kecamatan with their villages (those matching `find`), in code order.
fn tree(conn: Conn<'_>, region: &RegionCode, find: &str) -> Result<Vec<Kecamatan>, DbError> {
    let rows = enumerators::regions_in(conn, region.as_str())?;
    let names: std::collections::HashMap<String, String> = rows.iter().cloned().collect();
    let mut tree: Vec<Kecamatan> = Vec::new();
    for (code, name) in rows {
        let Ok(village) = RegionCode::parse(&code) else {
            continue;
        };
        let matches = find.is_empty() || code.contains(find) || name.to_lowercase().contains(find);
        if village.level() != RegionLevel::Village || !matches {
            continue;
        }
        let Some(kecamatan) = village.ancestor(RegionLevel::District) else {
            continue;
        };
        let kecamatan = kecamatan.as_str();
        if tree.last().is_none_or(|k| k.code != kecamatan) {
            tree.push(Kecamatan {
                code: kecamatan.to_owned(),
                name: names.get(kecamatan).cloned().unwrap_or_default(),
                villages: Vec::new(),
            });
        }
        if let Some(k) = tree.last_mut() {
            k.villages.push((code, name));
        }
    }
    Ok(tree)
}

pub(crate) fn refused(e: AdminError) -> ApiError {
    match e {
        AdminError::UnknownEnumerator(_) => ApiError::not_found(),
        AdminError::BadArea(..) => ApiError::bad_request(error::BAD_REGION),
        AdminError::Session(e) => e.into(),
        other => ApiError::internal(other),
    }
}

/// Runs one of the CLI's operations, which wait for the writer, off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    op: impl FnOnce() -> Result<T, AdminError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(op)
        .await
        .map_err(ApiError::internal)?
        .map_err(refused)
}
