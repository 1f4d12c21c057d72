//! `/metrics` in the Prometheus text format (OpenMetrics, by the Prometheus project's own client)
//! for a district's IT officer (issue 17, item 5): pushes, visits by result, pulls, request
//! latency by kind, the writer's queue, fsync time, the WAL's size, free disk, and phones synced
//! today. Counters live for the process (one registry per process: a server is one process);
//! sizes and counts of the database are read when scraped. Only addresses given by
//! `--metrics-from` may read it (loopback by default): it tells how a district's work goes.

use std::net::IpAddr;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use verivali_core::protocol::{PushResponse, PushStatus};

use crate::disk;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Result_ {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Kind {
    kind: &'static str,
}

struct Metrics {
    registry: Registry,
    pushes: Counter,
    visits: Family<Result_, Counter>,
    pulls: Counter,
    requests: Family<Kind, Histogram>,
    fsync: Histogram,
    writer_queue: Gauge,
    wal_bytes: Gauge,
    disk_free_bytes: Gauge,
    devices_synced_today: Gauge,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("verivali");
    let r = &mut registry;
    let pushes = add(r, "pushes", "Pushes answered", Counter::default());
    let visits = add(
        r,
        "visits",
        "Visits pushed, by the server's answer",
        Family::<Result_, Counter>::default(),
    );
    let pulls = add(r, "pulls", "Pull pages answered", Counter::default());
    let requests = add(
        r,
        "request_duration_seconds",
        "Time to answer a request, by kind (push, pull, photo, api, page)",
        // 1 ms to about 30 s.
        Family::<Kind, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 16))
        }),
    );
    let fsync = add(
        r,
        "fsync_duration_seconds",
        "Time of each fsync of the WAL that makes commits durable",
        // 0.1 ms to about 3 s.
        Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
    );
    let writer_queue = add(
        r,
        "writer_queue_depth",
        "Write jobs waiting for the database writer",
        Gauge::default(),
    );
    let wal_bytes = add(
        r,
        "wal_bytes",
        "Size of the database's write-ahead log",
        Gauge::default(),
    );
    let disk_free_bytes = add(
        r,
        "disk_free_bytes",
        "Free space of the data directory's file system",
        Gauge::default(),
    );
    let devices_synced_today = add(
        r,
        "devices_synced_today",
        "Phones that called the server since midnight UTC",
        Gauge::default(),
    );
    Metrics {
        registry,
        pushes,
        visits,
        pulls,
        requests,
        fsync,
        writer_queue,
        wal_bytes,
        disk_free_bytes,
        devices_synced_today,
    }
});

/// Registers a metric and gives it back, for the handle kept beside the registry.
fn add<M: prometheus_client::registry::Metric + Clone>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    metric: M,
) -> M {
    registry.register(name, help, metric.clone());
    metric
}

/// Counts a push and its visits by result.
pub fn count_push(response: &PushResponse) {
    METRICS.pushes.inc();
    for r in &response.results {
        let result = match r.status {
            PushStatus::Accepted => "accepted",
            PushStatus::Duplicate => "duplicate",
            PushStatus::Rejected => "rejected",
        };
        METRICS.visits.get_or_create(&Result_ { result }).inc();
    }
}

pub fn count_pull() {
    METRICS.pulls.inc();
}

pub fn observe_fsync(took: Duration) {
    METRICS.fsync.observe(took.as_secs_f64());
}

/// Times every request, by kind.
pub async fn time_requests(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let kind = match path {
        "/api/v1/sync/push" => "push",
        "/api/v1/sync/pull" => "pull",
        p if p.starts_with("/api/v1/attachments") => "photo",
        p if p.starts_with("/api/") => "api",
        _ => "page",
    };
    let started = Instant::now();
    let response = next.run(request).await;
    METRICS
        .requests
        .get_or_create(&Kind { kind })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Whether `peer` may read `/metrics`.
pub fn allowed(state: &AppState, peer: IpAddr) -> bool {
    state
        .config
        .metrics_from
        .iter()
        .any(|net| net.contains(&peer))
}

/// The metrics as text, with what is read at scrape time filled in.
pub async fn render(state: &AppState) -> Result<String, ApiError> {
    let health = state.db.writer_health();
    METRICS
        .writer_queue
        .set(i64::try_from(health.waiting).unwrap_or(i64::MAX));
    // SQLite's WAL; PostgreSQL watches its own.
    if let Some(database) = state.db.path() {
        METRICS
            .wal_bytes
            .set(file_size(&crate::db::wal_path(database)));
    }
    if let Ok(free) = disk::free_bytes(&state.config.data_dir) {
        METRICS
            .disk_free_bytes
            .set(i64::try_from(free).unwrap_or(i64::MAX));
    }
    let today = crate::phones::synced_today(&state.db).await?;
    METRICS
        .devices_synced_today
        .set(i64::try_from(today).unwrap_or(i64::MAX));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &METRICS.registry)
        .map_err(ApiError::internal)?;
    Ok(text)
}

fn file_size(path: &std::path::Path) -> i64 {
    std::fs::metadata(path)
        .map(|m| i64::try_from(m.len()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
