//! Who is calling. A device sends `Authorization: Bearer <token>`; the server looks the token up
//! by its hash and refuses a revoked device.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use verivali_core::model::{Code, DeviceId, EnumeratorId, RegionCode, Rt, Rw, Timestamp, UserId};
use verivali_core::protocol::Area;

use crate::error::ApiError;
use crate::roles::{Power, Role};
use crate::state::AppState;
use crate::store::Conn;
use crate::store::devices::{self, StoredDevice};
use crate::store::supervisors;
use crate::{sessions, tokens};

/// An enrolled, unrevoked device and the enumerator it belongs to.
#[derive(Debug, Clone)]
pub struct DeviceAuth {
    pub device_id: DeviceId,
    pub enumerator_id: EnumeratorId,
    /// The areas the enumerator works in now.
    pub areas: Vec<Area>,
    /// Areas the enumerator had before: visits finished there are still accepted, flagged.
    pub former_areas: Vec<Area>,
}

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        crate::phones::check_app_version(state.config.min_app_version.as_deref(), &parts.headers)?;
        let token_hash = tokens::hash(bearer(parts)?);
        let (device, last_seen) = state
            .db
            .read(move |conn| device_by_token(conn, &token_hash))
            .await?;
        let now = Timestamp::now_utc().unix_millis();
        if last_seen.is_none_or(|t| now - t > LAST_SEEN_STEP_MS) {
            let id = device.device_id.to_string();
            state
                .db
                .write(move |tx| devices::seen(tx, &id, now))
                .await?;
        }
        Ok(device)
    }
}

/// A device's last call is noted at most this often: a write per phone every few minutes, not
/// per request.
const LAST_SEEN_STEP_MS: i64 = 5 * 60 * 1000;

fn device_by_token(
    conn: Conn<'_>,
    token_hash: &str,
) -> Result<(DeviceAuth, Option<i64>), ApiError> {
    let device = devices::by_token(conn, token_hash)?.ok_or_else(ApiError::unauthorized)?;
    Ok((device_auth(conn, &device)?, device.last_seen_at))
}

/// A device by its id, revoked or not, with its token's hash: the key its bundles are sealed
/// with. A bundle of a phone revoked since (lost, broken) is still its enumerator's work.
pub fn device_by_id(
    conn: Conn<'_>,
    device_id: DeviceId,
) -> Result<Option<(DeviceAuth, String)>, ApiError> {
    devices::by_id(conn, &device_id.to_string())?
        .map(|device| Ok((device_auth(conn, &device)?, device.token_hash)))
        .transpose()
}

fn device_auth(conn: Conn<'_>, device: &StoredDevice) -> Result<DeviceAuth, ApiError> {
    let device_id = DeviceId::parse(&device.device_id).map_err(ApiError::internal)?;
    let enumerator_id = EnumeratorId::parse(&device.enumerator_id).map_err(ApiError::internal)?;
    let (areas, former_areas) = areas_of(conn, enumerator_id)?;
    Ok(DeviceAuth {
        device_id,
        enumerator_id,
        areas,
        former_areas,
    })
}

/// A supervisor, confined to a region and everything inside it.
#[derive(Debug, Clone)]
pub struct SupervisorAuth {
    pub user_id: UserId,
    pub name: String,
    pub scope: RegionCode,
    pub role: Role,
}

impl SupervisorAuth {
    /// Who the audit log names.
    pub fn actor(&self) -> String {
        format!("supervisor:{}", self.user_id)
    }

    /// 403 unless `region` lies in the supervisor's scope.
    pub fn check(&self, region: &RegionCode) -> Result<(), ApiError> {
        if self.scope.contains(region) {
            Ok(())
        } else {
            Err(ApiError::denied(self.actor(), region))
        }
    }

    /// 404 unless a household of `region` lies in the supervisor's scope: one outside looks like
    /// one that does not exist, so that household ids cannot be probed. Audited all the same.
    pub fn check_household(&self, region: &RegionCode) -> Result<(), ApiError> {
        self.check(region).map_err(ApiError::hidden)
    }

    /// Whether the supervisor's role holds `power` (pages show only what it does).
    pub fn may(&self, power: Power) -> bool {
        self.role >= power.least
    }

    /// 403 unless the supervisor's role holds `power`; audited.
    pub fn check_role(&self, power: Power) -> Result<(), ApiError> {
        if self.may(power) {
            Ok(())
        } else {
            Err(ApiError::role_forbids(self.actor(), power.name))
        }
    }
}

/// A supervisor calls with a bearer token (the API), or with the session cookie of a browser
/// signed in with a password (`sessions`).
impl FromRequestParts<AppState> for SupervisorAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // The bearer token wins when both are sent.
        let (by_session, key) = match (bearer(parts), sessions::token_in(&parts.headers)) {
            (Ok(token), _) => (false, tokens::hash(token)),
            (Err(_), Some(cookie)) => (true, tokens::hash(cookie)),
            (Err(e), None) => return Err(e),
        };
        state
            .db
            .read(move |conn| {
                let found = if by_session {
                    supervisors::by_session(conn, &key, Timestamp::now_utc().unix_millis())?
                } else {
                    supervisors::by_token(conn, &key)?
                };
                let s = found.ok_or_else(ApiError::unauthorized)?;
                Ok(SupervisorAuth {
                    user_id: UserId::parse(&s.user_id).map_err(ApiError::internal)?,
                    name: s.name,
                    scope: RegionCode::parse(&s.region).map_err(ApiError::internal)?,
                    role: Role::parse(&s.role)
                        .ok_or_else(|| ApiError::internal("a supervisor's stored role"))?,
                })
            })
            .await
    }
}

/// The bearer token of a request.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(ApiError::unauthorized)
}

/// A place as the database stores it (region, RW and RT as text), read back as an [`Area`]: the
/// areas of enumerators, and the places of households, which an area covers or not.
pub fn stored_place(region: &str, rw: Option<&str>, rt: Option<&str>) -> Result<Area, ApiError> {
    Ok(Area {
        region: RegionCode::parse(region).map_err(ApiError::internal)?,
        rw: rw.map(Rw::parse).transpose().map_err(ApiError::internal)?,
        rt: rt.map(Rt::parse).transpose().map_err(ApiError::internal)?,
    })
}

impl DeviceAuth {
    /// Whether one of the device's areas covers a household at `place`.
    pub fn covers(&self, place: &Area) -> bool {
        self.areas
            .iter()
            .any(|a| a.covers(&place.region, place.rw.as_ref(), place.rt.as_ref()))
    }
}

/// An enumerator's current and former areas.
pub fn areas_of(
    conn: Conn<'_>,
    enumerator: EnumeratorId,
) -> Result<(Vec<Area>, Vec<Area>), ApiError> {
    let (mut current, mut former) = (Vec::new(), Vec::new());
    for stored in devices::areas(conn, &enumerator.to_string())? {
        let area = stored_place(&stored.region, stored.rw.as_deref(), stored.rt.as_deref())?;
        if stored.removed {
            former.push(area)
        } else {
            current.push(area)
        }
    }
    Ok((current, former))
}
