//! Supervisors as their calls are authenticated ([`crate::auth`]), their logins and browser
//! sessions ([`crate::sessions`]).

use super::Conn;
use super::sql::Row;
use crate::db::DbError;

/// A supervisor not revoked, as stored.
#[derive(Debug)]
pub struct StoredSupervisor {
    pub user_id: String,
    pub name: String,
    pub region: String,
    pub role: String,
}

fn stored_supervisor(r: &Row<'_>) -> Result<StoredSupervisor, DbError> {
    Ok(StoredSupervisor {
        user_id: r.get(0)?,
        name: r.get(1)?,
        region: r.get(2)?,
        role: r.get(3)?,
    })
}

/// The supervisor whose API token has the hash `token_hash`.
pub fn by_token(conn: Conn<'_>, token_hash: &str) -> Result<Option<StoredSupervisor>, DbError> {
    conn.optional_row(
        "SELECT user_id, name, region, role FROM supervisors
         WHERE token_hash = ?1 AND revoked_at IS NULL",
        &[&token_hash],
        stored_supervisor,
    )
}

/// The supervisor of the browser session whose token has the hash `token_hash`, if the session
/// is open at `now`.
pub fn by_session(
    conn: Conn<'_>,
    token_hash: &str,
    now: i64,
) -> Result<Option<StoredSupervisor>, DbError> {
    conn.optional_row(
        "SELECT s.user_id, s.name, s.region, s.role
         FROM sessions x JOIN supervisors s ON s.user_id = x.user_id
         WHERE x.token_hash = ?1 AND x.ended_at IS NULL AND x.expires_at > ?2
           AND s.revoked_at IS NULL",
        &[&token_hash, &now],
        stored_supervisor,
    )
}

/// The supervisor holding login name `login`.
pub fn holder_of_login(conn: Conn<'_>, login: &str) -> Result<Option<String>, DbError> {
    conn.optional_value(
        "SELECT user_id FROM supervisors WHERE login = ?1",
        &[&login],
    )
}

/// Gives a supervisor a login name and a password hash; whether the supervisor exists.
pub fn set_login(
    conn: Conn<'_>,
    user_id: &str,
    login: &str,
    password_hash: &str,
) -> Result<bool, DbError> {
    Ok(conn.execute(
        "UPDATE supervisors SET login = ?2, password_hash = ?3 WHERE user_id = ?1",
        &[&user_id, &login, &password_hash],
    )? > 0)
}

/// The supervisor a login name belongs to and their password's hash, unless revoked or without
/// a password.
pub fn password_of(conn: Conn<'_>, login: &str) -> Result<Option<(String, String)>, DbError> {
    conn.optional_row(
        "SELECT user_id, password_hash FROM supervisors
         WHERE login = ?1 AND password_hash IS NOT NULL AND revoked_at IS NULL",
        &[&login],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// A supervisor's name and region.
pub fn name_and_region(conn: Conn<'_>, user_id: &str) -> Result<(String, String), DbError> {
    conn.row(
        "SELECT name, region FROM supervisors WHERE user_id = ?1",
        &[&user_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Starts a browser session, known by its token's hash.
pub fn start_session(
    conn: Conn<'_>,
    token_hash: &str,
    user_id: &str,
    (created_at, expires_at): (i64, i64),
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4)",
        &[&token_hash, &user_id, &created_at, &expires_at],
    )?;
    Ok(())
}

/// Ends the session whose token has the hash `token_hash`, if open.
pub fn end_session(conn: Conn<'_>, token_hash: &str, at: i64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE sessions SET ended_at = ?2 WHERE token_hash = ?1 AND ended_at IS NULL",
        &[&token_hash, &at],
    )?;
    Ok(())
}

/// Ends every open session of a supervisor.
pub fn end_sessions_of(conn: Conn<'_>, user_id: &str, at: i64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE sessions SET ended_at = ?2 WHERE user_id = ?1 AND ended_at IS NULL",
        &[&user_id, &at],
    )?;
    Ok(())
}

/// A supervisor not revoked, as the people page lists them.
#[derive(Debug)]
pub struct Person {
    pub user_id: String,
    pub name: String,
    pub login: Option<String>,
    pub region: String,
    pub role: String,
}

/// The supervisors not revoked whose region lies in `region`, by region and name.
pub fn in_region(conn: Conn<'_>, region: &str) -> Result<Vec<Person>, DbError> {
    conn.rows(
        "SELECT user_id, name, login, region, role FROM supervisors
         WHERE revoked_at IS NULL AND region >= ?1 AND region < ?1 || '/'
         ORDER BY region, name",
        &[&region],
        |r| {
            Ok(Person {
                user_id: r.get(0)?,
                name: r.get(1)?,
                login: r.get(2)?,
                region: r.get(3)?,
                role: r.get(4)?,
            })
        },
    )
}

/// A supervisor's region and login name, unless revoked.
pub fn region_and_login(
    conn: Conn<'_>,
    user_id: &str,
) -> Result<Option<(String, Option<String>)>, DbError> {
    conn.optional_row(
        "SELECT region, login FROM supervisors WHERE user_id = ?1 AND revoked_at IS NULL",
        &[&user_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// A supervisor added.
#[derive(Debug)]
pub struct NewSupervisor<'a> {
    pub user_id: &'a str,
    pub name: &'a str,
    pub region: &'a str,
    pub token_hash: &'a str,
    pub role: &'a str,
    pub created_at: i64,
}

pub fn insert(conn: Conn<'_>, new: &NewSupervisor<'_>) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO supervisors (user_id, name, region, token_hash, created_at, role)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[
            &new.user_id,
            &new.name,
            &new.region,
            &new.token_hash,
            &new.created_at,
            &new.role,
        ],
    )?;
    Ok(())
}

/// Replaces a supervisor's API token (by its hash); whether the supervisor exists.
pub fn set_token_hash(conn: Conn<'_>, user_id: &str, token_hash: &str) -> Result<bool, DbError> {
    Ok(conn.execute(
        "UPDATE supervisors SET token_hash = ?2 WHERE user_id = ?1",
        &[&user_id, &token_hash],
    )? > 0)
}

/// Takes a login name (and its password) from whoever holds it; whether someone did.
pub fn release_login(conn: Conn<'_>, login: &str) -> Result<bool, DbError> {
    Ok(conn.execute(
        "UPDATE supervisors SET login = NULL, password_hash = NULL WHERE login = ?1",
        &[&login],
    )? > 0)
}

/// Gives a supervisor another role; whether the supervisor exists.
pub fn set_role(conn: Conn<'_>, user_id: &str, role: &str) -> Result<bool, DbError> {
    Ok(conn.execute(
        "UPDATE supervisors SET role = ?2 WHERE user_id = ?1",
        &[&user_id, &role],
    )? == 1)
}
