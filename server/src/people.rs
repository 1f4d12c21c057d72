//! The district's supervisors managed from the browser (issue 14, item 4): an admin adds a
//! supervisor of their region with a role and a first password, changes a role, and resets a
//! password (which ends that person's sessions). The CLI's operations (`admin`, `sessions`),
//! inside the admin's region and recorded in the audit log under their name.

use verivali_core::model::{Code, Labelled, RegionCode, UserId};

use crate::admin::{self, AdminError};
use crate::auth::SupervisorAuth;
use crate::db::Db;
use crate::error::{self, ApiError};
use crate::roles::{self, Role};
use crate::sessions::{self, SessionError};
use crate::store::supervisors;
use crate::supervision::region_in_scope;
use crate::team::blocking;

/// A supervisor as the people page lists them.
#[derive(Debug, Clone)]
pub struct PersonLine {
    pub id: String,
    pub name: String,
    pub login: Option<String>,
    pub region: String,
    pub role: Role,
}

/// The supervisors whose region lies in `who`'s (narrowed to `region` if asked).
pub async fn people(
    db: &Db,
    who: &SupervisorAuth,
    region: Option<&str>,
) -> Result<(RegionCode, Vec<PersonLine>), ApiError> {
    who.check_role(roles::MANAGE)?;
    let region = region_in_scope(who, region)?;
    let asked = region.clone();
    let people = db
        .read(move |conn| {
            let people = supervisors::in_region(conn, asked.as_str())?
                .into_iter()
                .map(|p| PersonLine {
                    role: Role::from_code(&p.role).unwrap_or(Role::Viewer),
                    id: p.user_id,
                    name: p.name,
                    login: p.login,
                    region: p.region,
                })
                .collect();
            Ok::<_, ApiError>(people)
        })
        .await?;
    Ok((region, people))
}

/// What the add form sends.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub name: String,
    pub login: String,
    pub region: String,
    pub role: String,
    pub password: String,
}

/// Adds a supervisor of the admin's region with a sign-in; their API token is not shown (the
/// CLI gives one when a script needs it).
pub async fn add(db: &Db, who: &SupervisorAuth, new: NewPerson) -> Result<UserId, ApiError> {
    who.check_role(roles::MANAGE)?;
    let region = region_in_scope(who, Some(new.region.trim()))?;
    let role = role(&new.role)?;
    if new.name.trim().is_empty() || new.login.trim().is_empty() {
        return Err(ApiError::bad_request(error::MALFORMED));
    }
    check_password(&new.password)?;
    let login = new.login.trim().to_lowercase();
    let asked = login.clone();
    let taken = db
        .read(move |conn| {
            let taken = supervisors::holder_of_login(conn, &asked)?;
            Ok::<_, ApiError>(taken.is_some())
        })
        .await?;
    if taken {
        return Err(ApiError::bad_request(error::LOGIN_TAKEN));
    }
    let (db, actor) = (db.clone(), who.actor());
    blocking(move || {
        let (id, _token) = admin::add_supervisor_by(&db, &actor, &new.name, region, role)?;
        sessions::set_password_by(&db, &actor, id, &login, &new.password)?;
        Ok(id)
    })
    .await
}

/// Gives a supervisor of the region another role; an admin may not change their own.
pub async fn set_role(
    db: &Db,
    who: &SupervisorAuth,
    person: UserId,
    role_code: &str,
) -> Result<(), ApiError> {
    who.check_role(roles::MANAGE)?;
    let role = role(role_code)?;
    if person == who.user_id {
        return Err(ApiError::bad_request(error::OWN_ROLE));
    }
    in_scope(db, who, person).await?;
    let (db, actor) = (db.clone(), who.actor());
    blocking(move || admin::set_role_by(&db, &actor, person, role)).await?;
    Ok(())
}

/// Sets a supervisor's password (and login name, kept if left empty); their sessions end.
pub async fn reset_password(
    db: &Db,
    who: &SupervisorAuth,
    person: UserId,
    password: String,
) -> Result<(), ApiError> {
    who.check_role(roles::MANAGE)?;
    check_password(&password)?;
    let login = in_scope(db, who, person)
        .await?
        .unwrap_or_else(|| person.to_string());
    let (db, actor) = (db.clone(), who.actor());
    blocking(move || {
        sessions::set_password_by(&db, &actor, person, &login, &password).map_err(AdminError::from)
    })
    .await
}

/// 404 unless the supervisor's region lies in the admin's; their login name, if any.
async fn in_scope(
    db: &Db,
    who: &SupervisorAuth,
    person: UserId,
) -> Result<Option<String>, ApiError> {
    let scope = who.scope.clone();
    db.read(move |conn| {
        let found = supervisors::region_and_login(conn, &person.to_string())?;
        match found {
            Some((region, login))
                if RegionCode::parse(&region).is_ok_and(|r| scope.contains(&r)) =>
            {
                Ok(login)
            }
            _ => Err(ApiError::not_found()),
        }
    })
    .await
}

fn role(code: &str) -> Result<Role, ApiError> {
    Role::from_code(code).ok_or_else(|| ApiError::bad_request(error::MALFORMED))
}

fn check_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < sessions::MIN_PASSWORD_CHARS {
        return Err(ApiError::bad_request(error::WEAK_PASSWORD));
    }
    Ok(())
}

impl From<SessionError> for ApiError {
    /// What the admin typed is refused with its own code.
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::WeakPassword => ApiError::bad_request(error::WEAK_PASSWORD),
            SessionError::LoginTaken => ApiError::bad_request(error::LOGIN_TAKEN),
            SessionError::UnknownSupervisor => ApiError::not_found(),
            other => ApiError::internal(other),
        }
    }
}
