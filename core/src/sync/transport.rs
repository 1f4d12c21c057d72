//! HTTP for the phone: one blocking client over rustls (Mozilla's roots, or only a district's own
//! CA when one is pinned), gzip bodies, and retries with backoff on network errors and 5xx answers
//! (and 429), never on other 4xx answers, which would fail the same way again.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde::de::DeserializeOwned;

use super::{SyncConfig, SyncError};
use crate::protocol::{APP_VERSION_HEADER, ErrorBody, PhoneReport};

pub(super) struct Transport {
    http: Client,
    api: String,
    token: Option<String>,
    config: SyncConfig,
}

/// How one attempt ended.
enum Attempt<T> {
    Done(T),
    /// Worth another try after a pause: the network failed, or the server was unwell.
    Retry(SyncError),
    Fail(SyncError),
}

impl Transport {
    pub(super) fn new(config: &SyncConfig, token: Option<String>) -> Result<Self, SyncError> {
        super::install_tls_provider();
        let http = Client::builder()
            .tls_backend_preconfigured(tls_config(config.ca_certificate_pem.as_deref())?)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("verivali-phone/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Config(e.to_string()))?;
        Ok(Self {
            http,
            api: format!("{}/api/v1", config.server_url.trim_end_matches('/')),
            token,
            config: config.clone(),
        })
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.api)
    }

    /// The request with the phone's token and its app version (printable ASCII only, as a
    /// header must be).
    fn authorised(&self, request: RequestBuilder) -> RequestBuilder {
        let app: String = self
            .config
            .app_version
            .chars()
            .filter(|c| c.is_ascii_graphic() || *c == ' ')
            .take(PhoneReport::MAX_APP_VERSION)
            .collect();
        let request = request.header(APP_VERSION_HEADER, app);
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Sends a request, retrying as the policy allows, and decodes the JSON answer. Reading the
    /// body is part of the attempt: a connection cut half way through the answer is retried too.
    pub(super) fn json<T: DeserializeOwned>(
        &self,
        build: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<T, SyncError> {
        self.with_retries(|| match self.send_once(&build, &[]) {
            Attempt::Done(response) => match response.bytes() {
                Ok(bytes) => match serde_json::from_slice(&bytes) {
                    Ok(value) => Attempt::Done(value),
                    Err(e) => Attempt::Fail(SyncError::Protocol(e.to_string())),
                },
                Err(e) => Attempt::Retry(SyncError::Network(e.to_string())),
            },
            Attempt::Retry(e) => Attempt::Retry(e),
            Attempt::Fail(e) => Attempt::Fail(e),
        })
    }

    /// Sends a request with the policy's retries and gives the response: a success, or one of
    /// the `expected` failures (such as 404 for "not here yet").
    pub(super) fn send(
        &self,
        build: impl Fn(&Client) -> RequestBuilder,
        expected: &[StatusCode],
    ) -> Result<Response, SyncError> {
        self.with_retries(|| self.send_once(&build, expected))
    }

    /// A JSON body, gzipped: visits compress about fivefold, which matters on a weak signal.
    pub(super) fn gzip_json(value: &impl serde::Serialize) -> Result<Vec<u8>, SyncError> {
        let json = serde_json::to_vec(value).map_err(|e| SyncError::Protocol(e.to_string()))?;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        encoder
            .write_all(&json)
            .and_then(|()| encoder.finish())
            .map_err(|e| SyncError::Protocol(e.to_string()))
    }

    fn send_once(
        &self,
        build: &impl Fn(&Client) -> RequestBuilder,
        expected: &[StatusCode],
    ) -> Attempt<Response> {
        let response = match self.authorised(build(&self.http)).send() {
            Ok(r) => r,
            Err(e) if e.is_builder() => return Attempt::Fail(SyncError::Config(e.to_string())),
            Err(e) => return Attempt::Retry(SyncError::Network(describe(&e))),
        };
        let status = response.status();
        if status.is_success() || expected.contains(&status) {
            return Attempt::Done(response);
        }
        let error = server_error(status, response);
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            Attempt::Retry(error)
        } else {
            Attempt::Fail(error)
        }
    }

    fn with_retries<T>(&self, mut attempt: impl FnMut() -> Attempt<T>) -> Result<T, SyncError> {
        let mut pause = self.config.first_backoff;
        let mut tries = 1;
        loop {
            match attempt() {
                Attempt::Done(value) => return Ok(value),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry(e) if tries >= self.config.attempts => return Err(e),
                Attempt::Retry(_) => {
                    std::thread::sleep(jittered(pause));
                    pause = (pause * 2).min(self.config.max_backoff);
                    tries += 1;
                }
            }
        }
    }
}

/// Half to all of `pause`, so that fifty phones cut off together do not all come back together.
fn jittered(pause: Duration) -> Duration {
    let random = uuid::Uuid::new_v4().as_u128() as u64 % 1_000;
    pause / 2 + pause * u32::try_from(random).unwrap_or(0) / 2_000
}

/// The message of a failed request, without the URL (which names the server, harmless, but may
/// carry a cursor) and with its cause chain.
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "connection failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn server_error(status: StatusCode, response: Response) -> SyncError {
    let body: Option<ErrorBody> = response
        .bytes()
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    match status {
        StatusCode::UNAUTHORIZED => SyncError::Unauthorized(body),
        StatusCode::UPGRADE_REQUIRED => SyncError::UpgradeRequired(body),
        _ => SyncError::Server {
            status: status.as_u16(),
            body,
        },
    }
}

/// rustls on ring. With a pinned CA, only that CA is trusted: a district server with its own
/// certificate authority, and no one else posing as it.
fn tls_config(ca_pem: Option<&str>) -> Result<rustls::ClientConfig, SyncError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let mut roots = rustls::RootCertStore::empty();
    match ca_pem {
        Some(pem) => {
            let certs: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(pem.as_bytes())
                    .collect::<Result<_, _>>()
                    .map_err(|e| SyncError::Config(format!("CA certificate: {e}")))?;
            if certs.is_empty() {
                return Err(SyncError::Config(
                    "CA certificate: no certificate in the PEM text".into(),
                ));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| SyncError::Config(format!("CA certificate: {e}")))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SyncError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
