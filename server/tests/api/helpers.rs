use std::io::BufRead;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use verivali_server::roles::Role;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;
use uuid::Uuid;
use verivali_core::merge::Merged;
use verivali_core::model::*;
use verivali_core::protocol::{EnrollResponse, PullResponse, PushItem, PushRequest, PushResponse};
use verivali_core::sample;
use verivali_server::admin;
use verivali_server::config::Config;
use verivali_server::db::Db;
use verivali_server::{Application, households};

/// A reqwest client for the tests. Built with the whole workspace, reqwest has the phone's rustls
/// without a crypto provider (feature unification), and then needs one installed first.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Everything the servers of this test binary log, at debug level. No NIK or family card number
/// of the test data may ever appear in it (UU 27/2022): each test's end checks the whole of it,
/// so a leak from any test fails the run.
fn captured_log() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let writer = log.clone();
        // Debug and up, as an operator may set it, with what the server always holds back.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(verivali_server::telemetry::without_statement_values(
                tracing_subscriber::EnvFilter::new("debug"),
            ))
            .with_ansi(false)
            .with_writer(move || SharedLog(writer.clone()))
            .try_init();
        log
    })
}

struct SharedLog(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for SharedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut log) = self.0.lock() {
            log.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The NIKs and family card numbers of the test data: those of the seeded households and the
/// ones tests type.
fn personal_numbers() -> &'static Vec<String> {
    static NUMBERS: OnceLock<Vec<String>> = OnceLock::new();
    NUMBERS.get_or_init(|| {
        let mut numbers: Vec<String> = ["1604010101750002", "1604010505600006"]
            .map(String::from)
            .to_vec();
        for i in 0..30 {
            let h = household(i);
            if let Some(Entered::Valid(kk)) = &h.kk_number {
                numbers.push(kk.as_str().to_owned());
            }
            numbers.extend(h.members.iter().filter_map(|m| match &m.details.nik {
                Some(Entered::Valid(nik)) => Some(nik.as_str().to_owned()),
                _ => None,
            }));
        }
        numbers
    })
}

/// Panics if a personal number of the test data reached the log, naming where (masked).
fn assert_log_holds_no_personal_number() {
    let log = captured_log()
        .lock()
        .map(|log| String::from_utf8_lossy(&log).into_owned())
        .unwrap_or_default();
    for number in personal_numbers() {
        if let Some(at) = log.find(number.as_str()) {
            let line = log[..at].lines().count();
            panic!(
                "a NIK or KK number of the test data ({}) reached the log, line {line}",
                verivali_server::privacy::mask_number(number)
            );
        }
    }
}

/// A running server with a demo-like district: village A (RW 1 and RW 2) and village B, 10
/// households in each place.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub db: Db,
    pub dir: TempDir,
    /// The PostgreSQL database the server keeps its data in (`VERIVALI_TEST_ENGINE=postgres`);
    /// none on SQLite, where it is in `dir`.
    pub database: Option<String>,
    stop: Option<oneshot::Sender<()>>,
}

pub const VILLAGE_A: &str = "16.04.01.2001";
pub const VILLAGE_B: &str = "16.04.01.2002";

/// Household `i` of a place: A/RW1 are 0..10, A/RW2 10..20, B 20..30.
/// Asserts that the server accepted every item of a push.
pub fn assert_all_accepted(answer: &PushResponse) {
    assert!(
        answer
            .results
            .iter()
            .all(|r| r.status == verivali_core::protocol::PushStatus::Accepted),
        "{:?}",
        answer.results
    );
}

pub fn household(i: u64) -> Household {
    let (village, rw) = match i {
        0..10 => (VILLAGE_A, 1),
        10..20 => (VILLAGE_A, 2),
        _ => (VILLAGE_B, 1),
    };
    sample::household(
        i,
        &RegionCode::parse(village).unwrap(),
        rw,
        1 + (i % 2) as u16,
    )
}

/// Whether the suite runs on PostgreSQL (`VERIVALI_TEST_ENGINE=postgres`).
pub fn on_postgres() -> bool {
    std::env::var("VERIVALI_TEST_ENGINE").as_deref() == Ok("postgres")
}

/// With `VERIVALI_TEST_ENGINE=postgres`, each test's server keeps its data in a new database of
/// the cluster `VERIVALI_TEST_POSTGRES` names (scripts/postgres.sh), so that the suite runs on
/// the PostgreSQL engine; otherwise in the data directory's SQLite.
pub async fn postgres_for_test() -> Option<String> {
    if !on_postgres() {
        return None;
    }
    let url = std::env::var("VERIVALI_TEST_POSTGRES")
        .expect("VERIVALI_TEST_ENGINE=postgres needs VERIVALI_TEST_POSTGRES (scripts/postgres.sh)");
    let template = schema_template(&url).await;
    let name = format!("verivali_api_{}", Uuid::new_v4().simple());
    let (admin, create) = (
        url.clone(),
        format!("CREATE DATABASE {name} TEMPLATE {template}"),
    );
    tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        client.batch_execute(&create).unwrap();
    })
    .await
    .unwrap();
    Some(database_url(&url, &name))
}

fn database_url(cluster: &str, name: &str) -> String {
    let (server, _) = cluster
        .rsplit_once('/')
        .expect("a URL ending in a database name");
    format!("{server}/{name}")
}

/// A database with the server's schema, made once per test run by the server itself, that each
/// test's database is copied from: the schema with its province partitions takes a second or two
/// to create, a copy a tenth of that.
async fn schema_template(cluster: &str) -> String {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    let cluster = cluster.to_owned();
    TEMPLATE
        .get_or_init(|| async move {
            tokio::task::spawn_blocking(move || {
                let name = format!("verivali_template_{}", Uuid::new_v4().simple());
                let mut client = postgres::Client::connect(&cluster, postgres::NoTls).unwrap();
                client
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .unwrap();
                Db::open_postgres(&database_url(&cluster, &name))
                    .unwrap()
                    .close();
                name
            })
            .await
            .unwrap()
        })
        .await
        .clone()
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// The same with a changed configuration.
    pub async fn spawn_with(change: impl FnOnce(&mut Config)) -> Self {
        captured_log();
        let dir = TempDir::new().unwrap();
        let mut config = Config::for_data_dir(dir.path().to_path_buf());
        config.database = postgres_for_test().await;
        change(&mut config);
        let database = config.database.clone();
        let app = Application::build(config).await.unwrap();
        let addr = app.local_addr().unwrap();
        let db = app.db().clone();
        let seed_db = db.clone();
        tokio::task::spawn_blocking(move || {
            seed_db
                .write_blocking(|tx| {
                    for (code, name) in [
                        ("16", "Sumatera Selatan"),
                        ("16.04", "Lahat"),
                        ("16.04.01", "Contoh"),
                        (VILLAGE_A, "Desa A"),
                        (VILLAGE_B, "Desa B"),
                    ] {
                        tx.execute(
                            "INSERT INTO regions (code, name) VALUES (?1, ?2)",
                            &[&code, &name],
                        )?;
                    }
                    for i in 0..30 {
                        households::save_baseline(tx, &household(i), Timestamp::now_utc())?;
                    }
                    Ok::<_, verivali_server::db::DbError>(())
                })
                .unwrap()
        })
        .await
        .unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.serve(async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            client: http_client(),
            db,
            dir,
            database,
            stop: Some(stop),
        }
    }

    /// A reviewer of `region` (reads and decides); returns the API token.
    pub async fn supervisor(&self, region: &str) -> String {
        self.supervisor_as(region, Role::Reviewer).await
    }

    /// A supervisor of `region` in `role`; returns the API token.
    pub async fn supervisor_as(&self, region: &str, role: Role) -> String {
        let (db, region) = (self.db.clone(), RegionCode::parse(region).unwrap());
        tokio::task::spawn_blocking(move || {
            admin::add_supervisor(&db, "Supervisor Uji", region, role)
                .unwrap()
                .1
        })
        .await
        .unwrap()
    }

    pub async fn get_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Stops the server and its writer, keeping the data directory for another server.
    pub async fn stop_keeping_data(mut self) -> TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.close())
            .await
            .unwrap();
        std::mem::replace(&mut self.dir, TempDir::new().unwrap())
    }

    /// The audit log, one `action detail` line per entry, oldest first.
    pub fn audit(&self) -> Vec<String> {
        self.db
            .read_blocking(|c| {
                c.values::<String>(
                    "SELECT action || ' ' || coalesce(detail, '') FROM audit_log ORDER BY seq",
                    &[],
                )
            })
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Adds an enumerator with `areas` and enrolls a phone for them over HTTP.
    pub async fn phone(&self, areas: &[&str]) -> Phone {
        self.phone_with_ids(
            areas,
            EnumeratorId(Uuid::new_v4()),
            DeviceId(Uuid::now_v7()),
        )
        .await
    }

    /// The same, with the enumerator and device ids given (to run one phone against two servers).
    pub async fn phone_with_ids(
        &self,
        areas: &[&str],
        enumerator: EnumeratorId,
        device_id: DeviceId,
    ) -> Phone {
        let db = self.db.clone();
        let areas: Vec<_> = areas
            .iter()
            .map(|a| admin::parse_area(a).unwrap())
            .collect();
        let code = tokio::task::spawn_blocking(move || {
            let id = admin::add_enumerator_with_id(&db, enumerator, "Petugas Uji", areas).unwrap();
            admin::enrollment_code(&db, id, time::Duration::hours(1)).unwrap()
        })
        .await
        .unwrap();
        self.enroll(&code, device_id).await
    }

    /// Enrolls a phone under `device_id` with a one-time code; its numbering starts at 1.
    pub async fn enroll(&self, code: &str, device_id: DeviceId) -> Phone {
        let response = self
            .client
            .post(self.url("/api/v1/devices/enroll"))
            .json(&json!({"code": code, "device_id": device_id, "device_name": "HP uji"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let enrolled: EnrollResponse = response.json().await.unwrap();
        Phone {
            token: enrolled.token,
            device_id,
            enumerator_id: enrolled.enumerator_id,
            next_seq: 1,
        }
    }

    /// Another phone of `of`'s enumerator (a reinstall, a replacement), enrolled with a new code
    /// under a new device id; its numbering starts at 1.
    pub async fn another_phone(&self, of: &Phone) -> Phone {
        let (db, enumerator) = (self.db.clone(), of.enumerator_id);
        let code = tokio::task::spawn_blocking(move || {
            admin::enrollment_code(&db, enumerator, time::Duration::hours(1)).unwrap()
        })
        .await
        .unwrap();
        self.enroll(&code, DeviceId(Uuid::now_v7())).await
    }

    /// One pull page for the phone holding `token`, after `cursor` (empty: from the start).
    pub async fn pull_page(&self, token: &str, cursor: &str, limit: u32) -> PullResponse {
        self.get_as(
            token,
            &format!("/api/v1/sync/pull?cursor={cursor}&limit={limit}"),
        )
        .await
        .json()
        .await
        .unwrap()
    }

    /// Posts a supervisor's decision.
    pub async fn review(&self, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/reviews"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// A household's merged state as stored, with its hash.
    pub async fn merged(&self, household: HouseholdId) -> Merged {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            db.read_blocking(move |c| {
                let (state, hash): (String, String) = c.row(
                    "SELECT state, state_hash FROM households WHERE household_id = ?1",
                    &[&household.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                Ok::<_, verivali_server::db::DbError>(Merged {
                    state: serde_json::from_str(&state).unwrap(),
                    state_hash: Sha256::parse(&hash).unwrap(),
                })
            })
            .unwrap()
        })
        .await
        .unwrap()
    }

    pub async fn push(&self, phone: &Phone, items: &[PushItem]) -> PushResponse {
        let response = self
            .push_raw(
                phone,
                &serde_json::to_value(PushRequest {
                    sent_at: Timestamp::now_utc(),
                    items: items.to_vec(),
                    finished_up_to: None,
                })
                .unwrap(),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    pub async fn push_raw(&self, phone: &Phone, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/sync/push"))
            .bearer_auth(&phone.token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Every household state the phone can see, following pages to the end.
    pub async fn pull_all(&self, phone: &Phone) -> Vec<Merged> {
        pull_all_from(&self.client, &self.url(""), &phone.token).await
    }

    pub async fn visit_count(&self) -> u64 {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            db.read_blocking(|c| c.value::<i64>("SELECT count(*) FROM visits", &[]))
                .map(|n| n as u64)
                .unwrap()
        })
        .await
        .unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if !std::thread::panicking() {
            assert_log_holds_no_personal_number();
        }
    }
}

/// Every household state a phone sees at `base` (pages of 7), sorted by household id; each must
/// come exactly once.
pub async fn pull_all_from(client: &reqwest::Client, base: &str, token: &str) -> Vec<Merged> {
    let mut cursor = String::new();
    let mut states = Vec::new();
    loop {
        let page: PullResponse = client
            .get(format!("{base}/api/v1/sync/pull?cursor={cursor}&limit=7"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        states.extend(page.households);
        cursor = page.next_cursor;
        if !page.more {
            break;
        }
    }
    states.sort_by_key(|m| m.state.household.household_id);
    // Nothing changes while a test pulls: a household on two pages would be a paging bug.
    let ids: std::collections::BTreeSet<_> = states
        .iter()
        .map(|m| m.state.household.household_id)
        .collect();
    assert_eq!(
        ids.len(),
        states.len(),
        "a household came back on a later page"
    );
    states
}

/// A server process (the built binary) on a free loopback port, serving `data_dir` and, when
/// given, the PostgreSQL `database`; returns it with its address.
pub fn start_server(
    data_dir: &std::path::Path,
    database: Option<&str>,
) -> (std::process::Child, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_verivali-server"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(
            database
                .map(|url| ["--database", url])
                .into_iter()
                .flatten(),
        )
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    (child, addr)
}

/// The photos of `shas` the server at `base` asks `token`'s device to upload.
pub async fn missing_photos(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    shas: &[&Sha256],
) -> Value {
    let answer: Value = client
        .post(format!("{base}/api/v1/attachments/missing"))
        .bearer_auth(token)
        .json(&json!({ "sha256": shas }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["missing"].clone()
}

/// An enrolled phone.
pub struct Phone {
    pub token: String,
    pub device_id: DeviceId,
    pub enumerator_id: EnumeratorId,
    pub next_seq: u64,
}

impl Phone {
    /// A complete visit to household `i`, finished `minutes` ago, numbered next.
    pub fn visit(&mut self, i: u64, minutes: i64) -> PushItem {
        let h = household(i);
        let finished = Timestamp(Timestamp::now_utc().0 - time::Duration::minutes(minutes));
        let mut visit = sample::found_visit(
            &h,
            self.enumerator_id,
            self.device_id,
            finished,
            self.next_seq,
        );
        visit.visit_id = VisitId::new_v7();
        let item = PushItem {
            device_seq: self.next_seq,
            visit,
        };
        self.next_seq += 1;
        item
    }
}
