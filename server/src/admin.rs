//! What the district's data team does from the command line: load the region list, create
//! enumerators with their areas, issue enrollment codes, revoke devices.

use std::path::Path;

use time::Duration;
use verivali_core::model::{
    Code, DeviceId, EnumeratorId, Labelled, ParseError, RegionCode, Rt, Rw, Timestamp, UserId,
};
use verivali_core::protocol::Area;

use crate::db::{Db, DbError};
use crate::roles::Role;
use crate::store::{self, Conn, devices, enumerators, supervisors};
use crate::tokens;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("the file needs the columns kode,nama")]
    RegionColumns,
    #[error("no enumerator {0}")]
    UnknownEnumerator(EnumeratorId),
    #[error("area {0:?}: {1}")]
    BadArea(String, String),
    #[error("no secure random numbers: {0}")]
    Random(String),
    #[error(transparent)]
    Session(#[from] crate::sessions::SessionError),
    #[error("boundaries: {0}")]
    Boundaries(#[from] crate::map::ImportError),
}

/// What an import of the region list did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionImport {
    pub stored: usize,
    /// Rows left out: line number and reason.
    pub rejected: Vec<(u64, String)>,
}

/// Loads a Kemendagri region list (`kode,nama`, dotted or undotted codes) in one transaction.
/// Importing the same file again changes nothing.
pub fn import_regions(db: &Db, path: &Path) -> Result<RegionImport, AdminError> {
    let file = std::fs::File::open(path).map_err(|source| AdminError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let mut reader = csv::Reader::from_reader(std::io::BufReader::new(file));
    let headers = reader.headers()?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (Some(code_col), Some(name_col)) = (column("kode"), column("nama")) else {
        return Err(AdminError::RegionColumns);
    };
    let mut report = RegionImport::default();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        let line = record.position().map_or(0, |p| p.line());
        let code = record.get(code_col).unwrap_or_default();
        let name = record.get(name_col).unwrap_or_default().trim().to_owned();
        match RegionCode::parse(code) {
            Ok(code) if !name.is_empty() => rows.push((code, name)),
            Ok(_) => report
                .rejected
                .push((line, "nama kosong / empty name".into())),
            Err(e) => report
                .rejected
                .push((line, format!("{}: {}", e.rule().code, e.rule().message_en))),
        }
    }
    report.stored = rows.len();
    db.write_blocking(move |tx| {
        for (code, name) in &rows {
            enumerators::put_region(tx, code.as_str(), name)?;
        }
        Ok::<_, AdminError>(())
    })?;
    Ok(report)
}

/// Reads an area as written on the command line: `16.04.01.2001`, `16.04.01.2001/2` (RW 2) or
/// `16.04.01.2001/2/5` (RW 2, RT 5).
pub fn parse_area(text: &str) -> Result<Area, AdminError> {
    let bad = |why: &str| AdminError::BadArea(text.to_owned(), why.to_owned());
    let mut parts = text.split('/');
    let region = RegionCode::parse(parts.next().unwrap_or_default())
        .map_err(|e| bad(e.rule().message_en))?;
    let rw = parts
        .next()
        .map(Rw::parse)
        .transpose()
        .map_err(|e| bad(e.rule().message_en))?;
    let rt = parts
        .next()
        .map(Rt::parse)
        .transpose()
        .map_err(|e| bad(e.rule().message_en))?;
    if parts.next().is_some() {
        return Err(bad("write CODE, CODE/RW or CODE/RW/RT"));
    }
    Ok(Area { region, rw, rt })
}

/// Creates an enumerator working in `areas`.
pub fn add_enumerator(db: &Db, name: &str, areas: Vec<Area>) -> Result<EnumeratorId, AdminError> {
    add_enumerator_with_id(db, EnumeratorId(uuid::Uuid::new_v4()), name, areas)
}

/// Who the audit log names for what the command line does.
pub const CLI: &str = "admin";

/// Creates an enumerator under a given id (a district's own staff list may carry ids).
pub fn add_enumerator_with_id(
    db: &Db,
    id: EnumeratorId,
    name: &str,
    areas: Vec<Area>,
) -> Result<EnumeratorId, AdminError> {
    add_enumerator_by(db, CLI, id, name, areas)
}

/// Creates an enumerator, recorded in the audit log as done by `actor`.
pub fn add_enumerator_by(
    db: &Db,
    actor: &str,
    id: EnumeratorId,
    name: &str,
    areas: Vec<Area>,
) -> Result<EnumeratorId, AdminError> {
    let (name, actor) = (name.trim().to_owned(), actor.to_owned());
    db.write_blocking(move |tx| {
        let now = Timestamp::now_utc().unix_millis();
        enumerators::insert(tx, &id.to_string(), &name, now)?;
        for area in &areas {
            enumerators::add_area(tx, &id.to_string(), area_row(area), now)?;
        }
        let region = areas.first().map(|a| a.region.to_string());
        let areas: Vec<String> = areas.iter().map(area_text).collect();
        crate::audit::record_in(
            tx,
            region.as_deref(),
            &actor,
            "enumerator:add",
            Some(&id.to_string()),
            Some(&areas.join(" ")),
        )?;
        Ok::<_, AdminError>(())
    })?;
    Ok(id)
}

fn area_row(area: &Area) -> enumerators::AreaRow<'_> {
    enumerators::AreaRow {
        region: area.region.as_str(),
        rw: area.rw.as_ref().map(Rw::as_str),
        rt: area.rt.as_ref().map(Rt::as_str),
    }
}

/// Gives an enumerator one more area; its phones pull all of the area's households next.
pub fn add_area(db: &Db, enumerator: EnumeratorId, area: Area) -> Result<(), AdminError> {
    db.write_blocking(move |tx| add_area_in(tx, CLI, enumerator, &area))
}

/// Gives an enumerator one more area inside `tx`, recorded in the audit log as done by `actor`.
pub fn add_area_in(
    tx: Conn<'_>,
    actor: &str,
    enumerator: EnumeratorId,
    area: &Area,
) -> Result<(), AdminError> {
    require_enumerator(tx, enumerator)?;
    let at = Timestamp::now_utc().unix_millis();
    enumerators::add_area(tx, &enumerator.to_string(), area_row(area), at)?;
    crate::households::touch_area(tx, &area.region, area.rw.as_ref(), area.rt.as_ref())?;
    crate::audit::record_in(
        tx,
        Some(area.region.as_str()),
        actor,
        "area:add",
        Some(&enumerator.to_string()),
        Some(&area_text(area)),
    )?;
    Ok(())
}

/// Takes an area from an enumerator. The area is kept, marked removed: visits finished there
/// before the phone heard of it are still accepted (flagged), and the next pull tells the phone
/// which households left. `false` if the enumerator had no such area.
pub fn remove_area(db: &Db, enumerator: EnumeratorId, area: Area) -> Result<bool, AdminError> {
    db.write_blocking(move |tx| remove_area_in(tx, CLI, enumerator, &area))
}

/// Takes an area from an enumerator inside `tx`, recorded as done by `actor`; `false` if they had
/// no such area.
pub fn remove_area_in(
    tx: Conn<'_>,
    actor: &str,
    enumerator: EnumeratorId,
    area: &Area,
) -> Result<bool, AdminError> {
    require_enumerator(tx, enumerator)?;
    let seq = store::households::next_change_seq(tx)?;
    let at = Timestamp::now_utc().unix_millis();
    let removed = enumerators::remove_area(tx, &enumerator.to_string(), area_row(area), (at, seq))?;
    crate::audit::record_in(
        tx,
        Some(area.region.as_str()),
        actor,
        "area:remove",
        Some(&enumerator.to_string()),
        Some(&area_text(area)),
    )?;
    Ok(removed)
}

fn area_text(area: &Area) -> String {
    let mut text = area.region.to_string();
    for part in [
        area.rw.as_ref().map(Rw::as_str),
        area.rt.as_ref().map(Rt::as_str),
    ]
    .into_iter()
    .flatten()
    {
        text.push('/');
        text.push_str(part);
    }
    text
}

fn require_enumerator(tx: Conn<'_>, enumerator: EnumeratorId) -> Result<(), AdminError> {
    if enumerators::exists(tx, &enumerator.to_string())? {
        Ok(())
    } else {
        Err(AdminError::UnknownEnumerator(enumerator))
    }
}

/// Issues a one-time enrollment code for an enumerator, valid for `valid_for`.
pub fn enrollment_code(
    db: &Db,
    enumerator: EnumeratorId,
    valid_for: Duration,
) -> Result<String, AdminError> {
    enrollment_code_by(db, CLI, enumerator, valid_for)
}

/// The same, recorded in the audit log as issued by `actor`.
pub fn enrollment_code_by(
    db: &Db,
    actor: &str,
    enumerator: EnumeratorId,
    valid_for: Duration,
) -> Result<String, AdminError> {
    let actor = actor.to_owned();
    let code = tokens::new_enrollment_code().map_err(|e| AdminError::Random(e.to_string()))?;
    let code_hash = tokens::hash(&tokens::normalise_code(&code));
    let expires_at = Timestamp(Timestamp::now_utc().0 + valid_for).unix_millis();
    db.write_blocking(move |tx| {
        require_enumerator(tx, enumerator)?;
        devices::issue_code(tx, &code_hash, &enumerator.to_string(), expires_at)?;
        // Never the code itself: whoever reads the log must not be able to enroll with it.
        let until =
            serde_json::json!({"valid_until": Timestamp::from_unix_millis(expires_at)}).to_string();
        crate::audit::record(
            tx,
            &actor,
            "enrollment-code:issue",
            Some(&enumerator.to_string()),
            Some(&until),
        )?;
        Ok::<_, AdminError>(())
    })?;
    Ok(code)
}

/// Creates a supervisor who works on `region` and everything inside it, in `role`. Returns the id
/// and the API token, shown once.
pub fn add_supervisor(
    db: &Db,
    name: &str,
    region: RegionCode,
    role: Role,
) -> Result<(UserId, String), AdminError> {
    add_supervisor_by(db, CLI, name, region, role)
}

/// The same, recorded in the audit log as done by `actor`.
pub fn add_supervisor_by(
    db: &Db,
    actor: &str,
    name: &str,
    region: RegionCode,
    role: Role,
) -> Result<(UserId, String), AdminError> {
    let id = UserId(uuid::Uuid::new_v4());
    let token = tokens::new_token().map_err(|e| AdminError::Random(e.to_string()))?;
    let (name, token_hash) = (name.trim().to_owned(), tokens::hash(&token));
    let actor = actor.to_owned();
    db.write_blocking(move |tx| {
        supervisors::insert(
            tx,
            &supervisors::NewSupervisor {
                user_id: &id.to_string(),
                name: &name,
                region: region.as_str(),
                token_hash: &token_hash,
                role: role.code(),
                created_at: Timestamp::now_utc().unix_millis(),
            },
        )?;
        let detail = format!("{} {}", region.as_str(), role.code());
        crate::audit::record_in(
            tx,
            Some(region.as_str()),
            &actor,
            "supervisor:add",
            Some(&id.to_string()),
            Some(&detail),
        )?;
        Ok::<_, AdminError>(())
    })?;
    Ok((id, token))
}

/// Gives a supervisor a new API token, shown once, or with `rotate == false` none at all: the
/// old token stops working at once either way (a leaked token, a colleague who left). Their
/// browser sign-in is not touched. `None` if no such supervisor.
pub fn replace_supervisor_token(
    db: &Db,
    supervisor: UserId,
    rotate: bool,
) -> Result<Option<Option<String>>, AdminError> {
    let token = if rotate {
        Some(tokens::new_token().map_err(|e| AdminError::Random(e.to_string()))?)
    } else {
        None
    };
    // A revoked token's place holds a value no SHA-256 hex digest can equal.
    let token_hash = token
        .as_deref()
        .map(tokens::hash)
        .unwrap_or_else(|| format!("revoked:{supervisor}"));
    let action = if rotate {
        "supervisor:rotate-token"
    } else {
        "supervisor:revoke-token"
    };
    let changed = db.write_blocking(move |tx| {
        let changed = supervisors::set_token_hash(tx, &supervisor.to_string(), &token_hash)?;
        if changed {
            crate::audit::record(tx, "admin", action, Some(&supervisor.to_string()), None)?;
        }
        Ok::<_, AdminError>(changed)
    })?;
    Ok(changed.then_some(token))
}

/// Takes a login name from whoever holds it (their browser sign-in ends; their API token stays).
pub fn release_login(db: &Db, login: &str) -> Result<(), AdminError> {
    let login = login.trim().to_lowercase();
    db.write_blocking(move |tx| {
        if supervisors::release_login(tx, &login)? {
            crate::audit::record(tx, "admin", "supervisor:release-login", None, Some(&login))?;
        }
        Ok::<_, AdminError>(())
    })
}

/// Gives a supervisor another role (a reviewer who becomes the data officer reporting the list
/// upward, say); it holds from their next call. `false` if no such supervisor.
pub fn set_role(db: &Db, supervisor: UserId, role: Role) -> Result<bool, AdminError> {
    set_role_by(db, CLI, supervisor, role)
}

/// The same, recorded in the audit log as done by `actor`.
pub fn set_role_by(
    db: &Db,
    actor: &str,
    supervisor: UserId,
    role: Role,
) -> Result<bool, AdminError> {
    let actor = actor.to_owned();
    db.write_blocking(move |tx| {
        let changed = supervisors::set_role(tx, &supervisor.to_string(), role.code())?;
        crate::audit::record(
            tx,
            &actor,
            "supervisor:set-role",
            Some(&supervisor.to_string()),
            Some(role.code()),
        )?;
        Ok::<_, AdminError>(changed)
    })
}

/// Revokes a device: its token stops working at once. `false` if no such active device.
pub fn revoke_device(db: &Db, device: DeviceId) -> Result<bool, AdminError> {
    revoke_device_by(db, CLI, device)
}

/// The same, recorded in the audit log as done by `actor`.
pub fn revoke_device_by(db: &Db, actor: &str, device: DeviceId) -> Result<bool, AdminError> {
    let actor = actor.to_owned();
    db.write_blocking(move |tx| {
        let revoked = devices::revoke(tx, &device.to_string(), Timestamp::now_utc().unix_millis())?;
        crate::audit::record(tx, &actor, "device:revoke", Some(&device.to_string()), None)?;
        Ok::<_, AdminError>(revoked)
    })
}
