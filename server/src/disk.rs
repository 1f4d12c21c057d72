//! The data directory's free space: `/metrics` shows it, `/healthz` turns unhealthy and the log
//! and dashboard warn below `--disk-warn-mib`, before writes start failing.

use std::path::Path;

/// Bytes an unprivileged process may still write on the file system holding `dir`.
pub fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    let stats = rustix::fs::statvfs(dir)?;
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
}

/// The free space, when it is below the configured warning threshold (or unknown: `None`).
pub fn low(dir: &Path, warn_mib: u64) -> Option<u64> {
    free_bytes(dir)
        .ok()
        .filter(|free| *free < warn_mib.saturating_mul(1 << 20))
}
