//! The append-only audit log: every review, export and admin action, with who and when
//! (UU 27/2022 asks for a record of processing). The database refuses updates and deletes.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;
use verivali_core::model::{Code, RegionCode, Timestamp};

use crate::auth::SupervisorAuth;
use crate::db::{Db, DbError};
use crate::error::{ApiError, Denied};
use crate::roles;
use crate::state::AppState;
use crate::store::{self, Conn};
use crate::supervision::region_in_scope;

pub use crate::store::audit::AuditEntry;

/// Records an action that concerned no one region (a sign-in, a device revoked, an import).
pub fn record(
    tx: Conn<'_>,
    actor: &str,
    action: &str,
    target: Option<&str>,
    detail: Option<&str>,
) -> Result<(), DbError> {
    record_in(tx, None, actor, action, target, detail)
}

/// Records an action on something of `region` (a household's village, an export's region, an
/// enumerator's area), so that the audit page shows it to that region's admins.
pub fn record_in(
    tx: Conn<'_>,
    region: Option<&str>,
    actor: &str,
    action: &str,
    target: Option<&str>,
    detail: Option<&str>,
) -> Result<(), DbError> {
    store::audit::record(
        tx,
        &store::audit::NewEntry {
            at: Timestamp::now_utc().unix_millis(),
            actor,
            action,
            target,
            detail,
            region,
        },
    )
}

/// Writes to the audit log every refusal an answer carries ([`crate::error::ApiError::denied`]):
/// a person who asked for data outside their region or role, with the path they asked at (ids
/// and regions, never a NIK: none travels in a URL).
pub async fn record_denials(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    if let Some(denied) = response.extensions_mut().remove::<Denied>() {
        let written = state
            .db
            .write(move |tx| {
                record(
                    tx,
                    &denied.actor,
                    "access:denied",
                    Some(&denied.asked),
                    Some(&path),
                )
            })
            .await;
        if let Err(e) = written {
            tracing::error!(error = %e, "a refusal could not be audited");
        }
    }
    response
}

/// What the audit page asks for: everything of the admin's region, newest first, narrowed by
/// person (an actor as logged, or part of a supervisor's name), action and region.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub who: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    /// Entries older than this one (the next page).
    #[serde(default)]
    pub before: Option<i64>,
}

/// Entries a page shows.
pub const PAGE: usize = 100;
/// Entries a download holds at most.
const DOWNLOAD: usize = 100_000;

/// A page of the log as the query narrows it, with the actions there are to filter by.
#[derive(Debug)]
pub struct AuditPage {
    pub region: RegionCode,
    pub entries: Vec<AuditEntry>,
    pub actions: Vec<String>,
    /// The `before` of the next page, when there is one.
    pub next: Option<i64>,
}

/// The audit log for an admin: entries of their region (or of a region inside it), and those that
/// concern no region (sign-ins, imports, devices) when the whole scope is asked. Reading it is
/// audited too.
pub async fn read_log(db: &Db, who: &SupervisorAuth, q: AuditQuery) -> Result<AuditPage, ApiError> {
    let selection = Selection::of(who, q)?;
    let region = selection.region.clone();
    let (mut entries, actions) = db
        .read(move |conn| {
            let entries = entries(conn, &selection, PAGE + 1)?;
            Ok::<_, ApiError>((entries, store::audit::actions(conn)?))
        })
        .await?;
    let next = (entries.len() > PAGE).then(|| entries[PAGE - 1].seq);
    entries.truncate(PAGE);
    record_reading(db, who, &region, "audit:read").await?;
    Ok(AuditPage {
        region,
        entries,
        actions,
        next,
    })
}

/// The same entries as a CSV file (up to 100,000, newest first); audited.
pub async fn download_log(
    db: &Db,
    who: &SupervisorAuth,
    q: AuditQuery,
) -> Result<Vec<u8>, ApiError> {
    let selection = Selection::of(who, q)?;
    let region = selection.region.clone();
    let entries = db
        .read(move |conn| Ok::<_, ApiError>(entries(conn, &selection, DOWNLOAD)?))
        .await?;
    let csv = entries_csv(&entries).map_err(ApiError::internal)?;
    record_reading(db, who, &region, "audit:export").await?;
    Ok(csv)
}

/// The entries a query asks for, as an admin may see them.
struct Selection {
    region: RegionCode,
    /// Entries that concern no region, shown with the whole scope only.
    with_regionless: bool,
    query: AuditQuery,
}

impl Selection {
    /// 403 unless `who` is an admin and the region asked lies in their scope.
    fn of(who: &SupervisorAuth, query: AuditQuery) -> Result<Self, ApiError> {
        who.check_role(roles::AUDIT)?;
        let region = region_in_scope(who, query.region.as_deref())?;
        Ok(Self {
            with_regionless: region == who.scope,
            region,
            query,
        })
    }
}

pub async fn record_reading(
    db: &Db,
    who: &SupervisorAuth,
    region: &RegionCode,
    action: &'static str,
) -> Result<(), ApiError> {
    let (actor, region) = (who.actor(), region.to_string());
    db.write(move |tx| record_in(tx, Some(&region), &actor, action, Some(&region), None))
        .await
        .map_err(ApiError::from)
}

fn entries(
    conn: Conn<'_>,
    selection: &Selection,
    limit: usize,
) -> Result<Vec<AuditEntry>, DbError> {
    let q = &selection.query;
    let blank = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let who = blank(&q.who);
    let name_part = who
        .as_ref()
        .map(|w| format!("%{}%", w.replace(['%', '_'], "")));
    let action = blank(&q.action);
    store::audit::entries(
        conn,
        &store::audit::Selected {
            region: selection.region.as_str(),
            with_regionless: selection.with_regionless,
            actor: who.as_deref(),
            name_part: name_part.as_deref(),
            action: action.as_deref(),
            before: q.before,
            limit: i64::try_from(limit).unwrap_or(i64::MAX),
        },
    )
}

fn entries_csv(entries: &[AuditEntry]) -> Result<Vec<u8>, csv::Error> {
    // A byte-order mark, as in the households' export, for Excel.
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        writer.write_record([
            "seq",
            "at_utc",
            "actor",
            "actor_name",
            "action",
            "region",
            "target",
            "detail",
        ])?;
        for e in entries {
            let at =
                e.at.0
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
            writer.write_record([
                e.seq.to_string().as_str(),
                &at,
                &e.actor,
                e.actor_name.as_deref().unwrap_or(""),
                &e.action,
                e.region.as_deref().unwrap_or(""),
                e.target.as_deref().unwrap_or(""),
                e.detail.as_deref().unwrap_or(""),
            ])?;
        }
        writer.flush()?;
    }
    Ok(out)
}
