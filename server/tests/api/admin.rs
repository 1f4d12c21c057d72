use reqwest::StatusCode;
use verivali_core::model::{Code, RegionCode};
use verivali_server::admin;
use verivali_server::roles::Role;

use crate::helpers::TestApp;

#[tokio::test]
async fn the_region_list_imports_once_and_reports_bad_rows() {
    let app = TestApp::spawn().await;
    let csv = "kode,nama\n\
               16,Sumatera Selatan\n\
               16.04,Kabupaten Lahat\n\
               1604012001,\"Lubuk Pakam I,II\"\n\
               16.04.01.20X1,Desa Rusak\n\
               99.01,Bukan Provinsi\n\
               16.04.01.2003,\n";
    let path = app.dir.path().join("wilayah.csv");
    std::fs::write(&path, csv).unwrap();
    let db = app.db.clone();
    let (first, second, names) = tokio::task::spawn_blocking(move || {
        let first = admin::import_regions(&db, &path).unwrap();
        let second = admin::import_regions(&db, &path).unwrap();
        let names: Vec<(String, String)> = db
            .read_blocking(|c| {
                c.rows(
                    "SELECT code, name FROM regions WHERE code LIKE '16%' ORDER BY code",
                    &[],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
            })
            .unwrap();
        (first, second, names)
    })
    .await
    .unwrap();
    assert_eq!(first.stored, 3);
    assert_eq!(
        first
            .rejected
            .iter()
            .map(|(line, _)| *line)
            .collect::<Vec<_>>(),
        vec![5, 6, 7]
    );
    assert!(first.rejected[0].1.starts_with("REG-03"));
    assert_eq!(first, second, "importing again changes nothing");
    assert!(names.contains(&("16.04.01.2001".into(), "Lubuk Pakam I,II".into())));
}

#[tokio::test]
async fn areas_are_written_as_code_rw_rt() {
    let area = admin::parse_area("16.04.01.2001/2/5").unwrap();
    assert_eq!(
        (area.rw.unwrap().number(), area.rt.unwrap().number()),
        (2, 5)
    );
    assert!(admin::parse_area("16.04.01.2001/0").is_err());
    assert!(admin::parse_area("16.04.01.2001/1/2/3").is_err());
    assert!(admin::parse_area("99.01.01.2001").is_err());
}

/// A leaked supervisor token is stopped at once: rotated (the new one works, the old does not)
/// or revoked (none works), and each change is in the audit log.
#[tokio::test]
async fn a_supervisors_api_token_can_be_rotated_and_revoked() {
    let app = TestApp::spawn().await;
    let db = app.db.clone();
    let (id, old) = tokio::task::spawn_blocking(move || {
        admin::add_supervisor(
            &db,
            "Ibu Sari",
            RegionCode::parse("16.04").unwrap(),
            Role::Reviewer,
        )
        .unwrap()
    })
    .await
    .unwrap();
    let status = |token: String| {
        let app = &app;
        async move {
            app.get_as(&token, "/api/v1/reports/progress?region=16.04")
                .await
                .status()
        }
    };
    assert_eq!(status(old.clone()).await, StatusCode::OK);
    let db = app.db.clone();
    let new = tokio::task::spawn_blocking(move || {
        admin::replace_supervisor_token(&db, id, true).unwrap()
    })
    .await
    .unwrap()
    .flatten()
    .unwrap();
    assert_eq!(status(old).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(new.clone()).await, StatusCode::OK);
    let db = app.db.clone();
    let revoked = tokio::task::spawn_blocking(move || {
        admin::replace_supervisor_token(&db, id, false).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(revoked, Some(None));
    assert_eq!(status(new).await, StatusCode::UNAUTHORIZED);
    let db = app.db.clone();
    let actions: Vec<String> = tokio::task::spawn_blocking(move || {
        db.read_blocking(|c| {
            c.values::<String>(
                "SELECT action FROM audit_log WHERE action LIKE 'supervisor:%' ORDER BY seq",
                &[],
            )
        })
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        actions,
        [
            "supervisor:add",
            "supervisor:rotate-token",
            "supervisor:revoke-token"
        ]
    );
}

/// The data team's actions on enumerators are in the audit log: who was added with which areas,
/// and that a code was issued, never the code itself.
#[tokio::test]
async fn adding_an_enumerator_and_issuing_a_code_are_audited_without_the_code() {
    let app = TestApp::spawn().await;
    let db = app.db.clone();
    let code = tokio::task::spawn_blocking(move || {
        let area = admin::parse_area("16.04.01.2001/2").unwrap();
        let id = admin::add_enumerator(&db, "Ani", vec![area]).unwrap();
        admin::enrollment_code(&db, id, time::Duration::hours(1)).unwrap()
    })
    .await
    .unwrap();
    let audit = app.audit();
    assert!(
        audit
            .iter()
            .any(|a| a == "enumerator:add 16.04.01.2001/002"),
        "{audit:?}"
    );
    assert!(
        audit
            .iter()
            .any(|a| a.starts_with("enrollment-code:issue {\"valid_until\":"))
    );
    let plain = code.replace('-', "");
    assert!(
        audit
            .iter()
            .all(|a| !a.contains(&code) && !a.contains(&plain))
    );
}

/// The data team's command line works on the database the server runs on, PostgreSQL as well
/// (`--database`, with `VERIVALI_TEST_ENGINE=postgres`): an enumerator added and a code issued by
/// the CLI enroll a phone at the running server, which pulls the area's households.
#[tokio::test]
async fn the_command_line_adds_an_enumerator_whose_phone_the_running_server_enrolls() {
    let app = TestApp::spawn().await;
    let cli = |args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_verivali-server"));
        command.args(args).arg("--data-dir").arg(app.dir.path());
        if let Some(url) = &app.database {
            command.args(["--database", url]);
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let enumerator = cli(&[
        "enumerator",
        "add",
        "--name",
        "Ani",
        "--area",
        crate::helpers::VILLAGE_A,
    ]);
    let code = cli(&["enrollment-code", "--enumerator", &enumerator]);
    let phone = app
        .enroll(&code, verivali_core::model::DeviceId(uuid::Uuid::now_v7()))
        .await;
    assert_eq!(phone.enumerator_id.to_string(), enumerator);
    let pulled = app.pull_all(&phone).await;
    // Village A's twenty households of the seeded thirty.
    assert_eq!(pulled.len(), 20);
}
