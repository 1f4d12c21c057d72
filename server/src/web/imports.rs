//! Target lists imported from the browser (issue 14, item 1): upload, choose the columns, watch
//! the progress, read the report as a page or an XLSX. Each step calls [`crate::import::jobs`],
//! which checks the role; the import itself is the CLI's.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use askama::Template;
use axum::extract::{Form, Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;
use verivali_core::model::{Labelled, Source};

use super::page::{Chrome, OrPage, PageError, Viewer, render, unreadable_part};
use crate::error::{self, ApiError};
use crate::import::jobs::{self, Part, Prepared, Status};
use crate::import::{FIELDS, ImportLine, Outcome, RowNote};
use crate::reports::{local_time, utc_offset_hours};
use crate::state::AppState;

pub struct ImportRow {
    pub id: String,
    pub at: String,
    pub by: String,
    pub files: String,
    pub source: String,
    pub outcome: String,
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    chrome: Chrome,
    sources: Vec<(&'static str, &'static str)>,
    imports: Vec<ImportRow>,
}

pub async fn page(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    let imports = jobs::recent(&state.db, &viewer.who)
        .await
        .or_page(&viewer)?;
    let offset = utc_offset_hours(&viewer.who.scope);
    let t = viewer.t();
    let imports = imports
        .into_iter()
        .map(|i| ImportRow {
            id: i.import_id.to_string(),
            at: local_time(i.at, offset),
            by: i.actor,
            files: i.files,
            source: viewer.lang.label_of::<Source>(&i.source),
            outcome: match i.outcome {
                Outcome::Done(r) => format!(
                    "{} {}, {} {}, {} {}",
                    r.added,
                    t.import_added,
                    r.updated,
                    t.import_updated,
                    r.unchanged,
                    t.import_unchanged
                ),
                Outcome::Failed(f) => format!("{} · {}", f.code, t.import_failed),
            },
        })
        .collect();
    let sources = [
        Source::P3ke,
        Source::Dtks,
        Source::Dtsen,
        Source::Regsosek,
        Source::Other,
    ]
    .into_iter()
    .map(|s| (s.code(), viewer.lang.label(s)))
    .collect();
    let page = ImportsPage {
        chrome: viewer.chrome(t.imports_title),
        sources,
        imports,
    };
    Ok(render(StatusCode::OK, &page))
}

/// Receives the files, written to their staging directory as they arrive (a district's
/// individual file is tens of megabytes), then shows the column page.
pub async fn upload(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    mut form: Multipart,
) -> Result<Response, PageError> {
    let (mut csrf_checked, mut source, mut staged) = (false, Source::P3ke.code().to_owned(), None);
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(unreadable_part)
        .or_page(&viewer)?
    {
        let name = field.name().unwrap_or_default().to_owned();
        match (name.as_str(), Part::of_field(&name)) {
            ("csrf", _) => {
                viewer.check_csrf_part(field, &headers).await?;
                csrf_checked = true;
            }
            ("source", _) => {
                source = field
                    .text()
                    .await
                    .map_err(unreadable_part)
                    .or_page(&viewer)?
            }
            (_, Some(part)) => {
                // The form sends its token first: no file is written before it is checked.
                if !csrf_checked {
                    return Err(PageError::Api(ApiError::forbidden(), viewer.lang));
                }
                let file_name = field.file_name().unwrap_or_default().to_owned();
                if file_name.is_empty() {
                    continue;
                }
                if staged.is_none() {
                    staged = Some(
                        jobs::new_upload(&state.config.data_dir, &viewer.who, &source)
                            .or_page(&viewer)?,
                    );
                }
                let Some(staged) = &staged else { continue };
                let path = staged.file_path(part, &file_name).or_page(&viewer)?;
                let mut file = std::fs::File::create(path)
                    .map_err(ApiError::internal)
                    .or_page(&viewer)?;
                // Written a megabyte at a time, off the async threads.
                let mut buffer = Vec::new();
                loop {
                    let chunk = field
                        .chunk()
                        .await
                        .map_err(unreadable_part)
                        .or_page(&viewer)?;
                    let last = chunk.is_none();
                    buffer.extend_from_slice(chunk.as_deref().unwrap_or_default());
                    if last || buffer.len() >= 1 << 20 {
                        (file, buffer) = append(file, buffer).await.or_page(&viewer)?;
                    }
                    if last {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    let staged = staged
        .ok_or_else(|| ApiError::bad_request(error::NO_LIST_FILE))
        .or_page(&viewer)?;
    Ok(Redirect::to(&format!("/imports/{}/columns", staged.id)).into_response())
}

/// Writes `buffer` to the end of `file`; gives both back, the buffer emptied.
async fn append(
    mut file: std::fs::File,
    mut buffer: Vec<u8>,
) -> Result<(std::fs::File, Vec<u8>), ApiError> {
    tokio::task::spawn_blocking(move || {
        file.write_all(&buffer)?;
        buffer.clear();
        Ok((file, buffer))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e: std::io::Error| ApiError::internal(e))
}

pub struct FieldRow {
    pub field: &'static str,
    pub usual: &'static str,
    pub chosen: String,
}

#[derive(Template)]
#[template(path = "import_columns.html")]
struct ColumnsPage {
    chrome: Chrome,
    id: String,
    files: String,
    headers: Vec<String>,
    fields: Vec<FieldRow>,
}

pub async fn columns(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let mapping = jobs::mapping(&state.db, &state.config.data_dir, &viewer.who, id)
        .await
        .or_page(&viewer)?;
    let Prepared::Columns(mapping) = mapping else {
        return Ok(Redirect::to(&format!("/imports/{id}")).into_response());
    };
    let fields = mapping
        .fields
        .into_iter()
        .map(|(field, chosen)| FieldRow {
            field,
            usual: FIELDS
                .iter()
                .find(|(f, _)| *f == field)
                .and_then(|(_, aliases)| aliases.first())
                .copied()
                .unwrap_or_default(),
            chosen: chosen.unwrap_or_default(),
        })
        .collect();
    let page = ColumnsPage {
        chrome: viewer.chrome(viewer.t().imports_columns_title),
        id: id.to_string(),
        files: mapping.files.join(", "),
        headers: mapping.headers,
        fields,
    };
    Ok(render(StatusCode::OK, &page))
}

/// Starts the import with the columns chosen (`map.<field>` = header).
pub async fn start(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    viewer.check_csrf(form.get("csrf").map_or("", String::as_str), &headers)?;
    let columns: BTreeMap<String, String> = form
        .into_iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("map.")?.to_owned(), v)))
        .collect();
    jobs::start(&state.db, &state.config.data_dir, &viewer.who, id, columns)
        .await
        .or_page(&viewer)?;
    Ok(Redirect::to(&format!("/imports/{id}")).into_response())
}

pub struct NoteRow {
    pub file: String,
    pub line: u64,
    pub family: String,
    pub code: String,
    pub reason: String,
}

impl From<RowNote> for NoteRow {
    fn from(n: RowNote) -> Self {
        Self {
            file: n.file,
            line: n.line,
            family: n.family_id,
            code: n.code,
            reason: n.reason,
        }
    }
}

/// The counts and rows of an ended import, or why it failed.
pub enum Ended {
    Done {
        added: usize,
        updated: usize,
        unchanged: usize,
        candidates: usize,
        left_out: Vec<NoteRow>,
        flagged: Vec<NoteRow>,
    },
    Failed {
        code: String,
        message: String,
    },
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    chrome: Chrome,
    id: String,
    files: String,
    at: String,
    by: String,
    /// (rows read, rows in all) while it runs.
    running: Option<(u64, u64)>,
    ended: Option<Ended>,
}

#[derive(Template)]
#[template(path = "import_progress.html")]
struct ProgressFragment {
    chrome: Chrome,
    id: String,
    done: u64,
    total: u64,
}

pub async fn import(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let status = jobs::status(&state.db, &viewer.who, id)
        .await
        .or_page(&viewer)?;
    let mut page = ImportPage {
        chrome: viewer.chrome(viewer.t().import_title),
        id: id.to_string(),
        files: String::new(),
        at: String::new(),
        by: String::new(),
        running: None,
        ended: None,
    };
    match status {
        Status::Running { done, total } => page.running = Some((done, total)),
        Status::Ended(import) => {
            let ImportLine {
                files,
                at,
                actor,
                outcome,
                ..
            } = *import;
            page.files = files;
            page.at = local_time(at, utc_offset_hours(&viewer.who.scope));
            page.by = actor;
            page.ended = Some(match outcome {
                Outcome::Done(r) => Ended::Done {
                    added: r.added,
                    updated: r.updated,
                    unchanged: r.unchanged,
                    candidates: r.removal_candidates,
                    left_out: r.rejected.into_iter().map(NoteRow::from).collect(),
                    flagged: r.flagged.into_iter().map(NoteRow::from).collect(),
                },
                Outcome::Failed(f) => Ended::Failed {
                    message: viewer.lang.message(&f.message_id, &f.message_en).to_owned(),
                    code: f.code,
                },
            });
        }
    }
    Ok(render(StatusCode::OK, &page))
}

/// The progress bar alone, for htmx to swap every second; once the import ended, the whole
/// page is loaded again to show the report.
pub async fn progress(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    match jobs::status(&state.db, &viewer.who, id)
        .await
        .or_page(&viewer)?
    {
        Status::Running { done, total } => {
            let fragment = ProgressFragment {
                chrome: viewer.chrome(""),
                id: id.to_string(),
                done,
                total,
            };
            Ok(render(StatusCode::OK, &fragment))
        }
        Status::Ended(_) => Ok(([("HX-Refresh", "true")], StatusCode::OK).into_response()),
    }
}

pub async fn workbook(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let xlsx = jobs::report_workbook(&state.db, &viewer.who, id)
        .await
        .or_page(&viewer)?;
    let disposition = format!("attachment; filename=\"verivali-laporan-impor-{id}.xlsx\"");
    let headers = [
        (
            header::CONTENT_TYPE,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
        ),
        (header::CONTENT_DISPOSITION, disposition),
        (header::CACHE_CONTROL, "no-store".to_owned()),
    ];
    Ok((headers, xlsx).into_response())
}
