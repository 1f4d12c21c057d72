//! Building and running the application, apart from `main` so that tests build it too.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tokio::net::TcpListener;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use verivali_core::protocol::MAX_PUSH_BYTES;

use crate::config::Config;
use crate::db::Db;
use crate::limits::{RateLimiter, SignInLimits};
use crate::routes;
use crate::state::AppState;

/// A bound, ready server.
pub struct Application {
    listener: TcpListener,
    router: Router,
    db: Db,
    config: Arc<Config>,
    /// With `--tls-cert` and `--tls-key`: every connection is TLS.
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("listener", &self.listener)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Opens the database and binds the address; `serve` then answers requests.
    pub async fn build(config: Config) -> Result<Self, crate::db::DbError> {
        let tls = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Some(
                crate::tls::acceptor(cert, key, Duration::from_secs(config.tls_recheck_secs))
                    .map_err(std::io::Error::other)?,
            ),
            _ => None,
        };
        let db = match &config.database {
            // The driver runs a runtime of its own per connection: off the async threads.
            Some(url) => {
                let url = url.clone();
                tokio::task::spawn_blocking(move || Db::open_postgres(&url))
                    .await
                    .map_err(std::io::Error::other)??
            }
            None => Db::open(&config.data_dir)?,
        };
        let listener = TcpListener::bind(config.bind).await?;
        match (config.backup_every, &config.backup_to) {
            // PostgreSQL is backed up by its own tools (docs/storage.md).
            (Some(_), Some(_)) if config.database.is_some() => {
                tracing::warn!(
                    "--backup-every backs up SQLite only: back up PostgreSQL with its tools"
                );
            }
            (Some(every), Some(to)) => {
                crate::backup::schedule(&db, &config.data_dir, to, every, config.backup_keep);
            }
            _ => {}
        }
        watch_disk(config.data_dir.clone(), config.disk_warn_mib);
        let state = AppState {
            db: db.clone(),
            enroll_limiter: Arc::new(RateLimiter::new(
                "enroll-address",
                config.enroll_attempts_per_minute,
                Duration::from_secs(60),
            )),
            sign_in_limits: Arc::new(SignInLimits::new(
                config.sign_in_failures_per_login,
                config.sign_in_failures_per_address,
            )),
            bundle_imports: Arc::new(tokio::sync::Semaphore::new(1)),
            config: Arc::new(config),
        };
        Ok(Self {
            config: state.config.clone(),
            router: router(state),
            listener,
            db,
            tls,
        })
    }

    /// `https` when the server holds its own certificate.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until `shutdown` completes, then finishes the requests under way and the queued
    /// writes before returning.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let limits = ConnectionLimits::of(&self.config);
        accept_until(self.listener, self.router, self.tls, limits, shutdown).await;
        let db = self.db.clone();
        let _ = tokio::task::spawn_blocking(move || db.close()).await;
        Ok(())
    }
}

/// What a connection may take: a district server faces phones on weak lines, and whoever else
/// finds its address.
#[derive(Debug, Clone, Copy)]
struct ConnectionLimits {
    /// Connections open at once; past it, new ones wait in the kernel's backlog.
    max: usize,
    /// The time a request's headers may take to arrive, and the longest a kept-alive
    /// connection may sit idle before its next request: a slow or idle connection is closed,
    /// not kept open for ever.
    header_read: Duration,
}

impl ConnectionLimits {
    fn of(config: &Config) -> Self {
        Self {
            max: config.max_connections,
            header_read: Duration::from_secs(config.header_read_timeout_secs),
        }
    }
}

/// Accepts connections until `shutdown`, each served by hyper under `limits` (after its TLS
/// handshake, with `tls`), then lets the requests under way finish.
async fn accept_until(
    listener: TcpListener,
    router: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    use tower::Layer;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors, or a connection reset before it was accepted: wait a
                // little rather than spin.
                Err(e) => {
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = hyper_util::service::TowerToHyperService::new(
            axum::Extension(axum::extract::ConnectInfo(peer)).layer(router.clone()),
        );
        let (http, watcher, tls) = (http.clone(), graceful.watcher(), tls.clone());
        // The handshake runs in the connection's task: a slow one never holds up the others.
        tokio::spawn(async move {
            let served = match tls {
                None => {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    watcher.watch(http.serve_connection(io, service)).await
                }
                Some(tls) => {
                    match tokio::time::timeout(limits.header_read, tls.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            let io = hyper_util::rt::TokioIo::new(stream);
                            watcher.watch(http.serve_connection(io, service)).await
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, "TLS handshake failed");
                            Ok(())
                        }
                        Err(_) => Ok(()),
                    }
                }
            };
            if let Err(e) = served {
                tracing::debug!(error = %e, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The whole router with its limits: body size (checked after gzip is undone), timeout,
/// compression both ways, request tracing.
pub fn router(state: AppState) -> Router {
    let timeout = Duration::from_secs(state.config.request_timeout_secs);
    let mut routes = routes::router();
    // The map's PMTiles basemap, read by range requests (only the tiles of the view travel).
    if let Some(file) = &state.config.basemap_pmtiles {
        routes = routes.route_service(
            crate::web::BASEMAP_PATH,
            tower_http::services::ServeFile::new(file),
        );
    }
    routes
        .layer(DefaultBodyLimit::max(MAX_PUSH_BYTES + 64 * 1024))
        .layer(RequestDecompressionLayer::new())
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(axum::middleware::from_fn(crate::error::in_contract))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::audit::record_denials,
        ))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(crate::metrics::time_requests))
        .with_state(state)
}

/// Warns in the log, once a minute, while the data directory's free disk is below the threshold:
/// the IT officer hears of it before writes fail.
fn watch_disk(data_dir: std::path::PathBuf, warn_mib: u64) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            if let Some(free) = crate::disk::low(&data_dir, warn_mib) {
                tracing::warn!(
                    free_mib = free >> 20,
                    warn_mib,
                    "the data directory's disk is nearly full"
                );
            }
        }
    });
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests and queued writes");
}
