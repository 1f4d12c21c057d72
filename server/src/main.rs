//! `verivali-server`: the HTTP service and the admin CLI.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// glibc's malloc took a fifth of the writer's time in profiles; mimalloc takes far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use verivali_core::model::{Code, DeviceId, EnumeratorId, Labelled, UserId};
use verivali_server::config::Config;
use verivali_server::db::Db;
use verivali_server::roles::Role;
use verivali_server::startup::shutdown_signal;
use verivali_server::{Application, admin, backup, demo, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "verivali-server",
    version,
    about = "Verivali: receives, deduplicates and merges household verification visits"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct DataDir {
    /// Where the database lives (and the photos, with either engine).
    #[arg(long, env = "VERIVALI_DATA_DIR", default_value = "./verivali-data")]
    data_dir: PathBuf,
    /// The PostgreSQL database the server keeps its data in, if it does (docs/storage.md).
    #[arg(long, env = "VERIVALI_DATABASE")]
    database: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the sync and supervisor API.
    Serve(Box<Config>),
    /// Serve a generated demo district (its own data directory unless --data-dir is given).
    Demo {
        #[arg(
            long,
            env = "VERIVALI_DATA_DIR",
            default_value = "./verivali-demo-data"
        )]
        data_dir: PathBuf,
        #[arg(long, env = "VERIVALI_BIND", default_value = "127.0.0.1:8080")]
        bind: std::net::SocketAddr,
        /// Run no demo phones: the district waits for real ones (the bindings' tests).
        #[arg(long)]
        no_phones: bool,
        /// Milliseconds between two demo visits.
        #[arg(long, default_value_t = 2000)]
        pace_ms: u64,
    },
    /// Load the official region list (CSV with columns kode,nama).
    ImportRegions {
        file: PathBuf,
        #[command(flatten)]
        dir: DataDir,
    },
    /// Back up the database and photos into a directory, while the server runs and phones push
    /// (a second backup into the same directory copies only the photos that are new).
    Backup {
        #[command(flatten)]
        dir: DataDir,
        /// The destination directory (made if missing); each backup is a directory inside it.
        #[arg(long)]
        to: PathBuf,
    },
    /// Check a backup (or the newest in a destination) without restoring it.
    VerifyBackup { from: PathBuf },
    /// Move a kabupaten's data (its server stopped) into a province's PostgreSQL database, which
    /// may hold other kabupaten; run again, it copies only what is missing. Every household's
    /// state is checked after (docs/storage.md).
    Migrate {
        /// The kabupaten's data directory.
        #[arg(long)]
        from: PathBuf,
        /// The province's database (postgres://…; the password in ~/.pgpass or the variable).
        #[arg(long, env = "VERIVALI_DATABASE")]
        to: String,
        /// The data directory the province's servers share, to copy the photos into.
        #[arg(long)]
        photos_to: Option<PathBuf>,
    },
    /// Restore a backup (or the newest in a destination) into a new, empty data directory.
    Restore {
        from: PathBuf,
        #[command(flatten)]
        dir: DataDir,
    },
    /// Import a phone's bundle (its unsent visits and photos in one file, for phones without
    /// signal): checked whole, then stored as its pushes would be.
    ImportBundle {
        file: PathBuf,
        #[command(flatten)]
        dir: DataDir,
    },
    /// Import a target list: a family file and optionally an individual file (CSV or XLSX).
    ImportTargets {
        /// The family file (P3KE "KEPALA-KELUARGA" layout unless --map says otherwise).
        #[arg(long)]
        family: PathBuf,
        /// The individual file (P3KE "INDIVIDU" layout).
        #[arg(long)]
        individuals: Option<PathBuf>,
        /// The source system: P3KE, DTKS, DTSEN, REGSOSEK, OTHER.
        #[arg(long, default_value = "P3KE")]
        source: String,
        /// Another layout's column for a field, e.g. --map family_id="ID DTKS" (repeatable).
        #[arg(long = "map", value_name = "FIELD=HEADER")]
        columns: Vec<String>,
        #[command(flatten)]
        dir: DataDir,
    },
    /// Import village (or other region) outlines for the dashboard's map from a GeoJSON
    /// FeatureCollection; each feature names its region code in a property (kode, code,
    /// kode_desa, kd_desa, kdepum, or --property), with or without dots.
    ImportBoundaries {
        file: PathBuf,
        #[arg(long)]
        property: Option<String>,
        #[command(flatten)]
        dir: DataDir,
    },
    /// Manage enumerators.
    #[command(subcommand)]
    Enumerator(EnumeratorCommand),
    /// Issue a one-time enrollment code for an enumerator's phone.
    EnrollmentCode {
        #[arg(long)]
        enumerator: String,
        /// How long the code stays valid.
        #[arg(long, default_value_t = 72)]
        valid_hours: i64,
        #[command(flatten)]
        dir: DataDir,
    },
    /// Manage devices.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Manage supervisors.
    #[command(subcommand)]
    Supervisor(SupervisorCommand),
}

#[derive(Debug, Subcommand)]
enum SupervisorCommand {
    /// Add a supervisor who works on a region and everything inside it; prints the API token
    /// once.
    Add {
        #[arg(long)]
        name: String,
        /// A province, regency, district or village code, e.g. 16.04 for a kabupaten.
        #[arg(long)]
        region: String,
        /// viewer (reads), reviewer (also decides and exports masked lists), data-officer (also
        /// whole NIK and KK numbers), admin (also users, areas and imports).
        #[arg(long, default_value = "reviewer")]
        role: String,
        /// The same as `--role data-officer` (kept for scripts).
        #[arg(long)]
        sees_nik: bool,
        #[command(flatten)]
        dir: DataDir,
    },
    /// Give a supervisor another role (viewer, reviewer, data-officer, admin).
    SetRole {
        #[arg(long)]
        supervisor: String,
        #[arg(long)]
        role: String,
        #[command(flatten)]
        dir: DataDir,
    },
    /// Let a supervisor sign in from the browser: a login name, and the password read from
    /// standard input (never a flag, which shell history would keep).
    SetPassword {
        #[arg(long)]
        supervisor: String,
        #[arg(long)]
        login: String,
        #[command(flatten)]
        dir: DataDir,
    },
    /// Give a supervisor a new API token (printed once); the old one stops working at once.
    RotateToken {
        #[arg(long)]
        supervisor: String,
        #[command(flatten)]
        dir: DataDir,
    },
    /// Stop a supervisor's API token at once, giving no new one (their browser sign-in stays).
    RevokeToken {
        #[arg(long)]
        supervisor: String,
        #[command(flatten)]
        dir: DataDir,
    },
}

#[derive(Debug, Subcommand)]
enum EnumeratorCommand {
    /// Give an enumerator one more area.
    AddArea {
        #[arg(long)]
        enumerator: String,
        #[arg(long)]
        area: String,
        #[command(flatten)]
        dir: DataDir,
    },
    /// Take an area from an enumerator: its households leave their phone on the next pull.
    RemoveArea {
        #[arg(long)]
        enumerator: String,
        #[arg(long)]
        area: String,
        #[command(flatten)]
        dir: DataDir,
    },
    /// Add an enumerator with the areas they work in.
    Add {
        #[arg(long)]
        name: String,
        /// A village code, optionally with RW and RT: 16.04.01.2001, 16.04.01.2001/2, 16.04.01.2001/2/5.
        #[arg(long = "area", required = true)]
        areas: Vec<String>,
        #[command(flatten)]
        dir: DataDir,
    },
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Revoke a device: its token stops working at once.
    Revoke {
        device_id: String,
        #[command(flatten)]
        dir: DataDir,
    },
}

fn main() -> ExitCode {
    telemetry::init();
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), String> {
    let text = |e: &dyn std::fmt::Display| e.to_string();
    match command {
        Command::Serve(config) => serve(*config, None, None),
        Command::Demo {
            data_dir,
            bind,
            no_phones,
            pace_ms,
        } => {
            let demo_dir = DataDir {
                data_dir: data_dir.clone(),
                database: None,
            };
            let district = with_db(&demo_dir, |db| demo::seed(db).map_err(|e| text(&e)))?;
            let phones = if no_phones {
                "No demo phones (--no-phones).".to_owned()
            } else {
                format!(
                    "Demo phones syncing in the background: {}",
                    district
                        .phones
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let intro = format!(
                "Demo district: Kabupaten Lahat (demo), {} households in 6 villages.\n\
                 Data directory: {}\n\
                 {phones}\n\
                 Enrollment codes for your own phone (one-time, 7 days):\n{}\n\
                 Supervisor of the whole regency: open http://{{addr}}/ and sign in as {} with password {}\n\
                 The same supervisor's API token: {}\n\
                 Try: curl -H 'Authorization: Bearer {}' http://{{addr}}/api/v1/reports/progress",
                district.households,
                data_dir.display(),
                district
                    .enumerators
                    .iter()
                    .map(|(name, area, code)| format!("  {code}  {name}, area {area}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
                district.supervisor_login,
                district.supervisor_password,
                district.supervisor_token,
                district.supervisor_token,
            );
            let phones_dir = data_dir.join("demo-phones");
            let mut config = Config::for_data_dir(data_dir);
            config.bind = bind;
            let plans = if no_phones {
                Vec::new()
            } else {
                district.phones
            };
            let start_phones: OnReady = Box::new(move |addr, db| {
                if plans.is_empty() {
                    return;
                }
                let pace = std::time::Duration::from_millis(pace_ms);
                if let Err(e) =
                    demo::phones::spawn(db, format!("http://{addr}"), phones_dir, plans, pace)
                {
                    eprintln!("demo phones did not start: {e}");
                }
            });
            serve(config, Some(intro), Some(start_phones))
        }
        Command::ImportRegions { file, dir } => {
            let report = with_db(&dir, |db| {
                admin::import_regions(db, &file).map_err(|e| text(&e))
            })?;
            println!(
                "regions stored: {}; rows left out: {}",
                report.stored,
                report.rejected.len()
            );
            for (line, reason) in &report.rejected {
                println!("  line {line}: {reason}");
            }
            Ok(())
        }
        Command::ImportBoundaries {
            file,
            property,
            dir,
        } => {
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let report = with_db(&dir, |db| {
                verivali_server::map::import_boundaries(db, &bytes, property.as_deref())
                    .map_err(|e| text(&e))
            })?;
            println!(
                "boundaries stored: {}; features left out: {}",
                report.stored,
                report.left_out.len()
            );
            for (n, reason) in &report.left_out {
                println!("  feature {n}: {reason}");
            }
            Ok(())
        }
        Command::Backup { dir, to } => {
            sqlite_only(&dir)?;
            let taken = backup::take(&dir.data_dir, &to).map_err(|e| text(&e))?;
            let counts = taken.manifest.counts;
            println!(
                "backup {}: {} households, {} visits, {} reviews, {} photos ({} copied now)",
                taken.path.display(),
                counts.households,
                counts.visits,
                counts.reviews,
                taken.manifest.photos.len(),
                taken.photos_copied
            );
            Ok(())
        }
        Command::Migrate {
            from,
            to,
            photos_to,
        } => {
            let target = Db::open_postgres(&to).map_err(|e| text(&e))?;
            let moved = verivali_server::migrate::migrate(&from, &target, photos_to.as_deref());
            target.close();
            let moved = moved.map_err(|e| text(&e))?;
            for (table, read, written) in &moved.tables {
                println!("{table}: {read} rows, {written} copied now");
            }
            println!(
                "audit_log: {} entries appended; photos: {} copied",
                moved.audit_entries, moved.photos_copied
            );
            if moved.differing_count > 0 {
                return Err(format!(
                    "{} of {} households differ on the province's database (first: {}); \
                     run the move again, with the kabupaten's server stopped",
                    moved.differing_count,
                    moved.households_checked,
                    moved.differing.join(", ")
                ));
            }
            println!(
                "{} households checked: each state_hash is the kabupaten's",
                moved.households_checked
            );
            Ok(())
        }
        Command::VerifyBackup { from } => {
            let (path, manifest) = backup::verify(&from).map_err(|e| text(&e))?;
            println!(
                "backup {} is whole: taken {}, {} households, {} visits, {} photos",
                path.display(),
                manifest.taken_at,
                manifest.counts.households,
                manifest.counts.visits,
                manifest.photos.len()
            );
            Ok(())
        }
        Command::Restore { from, dir } => {
            sqlite_only(&dir)?;
            let manifest = backup::restore(&from, &dir.data_dir).map_err(|e| text(&e))?;
            println!(
                "restored into {}: {} households, {} visits, {} photos, as of {}. Start the \
                 server on it; phones send again what they pushed since.",
                dir.data_dir.display(),
                manifest.counts.households,
                manifest.counts.visits,
                manifest.photos.len(),
                manifest.taken_at
            );
            Ok(())
        }
        Command::ImportBundle { file, dir } => {
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let attachments = verivali_server::attachments::Attachments::new(&dir.data_dir);
            let report = with_db(&dir, |db| {
                verivali_server::bundles::open(db, &bytes, |_| Ok(()))
                    .and_then(|(device, bundle)| {
                        verivali_server::bundles::import(db, &attachments, &device, bundle, "admin")
                    })
                    .map_err(|e| {
                        format!(
                            "{}: {} / {}",
                            e.body.code, e.body.message_id, e.body.message_en
                        )
                    })
            })?;
            println!(
                "device {}: {} visits: {} stored, {} already here, {} rejected; {} photos",
                report.device_id,
                report.visits,
                report.accepted,
                report.duplicates,
                report.rejected.len(),
                report.photos
            );
            for r in &report.rejected {
                for issue in &r.issues {
                    println!(
                        "  REJECTED  seq {}  {}  {}: {}",
                        r.device_seq.unwrap_or_default(),
                        issue.code,
                        issue.field,
                        issue.message_id
                    );
                }
            }
            Ok(())
        }
        Command::ImportTargets {
            family,
            individuals,
            source,
            columns,
            dir,
        } => {
            let source =
                <verivali_core::model::Source as Labelled>::from_code(&source.to_uppercase())
                    .ok_or_else(|| format!("unknown source {source}"))?;
            let mut mapping = std::collections::BTreeMap::new();
            for pair in columns {
                let (field, header) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("--map wants FIELD=HEADER, not {pair}"))?;
                if !verivali_server::import::FIELDS
                    .iter()
                    .any(|(f, _)| *f == field)
                {
                    let known: Vec<&str> = verivali_server::import::FIELDS
                        .iter()
                        .map(|(f, _)| *f)
                        .collect();
                    return Err(format!(
                        "unknown field {field}; fields: {}",
                        known.join(", ")
                    ));
                }
                mapping.insert(field.to_owned(), header.to_owned());
            }
            let options = verivali_server::import::ImportOptions {
                family_file: family,
                individual_file: individuals,
                source,
                columns: mapping,
                scope: None,
                actor: admin::CLI.to_owned(),
                import_id: uuid::Uuid::new_v4(),
            };
            let bar = indicatif::ProgressBar::new(0).with_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let report = with_db(&dir, |db| {
                verivali_server::import::import_targets(db, &options, &bar).map_err(|e| text(&e))
            })?;
            println!(
                "households: {} added, {} updated, {} unchanged, {} newly candidates for removal; rows flagged: {}; rows left out: {}",
                report.added,
                report.updated,
                report.unchanged,
                report.removal_candidates,
                report.flagged.len(),
                report.rejected.len()
            );
            for (label, notes) in [("FLAGGED", &report.flagged), ("LEFT OUT", &report.rejected)] {
                for n in notes {
                    println!(
                        "  {label}  {} line {}  family {}  {}: {}",
                        n.file, n.line, n.family_id, n.code, n.reason
                    );
                }
            }
            Ok(())
        }
        Command::Enumerator(EnumeratorCommand::AddArea {
            enumerator,
            area,
            dir,
        }) => {
            let enumerator = EnumeratorId::parse(&enumerator).map_err(|e| text(&e))?;
            let area = admin::parse_area(&area).map_err(|e| text(&e))?;
            with_db(&dir, |db| {
                admin::add_area(db, enumerator, area).map_err(|e| text(&e))
            })?;
            println!("area added");
            Ok(())
        }
        Command::Enumerator(EnumeratorCommand::RemoveArea {
            enumerator,
            area,
            dir,
        }) => {
            let enumerator = EnumeratorId::parse(&enumerator).map_err(|e| text(&e))?;
            let area = admin::parse_area(&area).map_err(|e| text(&e))?;
            let removed = with_db(&dir, |db| {
                admin::remove_area(db, enumerator, area).map_err(|e| text(&e))
            })?;
            println!(
                "{}",
                if removed {
                    "area removed"
                } else {
                    "the enumerator has no such area"
                }
            );
            Ok(())
        }
        Command::Enumerator(EnumeratorCommand::Add { name, areas, dir }) => {
            let areas = areas
                .iter()
                .map(|a| admin::parse_area(a))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| text(&e))?;
            let id = with_db(&dir, |db| {
                admin::add_enumerator(db, &name, areas).map_err(|e| text(&e))
            })?;
            println!("{id}");
            Ok(())
        }
        Command::EnrollmentCode {
            enumerator,
            valid_hours,
            dir,
        } => {
            let enumerator = EnumeratorId::parse(&enumerator).map_err(|e| text(&e))?;
            // At most a year: a code is meant for one phone, soon.
            let hours = valid_hours.clamp(1, 24 * 365);
            let code = with_db(&dir, |db| {
                admin::enrollment_code(db, enumerator, time::Duration::hours(hours))
                    .map_err(|e| text(&e))
            })?;
            println!("{code}");
            Ok(())
        }
        Command::Supervisor(SupervisorCommand::Add {
            name,
            region,
            role,
            sees_nik,
            dir,
        }) => {
            let region = verivali_core::model::RegionCode::parse(&region).map_err(|e| text(&e))?;
            let role = if sees_nik {
                Role::DataOfficer
            } else {
                parse_role(&role)?
            };
            let (id, token) = with_db(&dir, |db| {
                admin::add_supervisor(db, &name, region, role).map_err(|e| text(&e))
            })?;
            println!("supervisor {id}\ntoken (shown once): {token}");
            Ok(())
        }
        Command::Supervisor(SupervisorCommand::SetRole {
            supervisor,
            role,
            dir,
        }) => {
            let supervisor = UserId::parse(&supervisor).map_err(|e| text(&e))?;
            let role = parse_role(&role)?;
            if !with_db(&dir, |db| {
                admin::set_role(db, supervisor, role).map_err(|e| text(&e))
            })? {
                return Err(format!("no supervisor {supervisor}"));
            }
            println!("supervisor {supervisor}: {}", role.code());
            Ok(())
        }
        Command::Supervisor(SupervisorCommand::SetPassword {
            supervisor,
            login,
            dir,
        }) => {
            let supervisor = UserId::parse(&supervisor).map_err(|e| text(&e))?;
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .map_err(|e| text(&e))?;
            let password = password.trim_end_matches(['\r', '\n']);
            with_db(&dir, |db| {
                verivali_server::sessions::set_password(db, supervisor, &login, password)
                    .map_err(|e| text(&e))
            })?;
            println!(
                "supervisor {supervisor} signs in as {}",
                login.trim().to_lowercase()
            );
            Ok(())
        }
        Command::Supervisor(SupervisorCommand::RotateToken { supervisor, dir }) => {
            replace_supervisor_token(&supervisor, &dir, true)
        }
        Command::Supervisor(SupervisorCommand::RevokeToken { supervisor, dir }) => {
            replace_supervisor_token(&supervisor, &dir, false)
        }
        Command::Device(DeviceCommand::Revoke { device_id, dir }) => {
            let device = DeviceId::parse(&device_id).map_err(|e| text(&e))?;
            let revoked = with_db(&dir, |db| {
                admin::revoke_device(db, device).map_err(|e| text(&e))
            })?;
            if revoked {
                println!("revoked {device}")
            } else {
                println!("no active device {device}")
            }
            Ok(())
        }
    }
}

fn parse_role(role: &str) -> Result<Role, String> {
    Role::parse(role)
        .ok_or_else(|| format!("unknown role {role:?}: viewer, reviewer, data-officer or admin"))
}

/// Refuses a command of the SQLite engine alone (its backups) on a PostgreSQL database.
fn sqlite_only(dir: &DataDir) -> Result<(), String> {
    match dir.database {
        Some(_) => Err(
            "backups and restores here are the data directory's SQLite; back up PostgreSQL with \
             its own tools (pg_basebackup, pgBackRest; docs/storage.md)"
                .into(),
        ),
        None => Ok(()),
    }
}

/// Opens the database (the data directory's, or PostgreSQL's when `--database` names one), runs
/// `op` on it and closes it, whether `op` succeeded or not: the writer and its threads end
/// before the command prints.
fn with_db<T>(dir: &DataDir, op: impl FnOnce(&Db) -> Result<T, String>) -> Result<T, String> {
    let db = match &dir.database {
        Some(url) => Db::open_postgres(url),
        None => Db::open(&dir.data_dir),
    }
    .map_err(|e| e.to_string())?;
    let result = op(&db);
    db.close();
    result
}

/// What runs once the server listens: the demo's phones.
type OnReady = Box<dyn FnOnce(std::net::SocketAddr, Db) + Send>;

fn serve(config: Config, intro: Option<String>, on_ready: Option<OnReady>) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let app = Application::build(config)
            .await
            .map_err(|e| e.to_string())?;
        let addr = app.local_addr().map_err(|e| e.to_string())?;
        let scheme = app.scheme();
        if let Some(intro) = intro {
            // The address is known only now (with port 0, the system picks it).
            println!("{}", intro.replace("{addr}", &addr.to_string()));
        }
        println!(
            "Verivali server listening on {scheme}://{addr} (health: {scheme}://{addr}/healthz)"
        );
        if let Some(on_ready) = on_ready {
            on_ready(addr, app.db().clone());
        }
        app.serve(shutdown_signal())
            .await
            .map_err(|e| e.to_string())
    })
}

/// `supervisor rotate-token` and `revoke-token`.
fn replace_supervisor_token(supervisor: &str, dir: &DataDir, rotate: bool) -> Result<(), String> {
    let supervisor = UserId::parse(supervisor).map_err(|e| e.to_string())?;
    let replaced = with_db(dir, |db| {
        admin::replace_supervisor_token(db, supervisor, rotate).map_err(|e| e.to_string())
    })?;
    match replaced {
        None => println!("no supervisor {supervisor}"),
        Some(Some(token)) => println!("supervisor {supervisor}\ntoken (shown once): {token}"),
        Some(None) => println!("token of supervisor {supervisor} revoked"),
    }
    Ok(())
}
