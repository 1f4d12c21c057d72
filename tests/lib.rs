//! The harness of the tests across crates (`tests/tests/`): a district seeded into a server's data
//! directory, and the server binary run as a real process on a loopback port, which a test can
//! kill with SIGKILL and start again on the same port.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use verivali_core::model::{
    Code, Household, Photo, PhotoKind, RegionCode, Sha256, Timestamp, VisitId,
};
use verivali_core::protocol::Area;
use verivali_core::sample;
use verivali_core::store::Store;
use verivali_server::db::{Db, DbError};
use verivali_server::roles::Role;
use verivali_server::store::Conn;
use verivali_server::{admin, households};

mod proxy;
pub use proxy::Proxy;

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
        save_regions(tx, &regions)?;
        for h in copy.iter().flatten() {
            households::save_baseline(tx, h, Timestamp::now_utc())?;
        }
        Ok::<_, DbError>(())
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
    let (_, supervisor_token) = admin::add_supervisor(
        &db,
        "Bappeda",
        RegionCode::parse("16.04").unwrap(),
        Role::Admin,
    )
    .unwrap();
    db.close();
    District {
        codes: enrollment_codes,
        villages: codes,
        households: all,
        supervisor_token,
    }
}

/// Lists the test regency's villages, with their province, regency and kecamatan, in the region
/// table.
pub fn save_regions(tx: Conn<'_>, villages: &[RegionCode]) -> Result<(), DbError> {
    let mut names = vec![
        ("16".to_owned(), "Sumatera Selatan".to_owned()),
        ("16.04".to_owned(), "Lahat".to_owned()),
    ];
    for code in villages {
        let district = code.as_str()[..8].to_owned();
        names.push((district.clone(), format!("Kecamatan {district}")));
        names.push((code.to_string(), format!("Desa {code}")));
    }
    for (code, name) in &names {
        verivali_server::store::enumerators::put_region(tx, code, name)?;
    }
    Ok(())
}

/// Finishes a complete visit (the sample's answers) to `household` on the phone, as the form
/// would: a draft started 20 minutes ago, filled, saved, finished now.
pub fn record_visit(store: &Store, household: &Household, n: u64) -> VisitId {
    record_visit_with_photo(store, household, n, None)
}

/// A visit as [`record_visit`], with a photo of the house front when `photo` has its bytes.
pub fn record_visit_with_photo(
    store: &Store,
    household: &Household,
    n: u64,
    photo: Option<&[u8]>,
) -> VisitId {
    let now = Timestamp::now_utc();
    let draft = store
        .start_visit(
            Some(household.household_id),
            Timestamp(now.0 - time::Duration::minutes(20)),
        )
        .unwrap();
    let mut visit = sample::fill_draft(&draft, household, now, n);
    if let Some(bytes) = photo {
        visit.photos.push(Photo {
            sha256: store.put_attachment(bytes).unwrap(),
            kind: PhotoKind::HouseFront,
        });
    }
    store.save_draft(&visit).unwrap();
    store.finish_visit(visit.visit_id, now, None).unwrap();
    visit.visit_id
}

/// Phone `n`'s store among the phone processes' directories (the directory made if missing).
pub fn phone_store(phones: &Path, n: usize) -> String {
    let dir = phones.join(n.to_string());
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("store.db").to_string_lossy().into_owned()
}

/// Waits for each phone process and fails the test with the phone's number if one failed.
pub fn wait_all(children: Vec<Child>) {
    for (n, mut child) in children.into_iter().enumerate() {
        let status = child.wait().unwrap();
        assert!(status.success(), "phone {n} failed: {status}");
    }
}

/// Copies a directory with everything in it: a data directory or a phone's store, taken while
/// no process has it open.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// What a stopped server holds: its visits (id → content hash), each household's state hash
/// and status, and the photos in its attachment store.
#[derive(Debug)]
pub struct Held {
    pub visits: BTreeMap<String, String>,
    pub distinct_contents: usize,
    pub states: BTreeMap<String, (String, String)>,
    pub photos: BTreeSet<String>,
}

pub fn held(data_dir: &Path) -> Held {
    let db = Db::open(data_dir).unwrap();
    let (visits, distinct_contents, states) = db
        .read_blocking(|c| {
            let visits: BTreeMap<String, String> = c
                .rows("SELECT visit_id, content_hash FROM visits", &[], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .into_iter()
                .collect();
            let distinct: i64 = c.value("SELECT count(DISTINCT content_hash) FROM visits", &[])?;
            let distinct = distinct as usize;
            let states: BTreeMap<String, (String, String)> = c
                .rows(
                    "SELECT household_id, state_hash, status FROM households",
                    &[],
                    |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))),
                )?
                .into_iter()
                .collect();
            Ok::<_, DbError>((visits, distinct, states))
        })
        .unwrap();
    db.close();
    // Complete photos are filed under the first two letters of their hash; `partial/` holds
    // uploads under way, which a finished sync leaves none of.
    let mut photos = BTreeSet::new();
    for shelf in std::fs::read_dir(data_dir.join("attachments")).unwrap() {
        let shelf = shelf.unwrap();
        if shelf.file_name() == "partial" {
            continue;
        }
        for photo in std::fs::read_dir(shelf.path()).unwrap() {
            let photo = photo.unwrap();
            let name = photo.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(photo.path()).unwrap();
            assert_eq!(Sha256::of(&bytes).as_str(), name, "a photo not whole");
            photos.insert(name);
        }
    }
    Held {
        visits,
        distinct_contents,
        states,
        photos,
    }
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
    built_binary("verivali-server", "cargo build -p verivali-server")
}

/// The simulated phone (`phone_sim.rs`) running `args`, its errors shown with the test's.
pub fn phone_sim(args: &[&str]) -> Command {
    let mut command = Command::new(built_binary(
        "verivali-phone-sim",
        "cargo build -p verivali-e2e",
    ));
    command.args(args).stderr(Stdio::inherit());
    command
}

/// A binary built beside the running test: target/<profile>/deps/<test> → target/<profile>/name.
fn built_binary(name: &str, build: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: build it with `{build}` (or run the whole workspace's tests)",
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
    /// `http`, or `https` when it serves its own certificate.
    scheme: String,
}

impl ServerProcess {
    /// Starts a server on a free port.
    pub fn start(data_dir: &Path) -> Self {
        Self::start_on(data_dir, "127.0.0.1:0", &[])
    }

    /// Starts a server on a free port with settings given as environment variables (each
    /// `--option` of `serve` has one, e.g. `VERIVALI_MIN_APP_VERSION`). A restart drops them.
    pub fn start_with(data_dir: &Path, settings: &[(&str, &str)]) -> Self {
        Self::start_on(data_dir, "127.0.0.1:0", settings)
    }

    fn start_on(data_dir: &Path, bind: &str, settings: &[(&str, &str)]) -> Self {
        let mut child = Command::new(server_binary())
            .args(["serve", "--bind", bind, "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .envs(settings.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = match lines.next() {
            Some(Ok(line)) => line,
            other => panic!("the server did not start: {other:?}"),
        };
        // "… listening on http://127.0.0.1:PORT (…)", or https:// with a certificate.
        let (scheme, rest) = line
            .split_once("listening on ")
            .and_then(|(_, rest)| rest.split_once("://"))
            .unwrap();
        let addr = rest.split(' ').next().unwrap().to_owned();
        Self {
            child,
            data_dir: data_dir.to_path_buf(),
            addr,
            scheme: scheme.to_owned(),
        }
    }

    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
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
                *self = Self::start_on(&self.data_dir.clone(), &addr, &[]);
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

/// `verivali-server demo` as a process on a free port, its phones visiting every `pace_ms`, with
/// what it printed: address, the supervisor's login, password and API token.
#[derive(Debug)]
pub struct DemoProcess {
    child: Child,
    pub url: String,
    pub login: String,
    pub password: String,
    pub token: String,
}

impl DemoProcess {
    pub fn start(data_dir: &Path, pace_ms: u64) -> Self {
        let mut child = Command::new(server_binary())
            .args([
                "demo",
                "--bind",
                "127.0.0.1:0",
                "--pace-ms",
                &pace_ms.to_string(),
                "--data-dir",
            ])
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut printed = String::new();
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            printed.push_str(&line);
            printed.push('\n');
            if line.contains("listening on") {
                break;
            }
        }
        let after = |marker: &str| {
            printed
                .split(marker)
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned()
        };
        Self {
            url: after("listening on "),
            login: after("sign in as "),
            password: after("with password "),
            token: after("API token: "),
            child,
        }
    }
}

/// Adds a supervisor of `region` in `role` to a data directory through the server's CLI (while
/// its server runs, as a district's IT officer would), with a browser sign-in of `login` and
/// `password`.
pub fn add_supervisor_by_cli(
    data_dir: &Path,
    login: &str,
    password: &str,
    region: &str,
    role: &str,
) {
    let dir = data_dir.to_str().unwrap();
    let added = Command::new(server_binary())
        .args([
            "supervisor",
            "add",
            "--name",
            login,
            "--region",
            region,
            "--role",
            role,
        ])
        .args(["--data-dir", dir])
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let printed = String::from_utf8_lossy(&added.stdout);
    let id = printed.split_whitespace().nth(1).unwrap().to_owned();
    let mut set = Command::new(server_binary())
        .args([
            "supervisor",
            "set-password",
            "--supervisor",
            &id,
            "--login",
            login,
        ])
        .args(["--data-dir", dir])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(set.stdin.take().unwrap(), "{password}").unwrap();
    assert!(set.wait().unwrap().success());
}

impl Drop for DemoProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
