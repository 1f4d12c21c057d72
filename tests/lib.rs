//! The harness of the tests across crates (`tests/tests/`): a district seeded into a server's data
//! directory, and the server binary run as a real process on a loopback port, which a test can
//! kill with SIGKILL and start again on the same port.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use verivali_core::model::{Code, Household, RegionCode, Timestamp, VisitId};
use verivali_core::protocol::Area;
use verivali_core::sample;
use verivali_core::store::Store;
use verivali_server::db::Db;
use verivali_server::{admin, households};

/// What a seeded district offers its tests.
#[derive(Debug, Clone)]
pub struct District {
    /// One enumerator per village, each with a one-time enrollment code.
    pub codes: Vec<String>,
    pub villages: Vec<RegionCode>,
    /// Households per village, in village order.
    pub households: Vec<Vec<Household>>,
    /// A supervisor of the whole regency (16.04).
    pub supervisor_token: String,
}

/// Village `n` of the test regency.
pub fn village(n: usize) -> RegionCode {
    RegionCode::parse(&format!("16.04.{:02}.{}", 1 + n / 10, 2001 + n % 10)).unwrap()
}

/// Seeds `villages` villages of `per_village` households (RW 1, RT 1–3), one enumerator each.
pub fn seed(data_dir: &Path, villages: usize, per_village: u64) -> District {
    let db = Db::open(data_dir).unwrap();
    let codes: Vec<RegionCode> = (0..villages).map(village).collect();
    let all: Vec<Vec<Household>> = codes
        .iter()
        .enumerate()
        .map(|(v, code)| {
            (0..per_village)
                .map(|i| sample::household(v as u64 * per_village + i, code, 1, 1 + (i % 3) as u16))
                .collect()
        })
        .collect();
    let (regions, copy) = (codes.clone(), all.clone());
    db.write_blocking(move |tx| {
        let mut names = vec![
            ("16".to_owned(), "Sumatera Selatan".to_owned()),
            ("16.04".to_owned(), "Lahat".to_owned()),
        ];
        for code in &regions {
            let district = code.as_str()[..8].to_owned();
            names.push((district.clone(), format!("Kecamatan {district}")));
            names.push((code.to_string(), format!("Desa {code}")));
        }
        for (code, name) in &names {
            tx.execute(
                "INSERT OR IGNORE INTO regions (code, name) VALUES (?1, ?2)",
                [code, name],
            )?;
        }
        for h in copy.iter().flatten() {
            households::save_baseline(tx, h, Timestamp::now_utc())?;
        }
        Ok::<_, verivali_server::db::DbError>(())
    })
    .unwrap();
    let mut enrollment_codes = Vec::new();
    for (n, code) in codes.iter().enumerate() {
        let area = Area {
            region: code.clone(),
            rw: None,
            rt: None,
        };
        let id = admin::add_enumerator(&db, &format!("Pencacah {n}"), vec![area]).unwrap();
        enrollment_codes.push(admin::enrollment_code(&db, id, time::Duration::hours(2)).unwrap());
    }
    let (_, supervisor_token) =
        admin::add_supervisor(&db, "Bappeda", RegionCode::parse("16.04").unwrap()).unwrap();
    db.close();
    District {
        codes: enrollment_codes,
        villages: codes,
        households: all,
        supervisor_token,
    }
}

/// Finishes a complete visit (the sample's answers) to `household` on the phone, as the form
/// would: a draft started 20 minutes ago, filled, saved, finished now.
pub fn record_visit(store: &Store, household: &Household, n: u64) -> VisitId {
    let now = Timestamp::now_utc();
    let draft = store
        .start_visit(
            Some(household.household_id),
            Timestamp(now.0 - time::Duration::minutes(20)),
        )
        .unwrap();
    let visit = sample::fill_draft(&draft, household, now, n);
    store.save_draft(&visit).unwrap();
    store.finish_visit(visit.visit_id, now, None).unwrap();
    visit.visit_id
}

/// A blocking HTTP client for checks beside the phone's own (reqwest needs the TLS provider the
/// phone's client installs).
pub fn http() -> reqwest::blocking::Client {
    verivali_core::sync::install_tls_provider();
    reqwest::blocking::Client::new()
}

/// The server binary that `cargo test --workspace` builds (the server's own tests need it), or
/// the one `VERIVALI_SERVER_BIN` names.
pub fn server_binary() -> PathBuf {
    if let Ok(path) = std::env::var("VERIVALI_SERVER_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test> → target/<profile>/verivali-server
    let path = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join(format!("verivali-server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p verivali-server` (or run the whole workspace's tests)",
        path.display()
    );
    path
}

/// A server process over a data directory.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    data_dir: PathBuf,
    /// `127.0.0.1:port`
    pub addr: String,
}

impl ServerProcess {
    /// Starts a server on a free port.
    pub fn start(data_dir: &Path) -> Self {
        Self::start_on(data_dir, "127.0.0.1:0")
    }

    fn start_on(data_dir: &Path, bind: &str) -> Self {
        let mut child = Command::new(server_binary())
            .args(["serve", "--bind", bind, "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = match lines.next() {
            Some(Ok(line)) => line,
            other => panic!("the server did not start: {other:?}"),
        };
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .unwrap()
            .to_owned();
        Self {
            child,
            data_dir: data_dir.to_path_buf(),
            addr,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGKILL: no shutdown, no flush; what the server acknowledged must survive.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Kills the server and starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        let addr = self.addr.clone();
        for _ in 0..50 {
            let probe = std::net::TcpListener::bind(&addr);
            if probe.is_ok() {
                drop(probe);
                *self = Self::start_on(&self.data_dir.clone(), &addr);
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("port {addr} stayed busy after the kill");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A TCP proxy on loopback in front of a server that counts the bytes each way: what a phone's
/// sync costs on the wire, headers included.
#[derive(Debug)]
pub struct CountingProxy {
    pub addr: String,
    /// Phone to server.
    pub up: Arc<AtomicU64>,
    /// Server to phone.
    pub down: Arc<AtomicU64>,
}

impl CountingProxy {
    pub fn start(target: &str) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (up, down) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (up2, down2, target) = (up.clone(), down.clone(), target.to_owned());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = std::net::TcpStream::connect(&target) else {
                    continue;
                };
                let pump = |mut from: std::net::TcpStream,
                            mut to: std::net::TcpStream,
                            n: Arc<AtomicU64>| {
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16 * 1024];
                        loop {
                            match std::io::Read::read(&mut from, &mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(k) => {
                                    n.fetch_add(k as u64, Ordering::Relaxed);
                                    if std::io::Write::write_all(&mut to, &buf[..k]).is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                };
                pump(
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    up2.clone(),
                );
                pump(server, client, down2.clone());
            }
        });
        Self { addr, up, down }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Bytes both ways since the last call.
    pub fn take(&self) -> (u64, u64) {
        (
            self.up.swap(0, Ordering::Relaxed),
            self.down.swap(0, Ordering::Relaxed),
        )
    }
}
