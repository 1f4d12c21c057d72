//! Ingest on field-like data (issue 13): prints figures, asserts only that every answer is the
//! one a phone expects.
//!
//!     cargo bench -p verivali-server --bench field                  # 20,000 and 100,000 visits
//!     VERIVALI_BENCH_VISITS=1000000 cargo bench -p verivali-server --bench field
//!     scripts/bench-peers.sh      # the same, with RxDB server and pouchdb-server beside it
//!
//! A district as the field makes one: villages of three provinces read from the national region
//! list (`../shared/reference/wilayah.csv`), one in each time zone (WIB, WITA, WIT); P3KE family and
//! individual files written for them (families of one to seven members with NIKs, a few missing)
//! and imported by the server's own `import-targets`; enumerators added by the CLI; phones
//! enrolled through the API, which learn their households by a first pull. Each phone then visits
//! its households in order: complete visits with members added, corrected, moved out or deceased,
//! every indicator group, notes, a location, a photo and, for half the families, the family card
//! number; the phone's clock in its zone's offset; one household in ten visited a second time a
//! few pushes later. Pushes are gzipped batches, as the phone's sync client sends them.
//!
//! The server is the release binary in its own process on loopback with `synchronous=FULL`, so its
//! CPU is read from its `/proc` entry, apart from this client's. The store grows through each level
//! (20,000, 100,000, 1,000,000 visits, up to `VERIVALI_BENCH_VISITS`); at each, the last 20,000
//! visits are the measured window: push, the same pushes again (a retry storm), a first pull of
//! the whole district by one device, and the progress report of the WIB province's villages as a
//! supervisor's browser asks for it (`GET /api/v1/reports/progress`, 10 times).
//!
//! With `VERIVALI_BENCH_PEERS=name=kind@url@pid,...` (kind `rxdb` or `pouchdb`; set by
//! `scripts/bench-peers.sh`), every segment pushed to Verivali is pushed to each peer too, the same
//! visits as documents in batches of the same size from the same number of clients, and pulled.
//! `VERIVALI_BENCH_WAL=1` counts the WAL frames of each measured push by table and index.
//!
//! With `VERIVALI_BENCH_DATABASE=postgres://…/postgres` (a cluster, as `scripts/postgres.sh`
//! starts one) the server keeps its data in a new PostgreSQL database of it, and with
//! `VERIVALI_BENCH_PROCESSES=2` two server processes share it, each phone pushing to one of them
//! in turn; the server CPU is then the processes' and PostgreSQL's together (issue 16, item 7).
//! `scripts/bench-engines.sh` runs the three side by side.

// The bench reads the store directly for its figures (server/clippy.toml).
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

#[path = "../common/mod.rs"]
mod common;
mod peers;
mod wal_frames;

use peers::Peer;

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Resident, Usage, database, env_usize, mix, proc_dir};
use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;
use verivali_core::merge::Merged;
use verivali_core::model::*;
use verivali_core::protocol::{
    EnrollResponse, PullResponse, PushItem, PushRequest, PushResponse, PushStatus,
};
use verivali_core::sample;

/// The measured window at each level.
const WINDOW: usize = 20_000;
/// Families per village: P3KE lists hold tens to hundreds in a village.
const HOUSEHOLDS_PER_VILLAGE: usize = 200;
/// One household in this many is visited a second time.
const REVISIT_EVERY: usize = 10;
/// How many visits of its own a phone makes before it returns to a household.
const REVISIT_AFTER: usize = 250;

/// A time zone and the province whose villages are in it.
struct Zone {
    name: &'static str,
    offset_hours: i8,
    province: &'static str,
    /// Near the province's villages, for the GPS points.
    lat: f64,
    lon: f64,
}

const ZONES: [Zone; 3] = [
    Zone {
        name: "WIB",
        offset_hours: 7,
        province: "16",
        lat: -3.8,
        lon: 103.5,
    },
    Zone {
        name: "WITA",
        offset_hours: 8,
        province: "53",
        lat: -8.7,
        lon: 121.0,
    },
    Zone {
        name: "WIT",
        offset_hours: 9,
        province: "91",
        lat: -2.6,
        lon: 140.7,
    },
];

struct Settings {
    visits: usize,
    phones: usize,
    batch: usize,
    peers: Vec<Peer>,
    /// `VERIVALI_BENCH_WAL=1`: the WAL frames of each measured push, by b-tree (wal_frames.rs).
    wal_frames: bool,
    /// Server processes sharing one PostgreSQL database (`VERIVALI_BENCH_PROCESSES`).
    processes: usize,
}

/// The CPU seconds of the PostgreSQL cluster on this machine: its live processes, and the
/// connections that ended (counted in the postmaster's children's times).
fn postgres_cpu() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    let mut total = 0.0;
    for entry in entries.flatten() {
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if comm.trim() != "postgres" {
            continue;
        }
        total += common::cpu_seconds(&entry.path().join("stat"));
        total += common::children_cpu_seconds(&entry.path().join("stat"));
    }
    total
}

impl Settings {
    fn from_env() -> Self {
        let peers = std::env::var("VERIVALI_BENCH_PEERS")
            .unwrap_or_default()
            .split(',')
            .filter(|p| !p.is_empty())
            .map(Peer::parse)
            .collect();
        Self {
            visits: env_usize("VERIVALI_BENCH_VISITS", 100_000),
            phones: env_usize("VERIVALI_BENCH_PHONES", 50),
            batch: env_usize("VERIVALI_BENCH_BATCH", 200),
            peers,
            wal_frames: env_usize("VERIVALI_BENCH_WAL", 0) != 0,
            processes: env_usize("VERIVALI_BENCH_PROCESSES", 1).max(1),
        }
    }

    /// The store sizes reported: 20,000, 100,000 and 1,000,000 visits, up to the largest asked.
    fn levels(&self) -> Vec<usize> {
        let mut levels: Vec<usize> = [20_000, 100_000, 1_000_000]
            .into_iter()
            .filter(|l| *l < self.visits)
            .collect();
        levels.push(self.visits);
        levels
    }
}

/// A village of the district and its zone.
struct Village {
    code: RegionCode,
    zone: usize,
}

/// Villages of the three zones' provinces, taken in turn, `count` in all.
fn villages(count: usize) -> Vec<Village> {
    let list = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/wilayah.csv");
    let mut reader = csv::Reader::from_path(&list).unwrap();
    let mut by_zone: Vec<VecDeque<RegionCode>> = ZONES.iter().map(|_| VecDeque::new()).collect();
    for row in reader.records() {
        let row = row.unwrap();
        let Ok(code) = RegionCode::parse(&row[0]) else {
            continue;
        };
        if code.level() != RegionLevel::Village {
            continue;
        }
        if let Some(zone) = ZONES
            .iter()
            .position(|z| code.as_str().starts_with(&format!("{}.", z.province)))
        {
            by_zone[zone].push_back(code);
        }
    }
    let mut chosen = Vec::with_capacity(count);
    while chosen.len() < count {
        let before = chosen.len();
        for (zone, codes) in by_zone.iter_mut().enumerate() {
            if chosen.len() < count
                && let Some(code) = codes.pop_front()
            {
                chosen.push(Village { code, zone });
            }
        }
        assert!(
            chosen.len() > before,
            "the region list has too few villages"
        );
    }
    chosen
}

const GIVEN_MALE: [&str; 16] = [
    "BUDI", "AGUS", "JOKO", "RAHMAT", "EKO", "SLAMET", "DEDI", "HENDRA", "YUSUF", "ANDI", "IWAN",
    "SUPARMAN", "MARTHEN", "YOHANES", "LA ODE", "I WAYAN",
];
const GIVEN_FEMALE: [&str; 16] = [
    "SITI",
    "SRI",
    "DEWI",
    "NUR",
    "WATI",
    "YUNI",
    "RINA",
    "MARIA",
    "FATIMAH",
    "AMINAH",
    "SUSANTI",
    "NI LUH",
    "YOSINA",
    "MARLINA",
    "ROSMAWATI",
    "ELISABETH",
];
const FAMILY: [&str; 16] = [
    "RAHAYU",
    "SANTOSO",
    "LESTARI",
    "HIDAYAT",
    "WAHYUNI",
    "SAPUTRA",
    "KURNIAWAN",
    "HANDAYANI",
    "SIREGAR",
    "NDRUNG",
    "WENDA",
    "KOGOYA",
    "TAOLIN",
    "DA COSTA",
    "PURBA",
    "SIMANJUNTAK",
];
const OCCUPATIONS: [&str; 6] = [
    "PETANI",
    "NELAYAN",
    "PEKERJA LEPAS",
    "PEDAGANG",
    "WIRASWASTA",
    "TIDAK/BELUM BEKERJA",
];
const EDUCATION: [&str; 5] = [
    "TIDAK/BELUM SEKOLAH",
    "TIDAK TAMAT SD/SEDERAJAT",
    "TAMAT SD/SEDERAJAT",
    "TAMAT SLTP/SEDERAJAT",
    "TAMAT SLTA/SEDERAJAT",
];
const NOTES: [&str; 8] = [
    "Rumah panggung, dinding papan sebagian lapuk.",
    "Kepala keluarga bekerja serabutan di kebun sawit.",
    "Anak kedua putus sekolah, membantu orang tua di ladang.",
    "Responden menunjukkan KK asli; alamat sesuai.",
    "Air minum dari sumur bersama, jaraknya sekitar 200 m.",
    "Istri sakit menahun, belum terdaftar BPJS PBI.",
    "Keluarga menumpang di rumah orang tua.",
    "Tetangga membenarkan kondisi keluarga.",
];

fn name(seed: u64, male: bool) -> String {
    let given = if male { GIVEN_MALE } else { GIVEN_FEMALE };
    format!(
        "{} {}",
        given[(seed % 16) as usize],
        FAMILY[(seed / 16 % 16) as usize]
    )
}

fn birth(seed: u64, min_age: i32, max_age: i32) -> time::Date {
    let year = 2026 - min_age - (seed % (max_age - min_age + 1) as u64) as i32;
    let month = time::Month::try_from(1 + (seed / 7 % 12) as u8).unwrap();
    time::Date::from_calendar_date(year, month, 1 + (seed / 13 % 28) as u8).unwrap()
}

/// Writes the P3KE family and individual files of the district: returns their paths and the
/// number of individuals.
fn write_target_files(dir: &Path, villages: &[Village]) -> (PathBuf, PathBuf, usize) {
    let family_path = dir.join("P3KE-KEPALA-KELUARGA.csv");
    let individual_path = dir.join("P3KE-INDIVIDU.csv");
    let mut families = csv::Writer::from_path(&family_path).unwrap();
    let mut individuals = csv::Writer::from_path(&individual_path).unwrap();
    families
        .write_record([
            "ID Keluarga P3KE",
            "Kode Kemdagri",
            "Desil Kesejahteraan",
            "Alamat",
            "Kepala Keluarga",
            "NIK Kepala Keluarga",
            "Penerima BPNT",
            "Penerima PKH",
            "Penerima SEMBAKO",
            "Prioritas Verval",
        ])
        .unwrap();
    individuals
        .write_record([
            "ID Keluarga P3KE",
            "Kode Kemdagri",
            "ID Individu",
            "Nama",
            "NIK",
            "Jenis Kelamin",
            "Hubungan dengan Kepala Keluarga",
            "Tanggal Lahir",
            "Status Kawin",
            "Pekerjaan",
            "Pendidikan",
        ])
        .unwrap();
    let yes_no = |b: bool| if b { "Ya" } else { "Tidak" };
    let mut people = 0;
    for (v, village) in villages.iter().enumerate() {
        let kemdagri = village.code.undotted();
        for i in 0..HOUSEHOLDS_PER_VILLAGE {
            let index = (v * HOUSEHOLDS_PER_VILLAGE + i) as u64;
            let seed = mix(index);
            let family_id = format!("{}", 300_000_000 + index);
            // One to seven members, four the most common.
            let size = [1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 6, 6, 7][(seed % 16) as usize];
            let head_male = seed % 100 < 85;
            // (relation, male, born, NIK left empty)
            let mut members = vec![("KEPALA KELUARGA", head_male, birth(seed, 25, 70), false)];
            if size >= 2 {
                members.push(("ISTRI/SUAMI", !head_male, birth(seed / 3, 22, 65), false));
            }
            for c in 2..size {
                let s = mix(seed ^ c);
                let relation = if c == 6 { "ORANG TUA" } else { "ANAK" };
                let born = if c == 6 {
                    birth(s, 60, 85)
                } else {
                    birth(s, 0, 20)
                };
                // As P3KE lists often have it: a young child without NIK, for the field to fill.
                members.push((relation, s.is_multiple_of(2), born, s.is_multiple_of(20)));
            }
            let head_nik = sample::nik(&village.code, sexof(head_male), members[0].2, seed);
            let head_name = name(seed, head_male);
            families
                .write_record([
                    family_id.as_str(),
                    kemdagri.as_str(),
                    &format!("{}", 1 + seed % 4),
                    &format!("DUSUN {} NO. {}", 1 + seed % 6, 1 + i),
                    &head_name,
                    head_nik.as_str(),
                    yes_no(seed.is_multiple_of(3)),
                    yes_no(seed % 5 < 2),
                    yes_no(seed.is_multiple_of(2)),
                    if seed.is_multiple_of(50) {
                        "NIK DUPLIKAT"
                    } else {
                        "NORMAL"
                    },
                ])
                .unwrap();
            for (m, (relation, male, born, no_nik)) in members.iter().enumerate() {
                let s = mix(seed ^ (m as u64 + 100));
                let nik = if m == 0 {
                    head_nik.clone()
                } else {
                    sample::nik(&village.code, sexof(*male), *born, s)
                };
                let married = matches!(*relation, "KEPALA KELUARGA" | "ISTRI/SUAMI" | "ORANG TUA");
                let adult = born.year() < 2008;
                individuals
                    .write_record([
                        family_id.as_str(),
                        kemdagri.as_str(),
                        &format!("{}", 1_000_000_000 + index * 8 + m as u64),
                        &if m == 0 {
                            head_name.clone()
                        } else {
                            name(s, *male)
                        },
                        if *no_nik { "" } else { nik.as_str() },
                        if *male { "LAKI-LAKI" } else { "PEREMPUAN" },
                        relation,
                        &format!(
                            "{:02}-{:02}-{}",
                            born.day(),
                            born.month() as u8,
                            born.year()
                        ),
                        if married { "KAWIN" } else { "BELUM KAWIN" },
                        if adult {
                            OCCUPATIONS[(s % 6) as usize]
                        } else {
                            "TIDAK/BELUM BEKERJA"
                        },
                        EDUCATION[(s / 6 % 5) as usize],
                    ])
                    .unwrap();
                people += 1;
            }
        }
    }
    families.flush().unwrap();
    individuals.flush().unwrap();
    (family_path, individual_path, people)
}

fn sexof(male: bool) -> Sex {
    if male { Sex::Male } else { Sex::Female }
}

/// The server under test: the release binary in a process of its own.
struct Server {
    child: Child,
    url: String,
}

/// The release build of this tree, or another one to compare with (`VERIVALI_BENCH_SERVER`).
fn server_binary() -> String {
    std::env::var("VERIVALI_BENCH_SERVER")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_verivali-server").to_owned())
}

/// Runs a command of the server's CLI on the data directory; returns what it printed.
fn cli(data_dir: &Path, args: &[&str]) -> String {
    let output = Command::new(server_binary())
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .args(
            database()
                .map(|url| ["--database", url])
                .into_iter()
                .flatten(),
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

impl Server {
    fn start(data_dir: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(server_binary())
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(data_dir)
            .args(
                database()
                    .map(|url| ["--database", url])
                    .into_iter()
                    .flatten(),
            )
            // Fifty phones enroll from one address within a minute.
            .env("VERIVALI_ENROLL_ATTEMPTS_PER_MINUTE", "100000")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, url }
    }

    fn cpu(&self) -> Usage {
        Usage::of(&proc_dir(self.child.id()))
    }
}

/// The server processes of a run: one on SQLite, one or more on one PostgreSQL database.
struct Servers(Vec<Server>);

impl Servers {
    fn start(data_dir: &Path, processes: usize) -> Self {
        Self((0..processes).map(|_| Server::start(data_dir)).collect())
    }

    fn first(&self) -> &Server {
        &self.0[0]
    }

    fn urls(&self) -> Vec<String> {
        self.0.iter().map(|s| s.url.clone()).collect()
    }

    /// The CPU the store took: the server processes', and on PostgreSQL the database's too.
    fn cpu(&self) -> Usage {
        let mut total = Usage::default();
        for server in &self.0 {
            total = total.plus(&server.cpu());
        }
        if database().is_some() {
            total.process += postgres_cpu();
        }
        total
    }
}

/// `perf record` of the server while it lives, when `VERIVALI_BENCH_PROFILE` names a directory.
struct Profile(Option<Child>);

impl Server {
    /// Samples the server's stacks into `VERIVALI_BENCH_PROFILE/push-LEVEL.data` until dropped.
    fn profile(&self, level: usize) -> Profile {
        let Ok(dir) = std::env::var("VERIVALI_BENCH_PROFILE") else {
            return Profile(None);
        };
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("perf")
            .args([
                "record",
                "-e",
                "cpu-clock",
                "-F",
                "999",
                "--call-graph",
                "dwarf",
                "-o",
            ])
            .arg(Path::new(&dir).join(format!("push-{level}.data")))
            .args(["-p", &self.child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // perf needs a moment to attach.
        std::thread::sleep(Duration::from_millis(300));
        Profile(Some(child))
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            // SIGINT lets perf write its file out.
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An enrolled phone and what it knows.
struct Phone {
    token: String,
    device_id: DeviceId,
    enumerator_id: EnumeratorId,
    zone: usize,
    households: Vec<Household>,
    /// The order it visits them in: (household, second visit).
    plan: Vec<(usize, bool)>,
    seq: u64,
}

fn gunzip_if(bytes: &[u8], gzipped: bool) -> Vec<u8> {
    if !gzipped {
        return bytes.to_vec();
    }
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut out).unwrap();
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Pulls every household of the device's areas from an empty cursor, as a new phone does:
/// the states, and the bytes on the wire (gzipped).
async fn first_pull(client: &reqwest::Client, url: &str, token: &str) -> (Vec<Merged>, usize) {
    let (mut cursor, mut states, mut wire) = (String::new(), Vec::new(), 0);
    loop {
        let answer = client
            .get(format!("{url}/api/v1/sync/pull?cursor={cursor}&limit=1000"))
            .bearer_auth(token)
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "pull: {}", answer.status());
        let gzipped = answer
            .headers()
            .get("content-encoding")
            .is_some_and(|v| v == "gzip");
        let bytes = answer.bytes().await.unwrap();
        wire += bytes.len();
        let page: PullResponse = serde_json::from_slice(&gunzip_if(&bytes, gzipped)).unwrap();
        states.extend(page.households);
        cursor = page.next_cursor;
        if !page.more {
            return (states, wire);
        }
    }
}

async fn enroll(
    client: &reqwest::Client,
    url: &str,
    code: &str,
    name: &str,
) -> (DeviceId, EnrollResponse) {
    let device_id = DeviceId(Uuid::now_v7());
    let answer = client
        .post(format!("{url}/api/v1/devices/enroll"))
        .json(&serde_json::json!({"code": code, "device_id": device_id, "device_name": name}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "enroll: {}", answer.status());
    (device_id, answer.json().await.unwrap())
}

/// The order a phone visits its households in: each once, and one in ten again a few pushes later.
fn visit_plan(households: usize) -> Vec<(usize, bool)> {
    let mut plan = Vec::with_capacity(households + households / REVISIT_EVERY + 1);
    let mut due: VecDeque<(usize, usize)> = VecDeque::new();
    for h in 0..households {
        plan.push((h, false));
        if h % REVISIT_EVERY == 0 {
            due.push_back((plan.len() + REVISIT_AFTER, h));
        }
        while due.front().is_some_and(|(at, _)| *at <= plan.len()) {
            let (_, again) = due.pop_front().unwrap();
            plan.push((again, true));
        }
    }
    plan.extend(due.into_iter().map(|(_, h)| (h, true)));
    plan
}

/// A complete visit of `household` by `phone`, its `seq`th, finished at `finished` (UTC), written
/// with the phone's clock in its zone.
fn field_visit(
    phone: &Phone,
    household: &Household,
    second: bool,
    finished: OffsetDateTime,
) -> Visit {
    let seq = phone.seq;
    let seed = mix(seq ^ household.household_id.0.as_u64_pair().0);
    let zone = &ZONES[phone.zone];
    let offset = UtcOffset::from_hms(zone.offset_hours, 0, 0).unwrap();
    let local = |t: OffsetDateTime| Timestamp(t.to_offset(offset));
    let mut visit = sample::found_visit(
        household,
        phone.enumerator_id,
        phone.device_id,
        local(finished),
        seq,
    );
    visit.visit_id = VisitId::new_v7();
    visit.started_at = local(finished - time::Duration::minutes(12 + (seed % 25) as i64));
    visit.finished_at = Some(local(finished));
    let village = mix(household.region.undotted().parse::<u64>().unwrap_or(0));
    visit.location = Some(Location {
        lat: zone.lat + (village % 2000) as f64 / 1000.0 + (seed % 300) as f64 / 100_000.0,
        lon: zone.lon
            + (village / 2000 % 2000) as f64 / 1000.0
            + (seed / 300 % 300) as f64 / 100_000.0,
        accuracy_m: 4.0 + (seed % 25) as f64,
        source: LocationSource::Gps,
    });
    visit.respondent_name = Some(household.head_name.clone());
    if seed.is_multiple_of(2) {
        visit.kk_number = Some(Entered::from_input(&sample::family_card(household)));
    }
    visit.notes = Some(format!(
        "{} {}",
        NOTES[(seed % 8) as usize],
        NOTES[(seed / 8 % 8) as usize]
    ));
    visit.photos = vec![Photo {
        sha256: Sha256::of(visit.visit_id.to_string().as_bytes()),
        kind: PhotoKind::HouseFront,
    }];
    visit.housing.floor_area_m2 = Some(18.0 + (seed % 60) as f64);
    visit.welfare.monthly_expenditure_rp = Some(600_000 + (seed % 40) * 25_000);
    if second {
        // Back to settle what the first visit left: the assessment may differ.
        visit.assessment = Some(if seed.is_multiple_of(3) {
            Assessment::Vulnerable
        } else {
            Assessment::ExtremePoor
        });
        visit.notes = Some("Kunjungan ulang untuk memastikan kondisi keluarga.".into());
        return visit;
    }
    let listed: Vec<&Member> = household.members.iter().collect();
    // A member's details corrected (spelling of a name, school finished, a new occupation).
    if let Some(member) = listed.get((seed % 7) as usize % listed.len().max(1))
        && seed % 10 < 4
    {
        visit.member_changes.push(MemberChange::Update {
            member_id: member.member_id,
            details: MemberDetails {
                education: Some(Education::JuniorSecondaryCompleted),
                occupation: Some(Occupation::CasualWorker),
                ..MemberDetails::default()
            },
        });
    }
    // A baby born since the list was made.
    if seed.is_multiple_of(4) {
        let born = (finished - time::Duration::days(30 + (seed % 300) as i64)).date();
        visit.member_changes.push(MemberChange::Add {
            member: Member {
                member_id: MemberId(Uuid::now_v7()),
                source_member_id: None,
                details: MemberDetails {
                    name: Some(name(seed, seed.is_multiple_of(3))),
                    nik_missing_reason: Some(NikMissingReason::NotYetIssued),
                    sex: Some(sexof(seed.is_multiple_of(3))),
                    birth_date: Some(born),
                    relation: Some(Relation::Child),
                    marital_status: Some(MaritalStatus::NeverMarried),
                    education: Some(Education::NoSchooling),
                    occupation: Some(Occupation::NotWorking),
                    ..MemberDetails::default()
                },
                presence: Presence::Present,
                presence_date: None,
            },
        });
    }
    // A grown child moved out, or a grandparent died.
    if listed.len() > 2 && seed % 20 == 1 {
        visit.member_changes.push(MemberChange::MarkMoved {
            member_id: listed[listed.len() - 1].member_id,
            date: Some((finished - time::Duration::days(200)).date()),
        });
    } else if listed.len() > 2 && seed % 50 == 2 {
        visit.member_changes.push(MemberChange::MarkDeceased {
            member_id: listed[listed.len() - 1].member_id,
            date: Some((finished - time::Duration::days(90)).date()),
        });
    }
    visit
}

/// The visits each phone makes between two points of its plan, with their numbers.
fn visits_between(
    phones: &mut [Phone],
    from: usize,
    to: usize,
    now: OffsetDateTime,
) -> Vec<Vec<PushItem>> {
    phones
        .iter_mut()
        .map(|phone| {
            let end = to.min(phone.plan.len());
            (from.min(end)..end)
                .map(|p| {
                    let (h, second) = phone.plan[p];
                    phone.seq += 1;
                    // Visits half a minute apart, the last one just before now.
                    let finished = now - time::Duration::seconds(30 * (end - p) as i64);
                    let visit = field_visit(phone, &phone.households[h], second, finished);
                    PushItem {
                        device_seq: phone.seq,
                        visit,
                    }
                })
                .collect()
        })
        .collect()
}

/// Each phone's pushes: its token and a gzipped body.
type PushBodies = Vec<Vec<(String, Vec<u8>)>>;

/// Push bodies for Verivali: gzipped JSON, `batch` visits each, per phone; and the bytes of JSON
/// before gzip.
fn push_bodies(phones: &[Phone], items: &[Vec<PushItem>], batch: usize) -> (PushBodies, usize) {
    let mut json_bytes = 0;
    let bodies = phones
        .iter()
        .zip(items)
        .map(|(phone, items)| {
            let offset = UtcOffset::from_hms(ZONES[phone.zone].offset_hours, 0, 0).unwrap();
            items
                .chunks(batch)
                .map(|chunk| {
                    let request = PushRequest {
                        sent_at: Timestamp(OffsetDateTime::now_utc().to_offset(offset)),
                        items: chunk.to_vec(),
                        finished_up_to: None,
                    };
                    let json = serde_json::to_vec(&request).unwrap();
                    json_bytes += json.len();
                    (phone.token.clone(), gzip(&json))
                })
                .collect()
        })
        .collect();
    (bodies, json_bytes)
}

/// What a set of pushes was answered.
#[derive(Default, Debug)]
struct Answers {
    accepted: usize,
    duplicate: usize,
    rejected: usize,
    first_rejection: Option<String>,
}

/// Every phone pushes its bodies in turn, all phones at once, phone `i` to server `i` of `urls`
/// (round the list, as a load balancer keeps a client on one); returns the seconds taken.
async fn push_all(client: &reqwest::Client, urls: &[String], bodies: PushBodies) -> (f64, Answers) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, pushes) in bodies.into_iter().enumerate() {
        let client = client.clone();
        let url = urls[i % urls.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut answers = Answers::default();
            for (token, body) in pushes {
                let answer = client
                    .post(format!("{url}/api/v1/sync/push"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .header("content-encoding", "gzip")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert!(answer.status().is_success(), "push: {}", answer.status());
                let answer: PushResponse = answer.json().await.unwrap();
                for result in answer.results {
                    match result.status {
                        PushStatus::Accepted => answers.accepted += 1,
                        PushStatus::Duplicate => answers.duplicate += 1,
                        PushStatus::Rejected => {
                            answers.rejected += 1;
                            answers
                                .first_rejection
                                .get_or_insert_with(|| format!("{:?}", result.issues));
                        }
                    }
                }
            }
            answers
        }));
    }
    let mut all = Answers::default();
    for task in tasks {
        let answers = task.await.unwrap();
        all.accepted += answers.accepted;
        all.duplicate += answers.duplicate;
        all.rejected += answers.rejected;
        all.first_rejection = all.first_rejection.or(answers.first_rejection);
    }
    (started.elapsed().as_secs_f64(), all)
}

/// The progress report of the WIB province (its villages of the district), asked 10 times of
/// the server processes in turn: the time to its answer, median and slowest.
async fn progress_report(client: &reqwest::Client, urls: &[String], token: &str) {
    let mut times = Vec::new();
    let mut rows = 0;
    for n in 0..10 {
        let started = Instant::now();
        let answer = client
            .get(format!(
                "{}/api/v1/reports/progress?region={}",
                urls[n % urls.len()],
                ZONES[0].province
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(
            answer.status().is_success(),
            "progress: {}",
            answer.status()
        );
        let body: serde_json::Value = answer.json().await.unwrap();
        times.push(started.elapsed());
        rows = body["rows"].as_array().map_or(0, Vec::len);
    }
    times.sort();
    println!(
        "  progress report of province {} ({rows} kabupaten rows): median {:.1} ms, slowest {:.1} ms of 10",
        ZONES[0].province,
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
    );
}

/// Figures of one measured phase.
fn report(label: &str, count: usize, secs: f64, cpu: &Usage, wire_bytes: usize) {
    println!(
        "  {label}: {count} in {secs:.2} s = {:.0}/s; server CPU per item {:.1} µs (writer {:.1}, fsync and checkpoint {:.1}); {:.0} bytes each on the wire, {:.1} KiB each written to disk",
        count as f64 / secs,
        cpu.process * 1e6 / count as f64,
        cpu.writer * 1e6 / count as f64,
        cpu.disk * 1e6 / count as f64,
        wire_bytes as f64 / count as f64,
        cpu.written_bytes / 1024.0 / count as f64,
    );
}

fn main() {
    let settings = Settings::from_env();
    // Made before the runtime starts: the blocking driver runs a runtime of its own.
    database();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(settings));
}

async fn run(settings: Settings) {
    let work = tempfile::TempDir::new().unwrap();
    let data_dir = work.path().join("data");
    let phones_count = settings.phones;
    // Enough households that each is visited about once, in villages shared evenly by the phones.
    let households_wanted = settings.visits * REVISIT_EVERY / (REVISIT_EVERY + 1) + 1;
    let village_count = households_wanted
        .div_ceil(HOUSEHOLDS_PER_VILLAGE)
        .next_multiple_of(phones_count);
    let villages = villages(village_count);

    let started = Instant::now();
    let (family, individual, people) = write_target_files(work.path(), &villages);
    println!(
        "district: {} villages in {}, {} families and {people} individuals written as P3KE files in {:.1} s",
        villages.len(),
        ZONES
            .map(|z| format!("{} (province {})", z.name, z.province))
            .join(", "),
        villages.len() * HOUSEHOLDS_PER_VILLAGE,
        started.elapsed().as_secs_f64()
    );
    let list = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/wilayah.csv");
    cli(&data_dir, &["import-regions", list.to_str().unwrap()]);
    let started = Instant::now();
    let imported = cli(
        &data_dir,
        &[
            "import-targets",
            "--family",
            family.to_str().unwrap(),
            "--individuals",
            individual.to_str().unwrap(),
        ],
    );
    println!(
        "import-targets in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        imported.lines().next().unwrap_or_default()
    );

    // One enumerator per phone, with every phone-th village.
    let mut codes = Vec::new();
    for p in 0..phones_count {
        let mut args = vec![
            "enumerator".to_owned(),
            "add".into(),
            "--name".into(),
            format!("Petugas {p}"),
        ];
        for village in villages.iter().skip(p).step_by(phones_count) {
            args.push("--area".into());
            args.push(village.code.as_str().to_owned());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let id = cli(&data_dir, &args).trim().to_owned();
        let code = cli(&data_dir, &["enrollment-code", "--enumerator", &id])
            .trim()
            .to_owned();
        codes.push((code, villages[p].zone));
    }
    let all_areas: Vec<String> = villages
        .iter()
        .flat_map(|v| ["--area".to_owned(), v.code.as_str().to_owned()])
        .collect();
    let mut args = vec![
        "enumerator".to_owned(),
        "add".into(),
        "--name".into(),
        "Operator kabupaten".into(),
    ];
    args.extend(all_areas);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let district_enumerator = cli(&data_dir, &args).trim().to_owned();

    let added = cli(
        &data_dir,
        &[
            "supervisor",
            "add",
            "--name",
            "Dinas Sosial provinsi",
            "--region",
            ZONES[0].province,
            "--role",
            "viewer",
        ],
    );
    let supervisor_token = added
        .lines()
        .find_map(|line| line.strip_prefix("token (shown once): "))
        .unwrap()
        .to_owned();

    let servers = Servers::start(&data_dir, settings.processes);
    let server = servers.first();
    let urls = servers.urls();
    if let Some(url) = database() {
        let (_, name) = url.rsplit_once('/').unwrap();
        println!(
            "on PostgreSQL (database {name}), {} server processes",
            urls.len()
        );
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The bytes on the wire are counted, so nothing is decompressed behind the bench's back.
    let client = reqwest::Client::builder().no_gzip().build().unwrap();

    let started = Instant::now();
    let mut phones = Vec::new();
    let mut first_pull_bytes = 0;
    for (p, (code, zone)) in codes.iter().enumerate() {
        let (device_id, enrolled) = enroll(&client, &server.url, code, &format!("HP {p}")).await;
        let (states, wire) = first_pull(&client, &server.url, &enrolled.token).await;
        first_pull_bytes += wire;
        let households: Vec<Household> = states.into_iter().map(|m| m.state.household).collect();
        phones.push(Phone {
            token: enrolled.token,
            device_id,
            enumerator_id: enrolled.enumerator_id,
            zone: *zone,
            plan: visit_plan(households.len()),
            households,
            seq: 0,
        });
    }
    let listed: usize = phones.iter().map(|p| p.households.len()).sum();
    println!(
        "{phones_count} phones enrolled, each pulled its households: {listed} in {:.1} s, {:.0} bytes each on the wire",
        started.elapsed().as_secs_f64(),
        first_pull_bytes as f64 / listed.max(1) as f64
    );

    let mut done = 0;
    for level in settings.levels() {
        println!("at {level} visits:");
        let window_start = level.saturating_sub(WINDOW).max(done);
        // The fill in parts of at most 100,000 visits, so that a million is never held at once.
        let mut segments: Vec<(usize, usize, bool)> = (done..window_start)
            .step_by(100_000)
            .map(|from| (from, (from + 100_000).min(window_start), false))
            .collect();
        segments.push((window_start, level, true));
        for (from, to, measured) in segments {
            let items = visits_between(
                &mut phones,
                from / phones_count,
                to / phones_count,
                OffsetDateTime::now_utc(),
            );
            let (bodies, json_bytes) = push_bodies(&phones, &items, settings.batch);
            let count: usize = items.iter().map(Vec::len).sum();
            let wire: usize = bodies.iter().flatten().map(|(_, b)| b.len()).sum();
            // A peer may still be busy with what it was sent (LevelDB compacts after a fill).
            for peer in &settings.peers {
                peer.settle().await;
            }
            let profile = measured.then(|| server.profile(level));
            let frames = (measured && settings.wal_frames && database().is_none())
                .then(|| wal_frames::Watch::start(&data_dir.join("verivali.db")));
            let before = servers.cpu();
            let (secs, answers) = push_all(&client, &urls, bodies.clone()).await;
            let cpu = servers.cpu().since(&before);
            drop(profile);
            if let Some(frames) = frames {
                frames.report(count);
            }
            assert_eq!(answers.rejected, 0, "{:?}", answers.first_rejection);
            assert_eq!(answers.accepted, count, "{answers:?}");
            if !measured {
                println!(
                    "  filled with {count} visits in {secs:.1} s = {:.0}/s",
                    count as f64 / secs
                );
                for peer in &settings.peers {
                    peer.fill(&client, &items, settings.batch).await;
                }
                continue;
            }
            println!(
                "  {:.0} bytes of JSON per visit, gzipped in batches to {:.0}",
                json_bytes as f64 / count as f64,
                wire as f64 / count as f64
            );
            report(
                &format!("push ({phones_count} phones, {} a batch)", settings.batch),
                count,
                secs,
                &cpu,
                wire,
            );
            let before = servers.cpu();
            let (secs, answers) = push_all(&client, &urls, bodies).await;
            let cpu = servers.cpu().since(&before);
            assert_eq!(answers.duplicate, count, "{answers:?}");
            report(
                "retry storm (the same pushes again)",
                count,
                secs,
                &cpu,
                wire,
            );
            for peer in &settings.peers {
                peer.push_segment(&client, &items, settings.batch).await;
            }
        }
        done = level;
        let code = cli(
            &data_dir,
            &["enrollment-code", "--enumerator", &district_enumerator],
        )
        .trim()
        .to_owned();
        let (_, enrolled) = enroll(&client, &server.url, &code, "pull").await;
        let before = servers.cpu();
        let started = Instant::now();
        let (states, wire) = first_pull(&client, &server.url, &enrolled.token).await;
        let secs = started.elapsed().as_secs_f64();
        report(
            "first pull of the whole district by one device (households)",
            states.len(),
            secs,
            &servers.cpu().since(&before),
            wire,
        );
        drop(states);
        for peer in &settings.peers {
            peer.pull(&client).await;
        }
        progress_report(&client, &urls, &supervisor_token).await;
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0) as f64 / 1048576.0;
        let file = data_dir.join("verivali.db");
        let database = match database() {
            Some(url) => {
                // The blocking driver runs a runtime of its own: not on one of tokio's threads.
                let bytes: i64 = std::thread::scope(|s| {
                    s.spawn(|| {
                        let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
                        client
                            .query_one("SELECT pg_database_size(current_database())", &[])
                            .unwrap()
                            .get(0)
                    })
                    .join()
                    .unwrap()
                });
                format!("PostgreSQL database {:.0} MiB", bytes as f64 / 1048576.0)
            }
            None => format!(
                "database {:.0} MiB, WAL {:.0} MiB",
                size(&file),
                size(&verivali_server::db::wal_path(&file))
            ),
        };
        println!(
            "  server {}; {database}",
            Resident::of(&proc_dir(server.child.id()))
        );
    }
}
