//! What the server benches share: CPU time and memory read from `/proc`.

// Each bench is its own crate and uses part of this.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// CPU seconds used so far by a server process: its database writer thread, the threads that
/// fsync and checkpoint the WAL, and the whole process, read from `/proc` (Linux; zero
/// elsewhere); and the bytes it has had written to storage. The writer is the one serial part of
/// ingest, so its CPU per visit is the figure to lower, and it is steadier than the wall-clock
/// rate on a shared machine. The bytes written are mostly WAL frames and the checkpoint's copies
/// of them: a page for every page a commit touched, twice.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub writer: f64,
    /// The threads that fsync the WAL and checkpoint it.
    pub disk: f64,
    pub process: f64,
    pub written_bytes: f64,
}

impl Usage {
    /// This process's times.
    pub fn of_self() -> Self {
        Self::of(Path::new("/proc/self"))
    }

    /// The times of the process whose `/proc` directory this is.
    pub fn of(proc_dir: &Path) -> Self {
        Self {
            writer: threads_cpu(proc_dir, &["db-writer"]),
            disk: threads_cpu(proc_dir, &["db-sync", "db-checkpoint"]),
            process: cpu_seconds(&proc_dir.join("stat")),
            written_bytes: written_bytes(&proc_dir.join("io")),
        }
    }

    /// Two processes' times together.
    pub fn plus(&self, other: &Self) -> Self {
        Self {
            writer: self.writer + other.writer,
            disk: self.disk + other.disk,
            process: self.process + other.process,
            written_bytes: self.written_bytes + other.written_bytes,
        }
    }

    pub fn since(&self, before: &Self) -> Self {
        Self {
            writer: self.writer - before.writer,
            disk: self.disk - before.disk,
            process: self.process - before.process,
            written_bytes: self.written_bytes - before.written_bytes,
        }
    }
}

/// `write_bytes` of an `io` file of `/proc`: what the process had written to storage.
fn written_bytes(io: &Path) -> f64 {
    std::fs::read_to_string(io)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("write_bytes:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0.0)
}

/// The `/proc` directory of a process.
pub fn proc_dir(pid: u32) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}"))
}

/// CPU seconds of the threads of a process with one of these names.
fn threads_cpu(proc_dir: &Path, names: &[&str]) -> f64 {
    std::fs::read_dir(proc_dir.join("task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| names.contains(&c.trim()))
        })
        .map(|t| cpu_seconds(&t.path().join("stat")))
        .sum()
}

/// User and system time from a `stat` file of `/proc`, in seconds (clock ticks of 1/100 s).
pub fn cpu_seconds(stat: &Path) -> f64 {
    stat_seconds(stat, 11)
}

/// The user and system time of a process's children that ended and were waited for, in seconds.
pub fn children_cpu_seconds(stat: &Path) -> f64 {
    stat_seconds(stat, 13)
}

/// Two adjacent clock-tick fields of a `stat` file, counted from `first` after the name, summed.
fn stat_seconds(stat: &Path, first: usize) -> f64 {
    let text = std::fs::read_to_string(stat).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = text
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; cutime and
    // cstime the two after them.
    (ticks(first) + ticks(first + 1)) / 100.0
}

/// A process's resident memory, in MiB: its own (heap, stacks) and the file pages it maps. The
/// readers map the database (`db::schema::MMAP_BYTES`): those pages are the kernel's page cache,
/// shared and given back under pressure, so the memory budget is the process's own.
#[derive(Debug, Clone, Copy)]
pub struct Resident {
    pub own_mib: f64,
    pub mapped_file_mib: f64,
}

impl Resident {
    pub fn of(proc_dir: &Path) -> Self {
        let status = std::fs::read_to_string(proc_dir.join("status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|n| n.parse::<f64>().ok())
                .unwrap_or(0.0)
                / 1024.0
        };
        Self {
            own_mib: field("RssAnon:"),
            mapped_file_mib: field("RssFile:") + field("RssShmem:"),
        }
    }
}

impl std::fmt::Display for Resident {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RSS {:.0} MiB of its own, {:.0} MiB of mapped database",
            self.own_mib, self.mapped_file_mib
        )
    }
}

/// The PostgreSQL database the bench keeps its data in, made for this run in the cluster
/// `VERIVALI_BENCH_DATABASE` names; none for SQLite.
pub fn database() -> Option<&'static str> {
    static DATABASE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    DATABASE
        .get_or_init(|| {
            let cluster = std::env::var("VERIVALI_BENCH_DATABASE").ok()?;
            let name = format!("verivali_bench_{}", uuid::Uuid::new_v4().simple());
            let mut client = postgres::Client::connect(&cluster, postgres::NoTls).unwrap();
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap();
            let (server, _) = cluster.rsplit_once('/').unwrap();
            Some(format!("{server}/{name}"))
        })
        .as_deref()
}

/// splitmix64: every value of a bench's data derives from an index.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A count from the environment (`1_000_000` reads as a million), or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}
