//! Other sync servers measured beside Verivali on the same records (`scripts/bench-peers.sh`):
//! RxDB server and pouchdb-server, each visit pushed to them as a document.

use std::time::{Duration, Instant};

use verivali_core::protocol::PushItem;

use crate::common::{self, proc_dir};

/// Another sync server measured beside Verivali on the same records (`scripts/bench-peers.sh`).
pub struct Peer {
    pub name: String,
    kind: PeerKind,
    /// RxDB: the replication endpoint (`…/visits/0`); pouchdb-server: the database.
    url: String,
    pid: u32,
}

#[derive(Clone, Copy, PartialEq)]
enum PeerKind {
    Rxdb,
    Pouchdb,
}

impl Peer {
    /// `name=kind@url@pid`.
    pub fn parse(text: &str) -> Self {
        let (name, rest) = text.split_once('=').unwrap();
        let mut parts = rest.split('@');
        let kind = match parts.next().unwrap() {
            "rxdb" => PeerKind::Rxdb,
            other => {
                assert_eq!(other, "pouchdb", "a peer is of kind rxdb or pouchdb");
                PeerKind::Pouchdb
            }
        };
        Self {
            name: name.to_owned(),
            kind,
            url: parts.next().unwrap().trim_end_matches('/').to_owned(),
            pid: parts.next().unwrap().parse().unwrap(),
        }
    }

    fn cpu(&self) -> f64 {
        common::cpu_seconds(&proc_dir(self.pid).join("stat"))
    }

    /// Waits (up to a minute) until the peer has used no CPU for half a second.
    pub async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut before = self.cpu();
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = self.cpu();
            if now - before < 0.01 {
                return;
            }
            before = now;
        }
    }

    /// A batch of visits as the peer's push body: the visit's own JSON as a document.
    fn body(&self, chunk: &[PushItem]) -> Vec<u8> {
        let docs = chunk.iter().map(|item| {
            let mut doc = serde_json::to_value(&item.visit).unwrap();
            let id = item.visit.visit_id.to_string();
            doc["device_seq"] = item.device_seq.into();
            match self.kind {
                PeerKind::Rxdb => {
                    doc["id"] = id.into();
                    doc["_deleted"] = false.into();
                    serde_json::json!({ "newDocumentState": doc })
                }
                PeerKind::Pouchdb => {
                    doc["_id"] = id.into();
                    doc
                }
            }
        });
        let docs: Vec<serde_json::Value> = docs.collect();
        serde_json::to_vec(&match self.kind {
            PeerKind::Rxdb => serde_json::json!(docs),
            PeerKind::Pouchdb => serde_json::json!({ "docs": docs }),
        })
        .unwrap()
    }

    fn push_url(&self) -> String {
        match self.kind {
            PeerKind::Rxdb => format!("{}/push", self.url),
            PeerKind::Pouchdb => format!("{}/_bulk_docs", self.url),
        }
    }

    fn bodies(&self, items: &[Vec<PushItem>], batch: usize) -> Vec<Vec<Vec<u8>>> {
        items
            .iter()
            .map(|items| items.chunks(batch).map(|c| self.body(c)).collect())
            .collect()
    }

    /// The visits of a part of the fill, pushed as in the measured window, so that the peer holds
    /// what Verivali holds.
    pub async fn fill(&self, client: &reqwest::Client, items: &[Vec<PushItem>], batch: usize) {
        let count: usize = items.iter().map(Vec::len).sum();
        let secs = self.push_all(client, self.bodies(items, batch)).await;
        println!(
            "  {} filled with {count} in {secs:.1} s = {:.0}/s",
            self.name,
            count as f64 / secs
        );
    }

    /// Every client pushes its bodies in turn, all at once; returns the seconds taken.
    async fn push_all(&self, client: &reqwest::Client, bodies: Vec<Vec<Vec<u8>>>) -> f64 {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for pushes in bodies {
            let (client, url) = (client.clone(), self.push_url());
            tasks.push(tokio::spawn(async move {
                for body in pushes {
                    let answer = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    assert!(
                        answer.status().is_success(),
                        "peer push: {}",
                        answer.status()
                    );
                    answer.bytes().await.unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        started.elapsed().as_secs_f64()
    }

    /// The segment's visits pushed by as many clients as there are phones, then again (a retry:
    /// both peers answer a document they hold as a conflict).
    pub async fn push_segment(
        &self,
        client: &reqwest::Client,
        items: &[Vec<PushItem>],
        batch: usize,
    ) {
        let bodies = self.bodies(items, batch);
        let count: usize = items.iter().map(Vec::len).sum();
        let wire: usize = bodies.iter().flatten().map(Vec::len).sum();
        for label in ["push", "retry storm"] {
            let before = self.cpu();
            let secs = self.push_all(client, bodies.clone()).await;
            println!(
                "  {} {label}: {count} in {secs:.2} s = {:.0}/s; its CPU per item {:.1} µs; {:.0} bytes each on the wire (not gzipped)",
                self.name,
                count as f64 / secs,
                (self.cpu() - before) * 1e6 / count as f64,
                wire as f64 / count as f64
            );
        }
    }

    /// Pulls every document the peer holds, 1,000 a page, from the start.
    pub async fn pull(&self, client: &reqwest::Client) {
        let before = self.cpu();
        let started = Instant::now();
        let (mut pulled, mut wire) = (0usize, 0usize);
        let mut since = serde_json::Value::Null;
        loop {
            let url = match self.kind {
                PeerKind::Rxdb => {
                    let (id, lwt) = (&since["id"], &since["lwt"]);
                    let id = id.as_str().unwrap_or_default();
                    let lwt = lwt.as_f64().unwrap_or(0.0);
                    format!("{}/pull?id={id}&lwt={lwt}&limit=1000", self.url)
                }
                PeerKind::Pouchdb => {
                    // A number on PouchDB, a string on CouchDB.
                    let since = match &since {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Number(n) => n.to_string(),
                        _ => "0".to_owned(),
                    };
                    format!(
                        "{}/_changes?include_docs=true&limit=1000&since={since}",
                        self.url
                    )
                }
            };
            let answer = client.get(url).send().await.unwrap();
            assert!(
                answer.status().is_success(),
                "peer pull: {}",
                answer.status()
            );
            let bytes = answer.bytes().await.unwrap();
            wire += bytes.len();
            let page: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            let (count, next) = match self.kind {
                PeerKind::Rxdb => (
                    page["documents"].as_array().map_or(0, Vec::len),
                    page["checkpoint"].clone(),
                ),
                PeerKind::Pouchdb => (
                    page["results"].as_array().map_or(0, Vec::len),
                    page["last_seq"].clone(),
                ),
            };
            pulled += count;
            since = next;
            if count == 0 {
                break;
            }
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "  {} pull of everything: {pulled} documents in {secs:.2} s = {:.0}/s; its CPU per item {:.1} µs; {:.0} bytes each",
            self.name,
            pulled as f64 / secs,
            (self.cpu() - before) * 1e6 / pulled.max(1) as f64,
            wire as f64 / pulled.max(1) as f64
        );
    }
}
