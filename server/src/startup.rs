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
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    router: Router,
    db: Db,
}

impl Application {
    /// Opens the database and binds the address; `serve` then answers requests.
    pub async fn build(config: Config) -> Result<Self, crate::db::DbError> {
        let db = Db::open(&config.data_dir)?;
        let listener = TcpListener::bind(config.bind).await?;
        let state = AppState {
            db: db.clone(),
            enroll_limiter: Arc::new(RateLimiter::new(
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
            router: router(state),
            listener,
            db,
        })
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
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let result = axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await;
        let db = self.db.clone();
        let _ = tokio::task::spawn_blocking(move || db.close()).await;
        result
    }
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
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::audit::record_denials,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
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
