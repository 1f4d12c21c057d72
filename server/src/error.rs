//! The one error type of the HTTP API. Every error answers with a stable code and the message in
//! Bahasa Indonesia and English (`ErrorBody`); server faults are logged and answer 500 without
//! internals.

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use verivali_core::protocol::ErrorBody;

use crate::db::DbError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    /// A person was refused data outside their scope or role: the answer carries it to
    /// [`crate::audit::record_denials`], which writes it to the audit log.
    pub denied: Option<Box<Denied>>,
}

/// Who was refused what, for the audit log.
#[derive(Debug, Clone)]
pub struct Denied {
    pub actor: String,
    pub asked: String,
}

/// An API error code with its two messages.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode {
    pub code: &'static str,
    pub message_id: &'static str,
    pub message_en: &'static str,
}

macro_rules! codes {
    ($($name:ident = $code:literal, $id:literal, $en:literal;)+) => {
        $(pub const $name: ErrorCode = ErrorCode { code: $code, message_id: $id, message_en: $en };)+
    };
}

codes! {
    MALFORMED = "API-01", "Permintaan tidak dapat dibaca.", "The request could not be read.";
    TOO_LARGE = "API-02", "Permintaan terlalu besar.", "The request is too large.";
    UNAUTHORIZED = "AUTH-01", "Perangkat atau pengguna tidak dikenal, atau sudah dicabut.", "Unknown or revoked device or user.";
    BAD_LOGIN = "AUTH-03", "Nama pengguna atau kata sandi salah.", "Wrong login name or password.";
    FORBIDDEN = "AUTH-02", "Anda tidak berwenang atas data ini.", "You are not allowed to access this data.";
    ROLE_FORBIDS = "AUTH-04", "Peran Anda tidak mengizinkan tindakan ini.", "Your role does not allow this.";
    BAD_ENROLLMENT_CODE = "ENR-01", "Kode pendaftaran tidak berlaku, kedaluwarsa, atau sudah dipakai.", "The enrollment code is invalid, expired or already used.";
    DEVICE_EXISTS = "ENR-02", "Perangkat ini sudah terdaftar.", "This device is already enrolled.";
    TOO_MANY_ATTEMPTS = "ENR-03", "Terlalu banyak percobaan. Coba lagi sebentar lagi.", "Too many attempts. Try again shortly.";
    TOO_MANY_ITEMS = "SYN-09", "Terlalu banyak kunjungan dalam satu kiriman (maks. 500).", "Too many visits in one push (at most 500).";
    BAD_CURSOR = "SYN-10", "Kursor sinkronisasi tidak valid.", "Invalid sync cursor.";
    NOT_FOUND = "API-03", "Tidak ditemukan.", "Not found.";
    BAD_REGION = "API-04", "Kode wilayah tidak valid.", "Invalid region code.";
    BAD_FILTER = "API-05", "Filter tidak dikenal.", "Unknown filter value.";
    BAD_ENCODING = "API-06", "Pemadatan permintaan tidak didukung (pakai gzip).", "The request's content encoding is not supported (use gzip).";
    TOO_SLOW = "API-07", "Permintaan terlalu lama terkirim; coba lagi.", "The request took too long to arrive; try again.";
    EXPORT_TOO_MANY_ROWS = "API-08", "Terlalu banyak keluarga untuk satu lembar XLSX (maks. 1.048.575); unduh CSV, atau per kabupaten.", "Too many households for one XLSX sheet (at most 1,048,575); download a CSV, or one kabupaten at a time.";
    BAD_HASH = "ATT-01", "Nama lampiran harus sha256 (64 digit heksadesimal).", "An attachment is named by its sha256 (64 hex digits).";
    HASH_MISMATCH = "ATT-02", "Isi lampiran tidak cocok dengan sha256-nya; kirim ulang.", "The attachment's bytes do not match its sha256; send it again.";
    WRONG_OFFSET = "ATT-03", "Unggahan dilanjutkan dari posisi lain (lihat Upload-Offset).", "The upload continues at another position (see Upload-Offset).";
    PHOTO_NOT_RECEIVED = "ATT-04", "Foto ini belum diterima dari ponsel.", "This photo has not arrived from the phone yet.";
    UPLOADS_FULL = "ATT-06", "Ruang unggahan server sedang penuh; coba lagi nanti.", "The server's upload space is full; try again later.";
    PHOTO_UNREADABLE = "ATT-05", "Foto ini tidak dapat dibaca sebagai gambar.", "This photo cannot be read as an image.";
    WEAK_PASSWORD = "USR-01", "Kata sandi minimal 10 karakter.", "A password has at least 10 characters.";
    LOGIN_TAKEN = "USR-02", "Nama pengguna ini sudah dipakai.", "This login name is taken.";
    OWN_ROLE = "USR-03", "Anda tidak dapat mengubah peran Anda sendiri; minta admin lain.", "You cannot change your own role; ask another admin.";
    CAMPAIGN_OVERLAPS = "CMP-01", "Kampanye ini bertumpang tindih dengan kampanye lain di wilayah yang sama atau di dalamnya.", "This campaign overlaps another one of the same region or of one inside it.";
    CAMPAIGN_DATES = "CMP-02", "Nama dan tanggal kampanye tidak valid (tanggal akhir tidak boleh sebelum tanggal mulai; paling lama setahun).", "The campaign's name or dates are not valid (it may not end before it starts, and lasts a year at most).";
    APP_TOO_OLD = "APP-01", "Versi aplikasi ini terlalu lama untuk server; perbarui aplikasi Verivali. Kunjungan yang belum terkirim tetap aman di HP.", "This app version is too old for the server; update the Verivali app. Visits not yet sent stay safe on the phone.";
    DISK_NEARLY_FULL = "OPS-01", "Ruang disk server hampir habis.", "The server's disk is nearly full.";
    DISK_FULL = "OPS-04", "Disk server penuh: data belum disimpan. Data tetap aman di ponsel; kirim lagi nanti.", "The server's disk is full: nothing was stored. The data stays safe on the phone; send it again later.";
    WRITER_STUCK = "OPS-02", "Penulisan basis data server macet.", "The server's database writer is stuck.";
    NO_METRICS_HERE = "OPS-03", "Metrik hanya untuk alamat yang diizinkan.", "Metrics are for allowed addresses only.";
    NO_LIST_FILE = "IMP-24", "Pilih berkas keluarga (CSV atau XLSX) untuk diimpor.", "Choose a family file (CSV or XLSX) to import.";
    INTERNAL = "API-99", "Terjadi kesalahan di server. Data Anda aman; coba lagi.", "Server error. Your data is safe; try again.";
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode) -> Self {
        Self {
            status,
            body: ErrorBody {
                code: code.code.to_owned(),
                message_id: code.message_id.to_owned(),
                message_en: code.message_en.to_owned(),
                field: None,
            },
            denied: None,
        }
    }

    pub fn bad_request(code: ErrorCode) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code)
    }

    /// 404: no such thing, or one the asker may not know of.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, NOT_FOUND)
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, UNAUTHORIZED)
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, FORBIDDEN)
    }

    /// 403 for `actor`, who asked for `asked` outside their scope or role; audited.
    pub fn denied(actor: String, asked: impl std::fmt::Display) -> Self {
        Self {
            denied: Some(Box::new(Denied {
                actor,
                asked: asked.to_string(),
            })),
            ..Self::forbidden()
        }
    }

    /// 403 for `actor`, whose role does not allow `power`; audited like a refusal of scope.
    pub fn role_forbids(actor: String, power: &str) -> Self {
        Self {
            denied: Some(Box::new(Denied {
                actor,
                asked: format!("role:{power}"),
            })),
            ..Self::new(StatusCode::FORBIDDEN, ROLE_FORBIDS)
        }
    }

    /// The same refusal answered as 404: a household outside the scope looks like one that does
    /// not exist, so that ids cannot be probed. Still audited.
    pub fn hidden(self) -> Self {
        Self {
            denied: self.denied,
            ..Self::new(StatusCode::NOT_FOUND, NOT_FOUND)
        }
    }

    /// 503: nothing was stored and the phone keeps it; the server takes writes again when space
    /// returns, by itself.
    pub fn disk_full(what: impl std::fmt::Display) -> Self {
        tracing::error!(error = %crate::privacy::without_values(&what), "the disk is full");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, DISK_FULL)
    }

    pub fn internal(what: impl std::fmt::Display) -> Self {
        tracing::error!(error = %crate::privacy::without_values(&what), "server fault");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL)
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        if e.is_disk_full() {
            return Self::disk_full(e);
        }
        Self::internal(e)
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::from(e).into()
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        Self::internal(e)
    }
}

/// A body that is not JSON of the expected shape, or too large. The decoder's words (which name the
/// place of the fault) go back to the sender only, never into a log.
impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::new(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE);
        }
        let mut error = Self::bad_request(MALFORMED);
        error.body.message_en = format!(
            "{} ({})",
            MALFORMED.message_en,
            crate::privacy::without_values(&rejection.body_text())
        );
        error
    }
}

/// A body too large, or cut off.
impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::new(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE);
        }
        Self::bad_request(MALFORMED)
    }
}

/// A query string that does not read (`limit=-1`).
impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        let mut error = Self::bad_request(MALFORMED);
        error.body.message_en = format!(
            "{} ({})",
            MALFORMED.message_en,
            crate::privacy::without_values(&rejection.body_text())
        );
        error
    }
}

/// Answers a path no route serves.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, NOT_FOUND)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(denied) = self.denied {
            response.extensions_mut().insert(*denied);
        }
        response
    }
}

/// Answers that the layers under the routes make themselves (a body over its limit, an encoding
/// other than gzip, a request too slow, a fault), put in the API's error contract: JSON with a
/// stable code and both messages, like every other error of `/api/`.
pub async fn in_contract(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
    // A HEAD answer has no body to put the contract in.
    let api =
        request.uri().path().starts_with("/api/") && request.method() != axum::http::Method::HEAD;
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
    if !api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => TOO_LARGE,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => BAD_ENCODING,
        StatusCode::REQUEST_TIMEOUT => TOO_SLOW,
        StatusCode::NOT_FOUND => NOT_FOUND,
        StatusCode::METHOD_NOT_ALLOWED | StatusCode::BAD_REQUEST => MALFORMED,
        s if s.is_server_error() => INTERNAL,
        _ => MALFORMED,
    };
    // The layer's own headers stay (Retry-After, Upload-Offset and the like); those that
    // described the old body go with it.
    let (parts, _) = response.into_parts();
    let mut answer = ApiError::new(status, code).into_response();
    for (name, value) in &parts.headers {
        if ![CONTENT_TYPE, CONTENT_LENGTH, CONTENT_ENCODING].contains(name) {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}
