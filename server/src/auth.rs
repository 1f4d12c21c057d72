//! Who is calling. A device sends `Authorization: Bearer <token>`; the server looks the token up
//! by its hash and refuses a revoked device.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rusqlite::OptionalExtension;
use verivali_core::model::{Code, DeviceId, EnumeratorId, RegionCode, Rt, Rw};
use verivali_core::protocol::Area;

use crate::error::ApiError;
use crate::state::AppState;
use crate::tokens;

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
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(ApiError::unauthorized)?;
        let token_hash = tokens::hash(token.trim());
        state
            .db
            .read(move |conn| device_by_token(conn, &token_hash))
            .await
    }
}

fn device_by_token(conn: &rusqlite::Connection, token_hash: &str) -> Result<DeviceAuth, ApiError> {
    let row: Option<(String, String)> = conn
        .prepare_cached(
            "SELECT device_id, enumerator_id FROM devices WHERE token_hash = ?1 AND revoked_at IS NULL",
        )?
        .query_row([token_hash], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (device, enumerator) = row.ok_or_else(ApiError::unauthorized)?;
    let device_id = DeviceId::parse(&device).map_err(ApiError::internal)?;
    let enumerator_id = EnumeratorId::parse(&enumerator).map_err(ApiError::internal)?;
    let (areas, former_areas) = areas_of(conn, enumerator_id)?;
    Ok(DeviceAuth {
        device_id,
        enumerator_id,
        areas,
        former_areas,
    })
}

/// An enumerator's current and former areas.
pub fn areas_of(
    conn: &rusqlite::Connection,
    enumerator: EnumeratorId,
) -> Result<(Vec<Area>, Vec<Area>), ApiError> {
    let mut stmt = conn.prepare_cached(
        "SELECT region, rw, rt, removed_at IS NOT NULL FROM areas WHERE enumerator_id = ?1
         ORDER BY region, rw, rt",
    )?;
    let rows = stmt.query_map([enumerator.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, bool>(3)?,
        ))
    })?;
    let (mut current, mut former) = (Vec::new(), Vec::new());
    for row in rows {
        let (region, rw, rt, removed) = row?;
        let area = Area {
            region: RegionCode::parse(&region).map_err(ApiError::internal)?,
            rw: rw
                .map(|s| Rw::parse(&s))
                .transpose()
                .map_err(ApiError::internal)?,
            rt: rt
                .map(|s| Rt::parse(&s))
                .transpose()
                .map_err(ApiError::internal)?,
        };
        if removed {
            former.push(area)
        } else {
            current.push(area)
        }
    }
    Ok((current, former))
}
