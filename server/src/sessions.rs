//! Supervisors in the browser (DESIGN §9): a login name and a password, stored as an argon2 hash,
//! and a session cookie. The cookie holds a random token the server keeps only as its sha256; it is
//! `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page can send it, which is
//! the defence against cross-site requests) and `Secure`. The API keeps its bearer tokens.

use std::net::IpAddr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::http::StatusCode;
use verivali_core::model::{Timestamp, UserId};

use crate::db::{Db, DbError};
use crate::error::{self, ApiError};
use crate::limits::SignInLimits;
use crate::store::{Conn, supervisors};
use crate::tokens;

pub const COOKIE: &str = "verivali_session";
/// A working day in the office, and a bit.
pub const SESSION_HOURS: i64 = 12;
/// Long enough that guessing is hopeless with sign-ins rate-limited; no rules on character kinds.
pub const MIN_PASSWORD_CHARS: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("a password has at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    #[error("no such supervisor")]
    UnknownSupervisor,
    #[error("the login name is taken")]
    LoginTaken,
    #[error("random numbers: {0}")]
    Random(String),
    #[error("password hash: {0}")]
    Hash(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

fn hash_password(password: &str) -> Result<String, SessionError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| SessionError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| SessionError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| SessionError::Hash(e.to_string()))
}

/// Gives a supervisor a login name and a password (admin CLI). Their sessions end.
pub fn set_password(
    db: &Db,
    supervisor: UserId,
    login: &str,
    password: &str,
) -> Result<(), SessionError> {
    set_password_by(db, crate::admin::CLI, supervisor, login, password)
}

/// The same, recorded in the audit log as done by `actor`.
pub fn set_password_by(
    db: &Db,
    actor: &str,
    supervisor: UserId,
    login: &str,
    password: &str,
) -> Result<(), SessionError> {
    let actor = actor.to_owned();
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(SessionError::WeakPassword);
    }
    let (hash, login) = (hash_password(password)?, login.trim().to_lowercase());
    db.write_blocking(move |conn| {
        let id = supervisor.to_string();
        let taken = supervisors::holder_of_login(conn, &login)?;
        if taken.is_some_and(|holder| holder != id) {
            return Err(SessionError::LoginTaken);
        }
        if !supervisors::set_login(conn, &id, &login, &hash)? {
            return Err(SessionError::UnknownSupervisor);
        }
        supervisors::end_sessions_of(conn, &id, Timestamp::now_utc().unix_millis())?;
        crate::audit::record(
            conn,
            &actor,
            "supervisor:set-password",
            Some(&supervisor.to_string()),
            None,
        )?;
        Ok(())
    })
}

/// A session just started: the cookie's token (shown once) and who signed in.
pub struct NewSession {
    pub token: String,
    pub user_id: UserId,
    pub name: String,
    pub region: String,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// Signs a supervisor in with a login name and password, for the API and the sign-in page alike:
/// 429 once the login name or the address has used up its failures, 401 (`AUTH-03`) for a wrong
/// name or password.
pub async fn sign_in(
    db: &Db,
    limits: &std::sync::Arc<SignInLimits>,
    ip: IpAddr,
    login: String,
    password: String,
) -> Result<NewSession, ApiError> {
    let too_many = || ApiError::new(StatusCode::TOO_MANY_REQUESTS, error::TOO_MANY_ATTEMPTS);
    let attempt = limits
        .try_take(db, &login, ip)
        .await?
        .ok_or_else(too_many)?;
    let tried = login.trim().to_lowercase();
    let stored = db
        .read(move |conn| supervisors::password_of(conn, &login.trim().to_lowercase()))
        .await?;
    // argon2 is slow on purpose: on the blocking pool, a few at a time, never holding one of
    // the database's read connections.
    let user = {
        let _permit = limits.checks.acquire().await.map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(move || check_password(stored, &password))
            .await
            .map_err(ApiError::internal)?
    };
    let Some(user_id) = user else {
        // Who tried is an address; the login name they tried is the target (never the password).
        db.write(move |tx| {
            let actor = format!("address:{ip}");
            crate::audit::record(tx, &actor, "session:failed", Some(&tried), None)
        })
        .await?;
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, error::BAD_LOGIN));
    };
    db.write(move |tx| {
        attempt.succeeded(tx)?;
        let token = start(tx, user_id).map_err(ApiError::internal)?;
        let (name, region) = supervisors::name_and_region(tx, &user_id.to_string())?;
        Ok(NewSession {
            token,
            user_id,
            name,
            region,
        })
    })
    .await
}

/// The supervisor whose stored password `password` is. Blocking: argon2 takes tens of
/// milliseconds on purpose.
fn check_password(stored: Option<(String, String)>, password: &str) -> Option<UserId> {
    // An unknown name costs the same time as a wrong password, so that names cannot be probed.
    let hash = stored
        .as_ref()
        .map_or(UNKNOWN_LOGIN_HASH, |(_, hash)| hash.as_str());
    let matches = PasswordHash::new(hash).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    });
    match stored {
        Some((id, _)) if matches => UserId::parse(&id).ok(),
        _ => None,
    }
}

/// A valid argon2 hash of a password no one knows, checked against for unknown names.
const UNKNOWN_LOGIN_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$UCtKwC3a6E8rfT4NNeYkE4e5ThGvJ4NsoF0YqZRYa3c";

/// Starts a session; gives the cookie's token (shown once, stored as a hash).
pub fn start(tx: Conn<'_>, supervisor: UserId) -> Result<String, SessionError> {
    let token = tokens::new_token().map_err(|e| SessionError::Random(e.to_string()))?;
    let now = Timestamp::now_utc().unix_millis();
    supervisors::start_session(
        tx,
        &tokens::hash(&token),
        &supervisor.to_string(),
        (now, now + SESSION_HOURS * 3_600_000),
    )?;
    crate::audit::record(
        tx,
        &format!("supervisor:{supervisor}"),
        "session:start",
        None,
        None,
    )?;
    Ok(token)
}

/// Ends the session of a cookie's token.
pub fn end(tx: Conn<'_>, token: &str) -> Result<(), DbError> {
    supervisors::end_session(tx, &tokens::hash(token), Timestamp::now_utc().unix_millis())
}

/// The `Set-Cookie` value that carries a session.
pub fn cookie(token: &str) -> String {
    format!(
        "{COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
        SESSION_HOURS * 3600
    )
}

/// The `Set-Cookie` value that removes it.
pub fn removed_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0")
}

/// The session token a request's `Cookie` headers carry, if any.
pub fn token_in(headers: &axum::http::HeaderMap) -> Option<&str> {
    cookie_value(headers, COOKIE)
}

/// The value of the cookie `name` among a request's `Cookie` headers, if set and not empty.
pub fn cookie_value<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unknown_login_hash_is_a_valid_hash_of_an_unknown_password() {
        let hash = PasswordHash::new(UNKNOWN_LOGIN_HASH).unwrap();
        assert!(Argon2::default().verify_password(b"", &hash).is_err());
        let made = hash_password("kata sandi panjang").unwrap();
        let made = PasswordHash::new(&made).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"kata sandi panjang", &made)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"kata sandi salah", &made)
                .is_err()
        );
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            "tema=gelap; verivali_session=abc123; bahasa=id"
                .parse()
                .unwrap(),
        );
        assert_eq!(token_in(&headers), Some("abc123"));
        assert_eq!(token_in(&axum::http::HeaderMap::new()), None);
    }
}
