//! Configuration, by flags or environment (`VERIVALI_*`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Where the database lives (and the photos, with either engine).
    #[arg(long, env = "VERIVALI_DATA_DIR", default_value = "./verivali-data")]
    pub data_dir: PathBuf,
    /// A PostgreSQL database to keep the data in instead of the data directory's SQLite
    /// (`postgres://user:password@host:port/name`), for a province or the nation
    /// (docs/storage.md).
    #[arg(long, env = "VERIVALI_DATABASE")]
    pub database: Option<String>,
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
    /// Back up the database and photos this often while serving (`6h`, `30m`, `1d`), into
    /// --backup-to, as `verivali-server backup` does (docs/backups.md).
    #[arg(long, env = "VERIVALI_BACKUP_EVERY", value_parser = parse_interval, requires = "backup_to")]
    pub backup_every: Option<Duration>,
    /// Where scheduled backups go: a directory, ideally on another disk.
    #[arg(long, env = "VERIVALI_BACKUP_TO")]
    pub backup_to: Option<PathBuf>,
    /// Serve TLS with this certificate (PEM, with its chain); reloaded when the file changes.
    #[arg(long, env = "VERIVALI_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, env = "VERIVALI_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Seconds between two looks at the certificate files for a renewal.
    #[arg(long, env = "VERIVALI_TLS_RECHECK_SECS", default_value_t = 10)]
    pub tls_recheck_secs: u64,
    /// Reverse proxies (IPs or networks, comma-separated) whose `X-Forwarded-For` is believed:
    /// rate limits then key on the address it gives. From anyone else the header is ignored.
    #[arg(long, env = "VERIVALI_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Addresses (IPs or networks, comma-separated) that may read `/metrics`.
    #[arg(
        long,
        env = "VERIVALI_METRICS_FROM",
        value_delimiter = ',',
        default_value = "127.0.0.0/8,::1/128",
        value_parser = parse_net
    )]
    pub metrics_from: Vec<ipnet::IpNet>,
    /// Below this much free disk (MiB) `/healthz` answers 503 and the log and the dashboard warn.
    #[arg(long, env = "VERIVALI_DISK_WARN_MIB", default_value_t = 1024)]
    pub disk_warn_mib: u64,
    /// Scheduled backups kept: the older ones are deleted after each new one.
    #[arg(long, env = "VERIVALI_BACKUP_KEEP", default_value_t = 7)]
    pub backup_keep: usize,
}

/// `10.0.0.0/8`, or one address (`10.1.2.3`, `::1`).
fn parse_net(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is neither an address nor a network"))
}

/// `90s`, `30m`, `6h` or `1d`; at least a minute.
fn parse_interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.len().saturating_sub(1);
    let (number, unit) = (
        text.get(..split).unwrap_or(""),
        text.get(split..).unwrap_or(""),
    );
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err("give a number and s, m, h or d: 6h, 30m, 1d".into()),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{number:?} is not a whole number"))?;
    let interval = Duration::from_secs(n.saturating_mul(seconds));
    if interval < Duration::from_secs(60) {
        return Err("back up at most once a minute".into());
    }
    Ok(interval)
}

impl Config {
    /// A configuration for tests and the demo: the given directory, a free loopback port.
    pub fn for_data_dir(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            database: None,
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
            metrics_from: ["127.0.0.0/8", "::1/128"]
                .iter()
                .filter_map(|n| n.parse().ok())
                .collect(),
            disk_warn_mib: 1024,
            tls_cert: None,
            tls_key: None,
            tls_recheck_secs: 10,
            trusted_proxies: Vec::new(),
            backup_every: None,
            backup_to: None,
            backup_keep: 7,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_intervals_read_as_an_it_officer_writes_them() {
        assert_eq!(parse_interval("6h"), Ok(Duration::from_secs(6 * 3600)));
        assert_eq!(parse_interval(" 30m "), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_interval("1d"), Ok(Duration::from_secs(86_400)));
        for bad in ["", "h", "6", "6 jam", "-1h", "10s", "1.5h", "é"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }
}
