//! Configuration, by flags or environment (`VERIVALI_*`).

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Where the database lives.
    #[arg(long, env = "VERIVALI_DATA_DIR", default_value = "./verivali-data")]
    pub data_dir: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "VERIVALI_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Seconds a request may take before it is cut off.
    #[arg(long, env = "VERIVALI_REQUEST_TIMEOUT_SECS", default_value_t = 60)]
    pub request_timeout_secs: u64,
    /// Failed enrollment attempts allowed per client address per minute.
    #[arg(
        long,
        env = "VERIVALI_ENROLL_ATTEMPTS_PER_MINUTE",
        default_value_t = 10
    )]
    pub enroll_attempts_per_minute: u32,
    /// Failed sign-ins allowed per login name per minute.
    #[arg(
        long,
        env = "VERIVALI_SIGN_IN_FAILURES_PER_LOGIN",
        default_value_t = 10
    )]
    pub sign_in_failures_per_login: u32,
    /// Failed sign-ins allowed per client address per minute: higher, since a district office's
    /// colleagues share one address.
    #[arg(
        long,
        env = "VERIVALI_SIGN_IN_FAILURES_PER_ADDRESS",
        default_value_t = 60
    )]
    pub sign_in_failures_per_address: u32,
    /// Connections open at once; more wait in the kernel's backlog until one closes.
    #[arg(long, env = "VERIVALI_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Seconds a request's headers may take to arrive, and a kept-alive connection may sit
    /// idle, before the connection is closed.
    #[arg(long, env = "VERIVALI_HEADER_READ_TIMEOUT_SECS", default_value_t = 20)]
    pub header_read_timeout_secs: u64,
    /// Most households in one pull page.
    #[arg(long, env = "VERIVALI_MAX_PULL_PAGE", default_value_t = 1000)]
    pub max_pull_page: u32,
    /// The dashboard map's basemap: an XYZ tile URL (`https://…/{z}/{x}/{y}.png`), for an
    /// office with internet. Without a basemap the map shows outlines and points only.
    #[arg(long, env = "VERIVALI_BASEMAP_TILES")]
    pub basemap_tiles: Option<String>,
    /// Or a raster PMTiles file on this server, served to the map with range requests (works
    /// offline).
    #[arg(long, env = "VERIVALI_BASEMAP_PMTILES")]
    pub basemap_pmtiles: Option<PathBuf>,
    /// The basemap's attribution, shown in the map's corner.
    #[arg(long, env = "VERIVALI_BASEMAP_ATTRIBUTION", default_value = "")]
    pub basemap_attribution: String,
    /// The oldest app version phones may sync with (e.g. 2.0.0): older ones, and apps that do
    /// not say their version, are answered 426 with a message and keep their outbox.
    #[arg(long, env = "VERIVALI_MIN_APP_VERSION")]
    pub min_app_version: Option<String>,
}

impl Config {
    /// A configuration for tests and the demo: the given directory, a free loopback port.
    pub fn for_data_dir(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            request_timeout_secs: 60,
            enroll_attempts_per_minute: 10,
            sign_in_failures_per_login: 10,
            sign_in_failures_per_address: 60,
            max_connections: 1024,
            header_read_timeout_secs: 20,
            max_pull_page: 1000,
            basemap_tiles: None,
            basemap_pmtiles: None,
            basemap_attribution: String::new(),
            min_app_version: None,
        }
    }
}
