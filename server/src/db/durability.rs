//! Durable commits without the writer waiting for the disk.
//!
//! The writer commits with `synchronous=NORMAL`: SQLite writes the WAL frames but does not fsync
//! them. Each commit, with the answers of its jobs, goes to the sync thread, which fsyncs the WAL
//! file once for every commit waiting and only then answers: an acknowledged visit is on disk, as
//! with `synchronous=FULL`, while the writer is already running the next commit. (The fsync was a
//! fifth of the writer's wall time at ingest.) A crash before the fsync loses only commits nobody
//! was told about; SQLite's WAL recovery keeps the file consistent either way.
//!
//! Reads see commits before they are durable, so a read waits, after it ran and before it answers,
//! until every commit it could have seen is durable: a retried visit is never answered DUPLICATE,
//! and a pull never hands out a change number, that a power cut could take back. Commits are
//! numbered before they are made, so a number read after a read covers all it saw.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, mpsc};

use super::{CommitFailure, Finish};

/// Commit numbers: the last begun and the last durable.
#[derive(Debug)]
pub(super) struct Durability {
    begun: AtomicU64,
    durable: Mutex<u64>,
    changed: Condvar,
    watch: tokio::sync::watch::Sender<u64>,
}

/// A commit made, waiting for its fsync: its number, the answers of its jobs and whether SQLite's
/// commit itself failed.
pub(super) struct Committed {
    pub number: u64,
    pub finishers: Vec<Finish>,
    pub error: Option<CommitFailure>,
}

impl Durability {
    pub fn new() -> Self {
        Self {
            begun: AtomicU64::new(0),
            durable: Mutex::new(0),
            changed: Condvar::new(),
            watch: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Numbers the commit about to be made.
    pub fn begin(&self) -> u64 {
        self.begun.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The number that covers every commit a read finished now could have seen.
    pub fn seen(&self) -> u64 {
        self.begun.load(Ordering::SeqCst)
    }

    fn publish(&self, number: u64) {
        if let Ok(mut durable) = self.durable.lock() {
            *durable = (*durable).max(number);
        }
        self.changed.notify_all();
        self.watch.send_if_modified(|d| {
            let newer = number > *d;
            *d = (*d).max(number);
            newer
        });
    }

    /// Waits until commit `number` is durable.
    pub async fn wait(&self, number: u64) {
        let mut durable = self.watch.subscribe();
        // An error means the sender is gone, with the database: nothing left to wait for.
        let _ = durable.wait_for(|d| *d >= number).await;
    }

    /// The blocking form of [`Durability::wait`].
    pub fn wait_blocking(&self, number: u64) {
        let Ok(mut durable) = self.durable.lock() else {
            return;
        };
        while *durable < number {
            match self.changed.wait(durable) {
                Ok(d) => durable = d,
                Err(_) => return,
            }
        }
    }
}

/// Fsyncs the WAL for every commit waiting, publishes them durable, then answers their jobs. Ends
/// when the writer does, after the commits it sent.
pub(super) fn sync_loop(
    wal: PathBuf,
    commits: mpsc::Receiver<Committed>,
    durability: std::sync::Arc<Durability>,
) {
    while let Ok(first) = commits.recv() {
        let mut batch = vec![first];
        batch.extend(commits.try_iter());
        // Opened each time: SQLite may delete and make the file again, and an open is cheap
        // next to the fsync.
        let started = std::time::Instant::now();
        let synced = std::fs::OpenOptions::new()
            .write(true)
            .open(&wal)
            .and_then(|f| f.sync_data());
        crate::metrics::observe_fsync(started.elapsed());
        let sync_error = match synced {
            Ok(()) => {
                durability.publish(batch.iter().map(|c| c.number).max().unwrap_or(0));
                None
            }
            Err(e) => {
                // Not published: reads wait for the next fsync that succeeds, which covers these
                // frames too if the kernel still holds them.
                tracing::error!(error = %e, "fsync of the WAL failed; the writes are not acknowledged");
                Some(CommitFailure::of_fsync(&e))
            }
        };
        for commit in batch {
            let error = commit.error.or_else(|| sync_error.clone());
            for finish in commit.finishers {
                finish(error.as_ref());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    /// A read that may have seen a commit answers only once that commit is durable; one that saw
    /// only durable commits does not wait.
    #[test]
    fn a_read_waits_for_the_commits_it_may_have_seen() {
        let durability = Arc::new(Durability::new());
        let first = durability.begin();
        durability.publish(first);
        durability.wait_blocking(durability.seen());

        let second = durability.begin();
        let seen = durability.seen();
        assert_eq!(seen, second);
        let (done, answered) = mpsc::channel();
        let waiting = durability.clone();
        let reader = std::thread::spawn(move || {
            waiting.wait_blocking(seen);
            let _ = done.send(());
        });
        assert!(
            answered.recv_timeout(Duration::from_millis(100)).is_err(),
            "answered before the commit was durable"
        );
        durability.publish(second);
        assert!(answered.recv_timeout(Duration::from_secs(5)).is_ok());
        reader.join().unwrap();

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let third = durability.begin();
        let pending = runtime.block_on(async {
            tokio::time::timeout(Duration::from_millis(50), durability.wait(third)).await
        });
        assert!(pending.is_err(), "the async wait answered early");
        durability.publish(third);
        runtime.block_on(durability.wait(third));
    }
}
