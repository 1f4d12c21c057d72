//! Which tables and indexes a push's commits wrote (`VERIVALI_BENCH_WAL=1`): a commit writes one
//! WAL frame for each page it changed, and the checkpoint copies it back, so frames per visit,
//! by b-tree, say where the writer's disk work goes.
//!
//! A read transaction held from before the push keeps the server from restarting the WAL, so that
//! every frame the push wrote is still in the file afterwards; the server's truncating checkpoint
//! waits for it in vain meanwhile, which slows that push (its rate is not a figure to compare).

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

const WAL_HEADER: u64 = 32;
const FRAME_HEADER: u64 = 24;

pub struct Watch {
    database: PathBuf,
    /// Holds the read transaction.
    reader: Connection,
    first_frame: u64,
}

/// The frames of a WAL file, as (page number, whether it ends a commit), from its start.
fn frames(wal: &Path) -> Vec<(u32, bool)> {
    let Ok(file) = File::open(wal) else {
        return Vec::new();
    };
    let word = |bytes: &[u8], at: usize| {
        u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
    };
    let mut header = [0u8; WAL_HEADER as usize];
    if file.read_exact_at(&mut header, 0).is_err() {
        return Vec::new();
    }
    let page_size = u64::from(word(&header, 8));
    let salts = (word(&header, 16), word(&header, 20));
    let mut out = Vec::new();
    let mut frame = [0u8; FRAME_HEADER as usize];
    // Frames of an earlier generation of the file carry other salts: the end of this one.
    while file
        .read_exact_at(
            &mut frame,
            WAL_HEADER + out.len() as u64 * (FRAME_HEADER + page_size),
        )
        .is_ok()
        && (word(&frame, 8), word(&frame, 12)) == salts
    {
        out.push((word(&frame, 0), word(&frame, 4) != 0));
    }
    out
}

impl Watch {
    pub fn start(database: &Path) -> Self {
        let reader = Connection::open(database).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        reader
            .query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
            .unwrap();
        let first_frame = frames(&verivali_server::db::wal_path(database)).len() as u64;
        Self {
            database: database.to_owned(),
            reader,
            first_frame,
        }
    }

    /// Prints the frames written since the start, per visit, by b-tree.
    pub fn report(self, visits: usize) {
        let written: Vec<(u32, bool)> = frames(&verivali_server::db::wal_path(&self.database))
            .into_iter()
            .skip(self.first_frame as usize)
            .collect();
        drop(self.reader);
        let now = Connection::open(&self.database).unwrap();
        let owner: HashMap<u32, String> = now
            .prepare("SELECT pageno, name FROM dbstat")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut by_tree: HashMap<&str, (usize, std::collections::HashSet<u32>)> = HashMap::new();
        for (page, _) in &written {
            let tree = owner.get(page).map_or("(free or new)", String::as_str);
            let entry = by_tree.entry(tree).or_default();
            entry.0 += 1;
            entry.1.insert(*page);
        }
        let commits = written.iter().filter(|(_, commit)| *commit).count();
        let per_visit = |n: usize| n as f64 / visits.max(1) as f64;
        println!(
            "  WAL frames written: {:.2} per visit over {commits} commits ({:.0} visits a commit); by table or index (frames, distinct pages, per visit):",
            per_visit(written.len()),
            visits as f64 / commits.max(1) as f64,
        );
        let (state, body): (f64, f64) = now
            .query_row(
                "SELECT (SELECT avg(length(state)) FROM households), (SELECT avg(length(body)) FROM visits)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        println!("  a household's state is {state:.0} bytes, a visit's body {body:.0}, on average");
        let mut trees: Vec<_> = by_tree.into_iter().collect();
        trees.sort_by_key(|t| std::cmp::Reverse(t.1.0));
        for (tree, (frames, pages)) in trees.iter().take(14) {
            println!(
                "    {tree}: {:.2}, {:.2}",
                per_visit(*frames),
                per_visit(pages.len())
            );
        }
    }
}
