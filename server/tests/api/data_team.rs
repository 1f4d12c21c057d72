//! The data team's pages over real HTTP (issue 14): target lists imported (upload as a form
//! would, columns chosen, the report as a page and as an XLSX, a failed import that stores
//! nothing, the removal queue a newer list fills, settled by a reviewer), and people added with
//! roles and passwords.

use std::time::Duration;

use calamine::{DataType, Reader};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use verivali_core::model::TargetStatus;
use verivali_server::roles::Role;

use crate::helpers::TestApp;
use crate::import::{FAMILIES, INDIVIDUALS, households_by_source};
use crate::pages::{csrf_of, page, post_form, sign_in, signed_in_as};

/// A file input's part: field, file name, bytes.
type FilePart<'a> = (&'a str, &'a str, &'a [u8]);

/// A `multipart/form-data` body as a browser sends the upload form: the token first.
fn multipart(fields: &[(&str, &str)], files: &[FilePart<'_>]) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "----verivali-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, file, bytes) in files {
        body.extend(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend(*bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// Uploads a list and chooses `columns`; the import's page address.
async fn import_in_browser(
    client: &reqwest::Client,
    app: &TestApp,
    cookie: &str,
    files: &[FilePart<'_>],
    columns: &[(&str, &str)],
) -> String {
    let (_, html) = page(client, app, cookie, "/imports").await;
    let csrf = csrf_of(&html);
    let (content_type, body) = multipart(&[("csrf", &csrf), ("source", "P3KE")], files);
    let upload = client
        .post(app.url("/imports"))
        .header("cookie", cookie)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), StatusCode::SEE_OTHER);
    let columns_page = upload.headers()["location"].to_str().unwrap().to_owned();
    let (status, html) = page(client, app, cookie, &columns_page).await;
    if status == StatusCode::SEE_OTHER {
        // The file could not be read: the import ended already.
        return columns_page.trim_end_matches("/columns").to_owned();
    }
    assert_eq!(status, StatusCode::OK, "{html}");
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend(columns);
    let start = post_form(client, app, cookie, &columns_page, &form).await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    start.headers()["location"].to_str().unwrap().to_owned()
}

/// The import's page once it ended.
async fn ended(client: &reqwest::Client, app: &TestApp, cookie: &str, path: &str) -> String {
    for _ in 0..400 {
        let (status, html) = page(client, app, cookie, path).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        if html.contains("data-outcome") {
            return html;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the import at {path} never ended");
}

fn count(html: &str, name: &str) -> u64 {
    let marker = format!("data-count=\"{name}\">");
    let rest = html.split(&marker).nth(1).unwrap();
    let rest = rest.trim_start_matches(|c: char| !c.is_ascii_digit());
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn households(app: &TestApp) -> i64 {
    app.db
        .read(|c| c.value::<i64>("SELECT count(*) FROM households", &[]))
        .await
        .unwrap()
}

#[tokio::test]
async fn an_admin_imports_a_list_in_the_browser_and_a_reviewer_settles_what_a_newer_one_left_out() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let admin = signed_in_as(&app, &client, "dinsos", Role::Admin, "16.04").await;
    let reviewer = signed_in_as(&app, &client, "tkpk", Role::Reviewer, "16.04").await;
    let viewer = signed_in_as(&app, &client, "bappeda", Role::Viewer, "16.04").await;

    // Only an admin imports.
    let (status, _) = page(&client, &app, &reviewer, "/imports").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The column page finds P3KE's columns by their names.
    let files: [FilePart<'_>; 2] = [
        ("family", "KEPALA-KELUARGA.csv", FAMILIES.as_bytes()),
        ("individuals", "INDIVIDU.csv", INDIVIDUALS.as_bytes()),
    ];
    let path = import_in_browser(&client, &app, &admin, &files, &[]).await;
    let report = ended(&client, &app, &admin, &path).await;
    assert!(report.contains("data-outcome=\"done\""), "{report}");
    assert_eq!(count(&report, "added"), 3);
    assert_eq!(count(&report, "left-out"), 3);
    assert!(report.contains("IMP-06") && report.contains("KEPALA-KELUARGA.csv"));
    assert!(!report.contains("1604014202780003"), "no NIK in the report");

    // The report as a spreadsheet: a row per flagged or left-out row, and the download audited.
    let id = path.trim_start_matches("/imports/");
    let xlsx = client
        .get(app.url(&format!("{path}/report.xlsx")))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), StatusCode::OK);
    let bytes = xlsx.bytes().await.unwrap();
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let rows = sheet.rows().count() as u64;
    assert_eq!(
        rows,
        1 + count(&report, "left-out") + count(&report, "flagged")
    );
    assert!(
        sheet
            .rows()
            .any(|r| r.iter().any(|c| c.get_string() == Some("IMP-06")))
    );
    let (_, log) = page(
        &client,
        &app,
        &admin,
        "/audit?action=import:report-download",
    )
    .await;
    assert!(log.contains(id), "{log}");

    // The same files again change nothing.
    let again = import_in_browser(&client, &app, &admin, &files, &[]).await;
    let again = ended(&client, &app, &admin, &again).await;
    assert_eq!(
        (
            count(&again, "added"),
            count(&again, "updated"),
            count(&again, "unchanged")
        ),
        (0, 0, 3)
    );

    // A file without the family id column fails with its reason and stores nothing; so does a
    // file that is no spreadsheet.
    let before = households(&app).await;
    let no_id = b"Nama,Kode Kemdagri\nSITI,1604012001\n";
    let failed =
        import_in_browser(&client, &app, &admin, &[("family", "lain.csv", no_id)], &[]).await;
    let failed = ended(&client, &app, &admin, &failed).await;
    assert!(
        failed.contains("data-outcome=\"failed\"") && failed.contains("IMP-21"),
        "{failed}"
    );
    let garbage = import_in_browser(
        &client,
        &app,
        &admin,
        &[("family", "rusak.xlsx", b"not a workbook")],
        &[],
    )
    .await;
    let garbage = ended(&client, &app, &admin, &garbage).await;
    assert!(garbage.contains("IMP-20"), "{garbage}");
    assert_eq!(households(&app).await, before);
    // The same header-less file imports once its columns are chosen on the page.
    let mapped = import_in_browser(
        &client,
        &app,
        &admin,
        &[(
            "family",
            "dtks.csv",
            b"IDDTKS,Nama,Wilayah\nD-1,SITI,1604012001\n",
        )],
        &[
            ("map.family_id", "IDDTKS"),
            ("map.region", "Wilayah"),
            ("map.head_name", "Nama"),
        ],
    )
    .await;
    let mapped = ended(&client, &app, &admin, &mapped).await;
    assert_eq!(count(&mapped, "added"), 1, "{mapped}");

    // A newer list without BUDI SANTOSO's family queues it; nothing is deleted.
    let newer: String = FAMILIES
        .lines()
        .filter(|l| !l.starts_with("900000002"))
        .map(|l| format!("{l}\n"))
        .collect();
    let path = import_in_browser(
        &client,
        &app,
        &admin,
        &[("family", "KELUARGA-2025.csv", newer.as_bytes())],
        &[],
    )
    .await;
    let report = ended(&client, &app, &admin, &path).await;
    assert!(count(&report, "candidates") >= 1, "{report}");
    let budi = households_by_source(&app, "900000002").await;
    let row = format!("data-household=\"{}\"", budi.household_id);
    let (status, queue) = page(&client, &app, &viewer, "/queues/removals").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        queue.contains(&row) && !queue.contains("value=\"remove\""),
        "a viewer reads only"
    );
    let (_, queue) = page(&client, &app, &reviewer, "/queues/removals").await;
    assert!(queue.contains(&row));
    let csrf = csrf_of(&queue);
    let decide = format!("/queues/removals/{}", budi.household_id);
    let refused = post_form(
        &client,
        &app,
        &viewer,
        &decide,
        &[
            (
                "csrf",
                &csrf_of(&page(&client, &app, &viewer, "/queues/removals").await.1),
            ),
            ("decision", "remove"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let removed = post_form(
        &client,
        &app,
        &reviewer,
        &decide,
        &[("csrf", &csrf), ("decision", "remove")],
    )
    .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let (_, queue) = page(&client, &app, &reviewer, "/queues/removals").await;
    assert!(!queue.contains(&row));
    assert_eq!(
        households_by_source(&app, "900000002").await.target_status,
        TargetStatus::Removed
    );
    let merged: String = app
        .db
        .read(move |c| {
            c.value::<String>(
                "SELECT target_status FROM households WHERE household_id = ?1",
                &[&budi.household_id.to_string()],
            )
        })
        .await
        .unwrap();
    assert_eq!(
        merged, "REMOVED",
        "the merged state, which phones pull, says so"
    );
    let again = post_form(
        &client,
        &app,
        &reviewer,
        &decide,
        &[("csrf", &csrf), ("decision", "keep")],
    )
    .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND, "decided once");
    let (_, log) = page(&client, &app, &admin, "/audit?action=removal:confirmed").await;
    assert!(log.contains(&budi.household_id.to_string()));
}

/// The id of the person whose row on `/people` names `login`.
fn person_id(html: &str, login: &str) -> String {
    html.split("data-person=\"")
        .skip(1)
        .find(|row| row.contains(&format!("<td>{login}</td>")))
        .and_then(|row| row.split('"').next())
        .unwrap()
        .to_owned()
}

/// The day the campaign form offers as the first: today in the region's time zone.
fn offered_day(html: &str) -> time::Date {
    time::Date::parse(
        html.split("name=\"starts_on\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap()
}

#[tokio::test]
async fn an_admin_adds_people_of_the_region_with_roles_and_resets_a_password() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let admin = signed_in_as(&app, &client, "dinsos", Role::Admin, "16.04").await;
    let (status, html) = page(&client, &app, &admin, "/people").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = csrf_of(&html);
    let add = |form: Vec<(&'static str, &'static str)>| {
        let (client, app, admin, csrf) = (&client, &app, &admin, &csrf);
        async move {
            let mut form = form;
            form.push(("csrf", csrf));
            post_form(client, app, admin, "/people", &form).await
        }
    };
    let person = |login, region, password| {
        vec![
            ("name", "Camat Merapi"),
            ("login", login),
            ("region", region),
            ("role", "REVIEWER"),
            ("password", password),
        ]
    };
    let added = add(person("camat", "16.04.01", "Merapi-verval-26")).await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    for (form, code) in [
        (person("camat2", "16.04.01", "pendek"), "USR-01"),
        (person("camat", "16.04.02", "Merapi-verval-26"), "USR-02"),
    ] {
        let refused = add(form).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert!(refused.text().await.unwrap().contains(code));
    }
    let elsewhere = add(person("kab-lain", "16.05", "Merapi-verval-26")).await;
    assert_eq!(elsewhere.status(), StatusCode::FORBIDDEN);

    // The new person signs in with the password the admin gave, as a reviewer.
    let camat = sign_in(&client, &app, "camat", "Merapi-verval-26")
        .await
        .unwrap();
    let (_, dashboard) = page(&client, &app, &camat, "/dashboard").await;
    assert!(dashboard.contains("data-role>Pemeriksa"), "{dashboard}");
    for admins_only in ["/people", "/team", "/imports", "/bundles", "/audit"] {
        let (status, html) = page(&client, &app, &camat, admins_only).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{admins_only}");
        assert!(html.contains("AUTH-04"), "{admins_only}: {html}");
    }

    // Made a viewer, then given a new password: the old session ends.
    let (_, html) = page(&client, &app, &admin, "/people").await;
    let id = person_id(&html, "camat");
    let role = post_form(
        &client,
        &app,
        &admin,
        &format!("/people/{id}/role"),
        &[("csrf", &csrf), ("role", "VIEWER")],
    )
    .await;
    assert_eq!(role.status(), StatusCode::SEE_OTHER);
    let (_, dashboard) = page(&client, &app, &camat, "/dashboard").await;
    assert!(dashboard.contains("data-role>Pemantau"), "{dashboard}");
    let reset = post_form(
        &client,
        &app,
        &admin,
        &format!("/people/{id}/password"),
        &[("csrf", &csrf), ("password", "Baru-Merapi-2026")],
    )
    .await;
    assert_eq!(reset.status(), StatusCode::SEE_OTHER);
    let (status, _) = page(&client, &app, &camat, "/dashboard").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the old session ended");
    assert!(
        sign_in(&client, &app, "camat", "Merapi-verval-26")
            .await
            .is_none()
    );
    assert!(
        sign_in(&client, &app, "camat", "Baru-Merapi-2026")
            .await
            .is_some()
    );

    // An admin keeps their own role.
    let (_, html) = page(&client, &app, &admin, "/people").await;
    let me = person_id(&html, "dinsos");
    let own = post_form(
        &client,
        &app,
        &admin,
        &format!("/people/{me}/role"),
        &[("csrf", &csrf), ("role", "VIEWER")],
    )
    .await;
    assert_eq!(own.status(), StatusCode::BAD_REQUEST);
    assert!(own.text().await.unwrap().contains("USR-03"));

    let (_, log) = page(&client, &app, &admin, "/audit?action=supervisor:set-role").await;
    assert!(log.contains(&id), "{log}");
}

#[tokio::test]
async fn the_sheet_for_a_training_day_has_a_code_for_each_enumerator_without_a_phone() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let admin = signed_in_as(&app, &client, "dinsos", Role::Admin, "16.04").await;
    let (_, html) = page(&client, &app, &admin, "/team").await;
    let csrf = csrf_of(&html);
    for (name, area) in [
        ("Ani", crate::helpers::VILLAGE_A),
        ("Budi", crate::helpers::VILLAGE_B),
    ] {
        let added = post_form(
            &client,
            &app,
            &admin,
            "/team/enumerators",
            &[("csrf", &csrf), ("name", name), ("area", area)],
        )
        .await;
        assert_eq!(added.status(), StatusCode::SEE_OTHER);
    }
    let cards = |html: &str| -> Vec<(String, String)> {
        html.split("class=\"code-card\" data-payload=\"")
            .skip(1)
            .map(|card| {
                // The attribute as askama escapes it.
                let payload = card.split('"').next().unwrap().replace("&#38;", "&");
                let name = card
                    .split("<h2>")
                    .nth(1)
                    .unwrap()
                    .split('<')
                    .next()
                    .unwrap();
                (name.to_owned(), payload)
            })
            .collect()
    };
    let sheet = post_form(&client, &app, &admin, "/team/codes", &[("csrf", &csrf)]).await;
    assert_eq!(sheet.status(), StatusCode::OK);
    let first = cards(&sheet.text().await.unwrap());
    assert_eq!(
        first.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["Ani", "Budi"]
    );

    // Ani's phone enrolls with her card's code; the next sheet is Budi's alone.
    let scanned = verivali_core::protocol::EnrollmentPayload::parse(&first[0].1)
        .unwrap_or_else(|| panic!("{}", first[0].1));
    assert_eq!(scanned.server, app.url("").trim_end_matches('/'));
    app.enroll(&scanned.code, verivali_core::model::DeviceId::new_v4())
        .await;
    let sheet = post_form(&client, &app, &admin, "/team/codes", &[("csrf", &csrf)]).await;
    let second = cards(&sheet.text().await.unwrap());
    assert_eq!(
        second.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["Budi"]
    );
    let reviewer = signed_in_as(&app, &client, "tkpk", Role::Reviewer, "16.04").await;
    let (_, html) = page(&client, &app, &reviewer, "/households").await;
    let refused = post_form(
        &client,
        &app,
        &reviewer,
        "/team/codes",
        &[("csrf", &csrf_of(&html))],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_phone_reports_its_app_and_unsent_work_and_the_admin_sees_it() {
    let app = TestApp::spawn().await;
    let phone = app.phone(&[crate::helpers::VILLAGE_A]).await;
    let pulled = app
        .get_as(
            &phone.token,
            "/api/v1/sync/pull?cursor=&limit=5&app=2.1.0%20(41)&unsent=3&photos=1&drafts=2",
        )
        .await;
    assert_eq!(pulled.status(), StatusCode::OK);
    for bad in ["%07bell", &"9".repeat(41)] {
        let refused = app
            .get_as(
                &phone.token,
                &format!("/api/v1/sync/pull?app={bad}&unsent=1"),
            )
            .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let refused = app
        .get_as(&phone.token, "/api/v1/sync/pull?app=2.1.0&unsent=-1")
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);

    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let admin = signed_in_as(&app, &client, "dinsos", Role::Admin, "16.04").await;
    let (_, team) = page(&client, &app, &admin, "/team").await;
    let row = team
        .split(&format!("data-device=\"{}\"", phone.device_id))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap();
    assert!(row.contains("2.1.0 (41)"), "{row}");
    assert!(
        row.contains("3 kunjungan · 1 foto · 2 draf") && row.contains("class=\"differs\""),
        "the unsent work stands out: {row}"
    );
}

#[tokio::test]
async fn visits_count_toward_their_regions_campaign_and_one_before_it_is_flagged() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let admin = signed_in_as(&app, &client, "dinsos", Role::Admin, "16.04").await;
    let reviewer = signed_in_as(&app, &client, "tkpk", Role::Reviewer, "16.04").await;
    let (_, html) = page(&client, &app, &admin, "/campaigns").await;
    let csrf = csrf_of(&html);
    // Lahat's day (WIB) as the page offers it.
    let today = offered_day(&html);
    let day = |days: i64| (today + time::Duration::days(days)).to_string();
    let create = |name: &'static str, region: &'static str, starts: String, ends: String| {
        let (client, app, admin, csrf) = (&client, &app, &admin, &csrf);
        async move {
            post_form(
                client,
                app,
                admin,
                "/campaigns",
                &[
                    ("csrf", csrf),
                    ("name", name),
                    ("region", region),
                    ("starts_on", &starts),
                    ("ends_on", &ends),
                ],
            )
            .await
        }
    };
    let december = create("Verval Desember", "16.04", day(-1), day(30)).await;
    assert_eq!(december.status(), StatusCode::SEE_OTHER);
    for (response, code) in [
        (
            create("Tumpang", "16.04.01", day(10), day(40)).await,
            "CMP-01",
        ),
        (
            create("Terbalik", "16.04", day(60), day(50)).await,
            "CMP-02",
        ),
    ] {
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.text().await.unwrap().contains(code));
    }
    let next = create("Verval kecamatan", "16.04.01", day(31), day(60)).await;
    assert_eq!(
        next.status(),
        StatusCode::SEE_OTHER,
        "a later round of a kecamatan"
    );
    let refused = post_form(
        &client,
        &app,
        &reviewer,
        "/campaigns",
        &[(
            "csrf",
            &csrf_of(&page(&client, &app, &reviewer, "/campaigns").await.1),
        )],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // One visit of the campaign, and one finished three days ago, before it began: stored, flagged.
    let mut phone = app.phone(&[crate::helpers::VILLAGE_A]).await;
    let now = phone.visit(0, 30);
    let again = phone.visit(0, 10);
    let early = phone.visit(1, 3 * 24 * 60);
    let early_id = early.visit.visit_id.to_string();
    crate::helpers::assert_all_accepted(&app.push(&phone, &[now, again, early]).await);
    let flags: String = app
        .db
        .read(move |c| {
            c.value::<String>("SELECT flags FROM visits WHERE visit_id = ?1", &[&early_id])
        })
        .await
        .unwrap();
    assert!(flags.contains("BEFORE_CAMPAIGN"), "{flags}");

    let (status, html) = page(&client, &app, &reviewer, "/campaigns").await;
    assert_eq!(status, StatusCode::OK, "every role reads the campaigns");
    let row = html
        .split("data-campaign=")
        .find(|r| r.contains("Verval Desember"))
        .unwrap();
    // One household visited twice in the campaign; the early visit is no part of it.
    assert!(row.contains("data-count=\"visited\">1<"), "{row}");
    assert!(row.contains("data-count=\"visits\">2<"), "{row}");
    assert!(row.contains("berjalan"), "under way: {row}");
}

#[tokio::test]
async fn a_disagreement_of_an_earlier_round_is_no_conflict_once_a_campaign_holds_the_latest_visit()
{
    use verivali_core::model::Assessment;
    let app = TestApp::spawn().await;
    let mut ani = app.phone(&[crate::helpers::VILLAGE_A]).await;
    let mut budi = app.phone(&[crate::helpers::VILLAGE_A]).await;
    let with = |mut item: verivali_core::protocol::PushItem, assessment| {
        item.visit.assessment = Some(assessment);
        item
    };
    // Three and two days ago, before any campaign, Ani and Budi disagree; today Ani comes back.
    let old_a = with(ani.visit(0, 3 * 24 * 60), Assessment::ExtremePoor);
    let old_b = with(budi.visit(0, 2 * 24 * 60), Assessment::NotPoor);
    let today = with(ani.visit(0, 30), Assessment::Poor);
    crate::helpers::assert_all_accepted(&app.push(&ani, &[old_a, today]).await);
    crate::helpers::assert_all_accepted(&app.push(&budi, &[old_b]).await);
    let token = app.supervisor("16.04").await;
    let household = crate::helpers::household(0).household_id;
    let status = || async {
        let detail: serde_json::Value = app
            .get_as(&token, &format!("/api/v1/households/{household}"))
            .await
            .json()
            .await
            .unwrap();
        detail["state"]["status"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        status().await,
        "NEEDS_REVIEW",
        "one round: Ani's latest disagrees with Budi"
    );

    // A campaign from yesterday: today's visit is the round's only one, and the household is
    // merged again at once.
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let admin = signed_in_as(&app, &client, "dinsos", Role::Admin, "16.04").await;
    let (_, html) = page(&client, &app, &admin, "/campaigns").await;
    let today = offered_day(&html);
    let created = post_form(
        &client,
        &app,
        &admin,
        "/campaigns",
        &[
            ("csrf", &csrf_of(&html)),
            ("name", "Verval"),
            ("region", "16.04"),
            ("starts_on", &(today - time::Duration::days(1)).to_string()),
            ("ends_on", &(today + time::Duration::days(30)).to_string()),
        ],
    )
    .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(status().await, "VISITED");

    // Budi disagrees within the campaign: a conflict again.
    let now_b = with(budi.visit(0, 10), Assessment::Vulnerable);
    crate::helpers::assert_all_accepted(&app.push(&budi, &[now_b]).await);
    assert_eq!(status().await, "NEEDS_REVIEW");
}

#[tokio::test]
async fn an_area_is_picked_from_the_region_tree_with_a_search_down_to_its_rt() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let admin = signed_in_as(&app, &client, "dinsos", Role::Admin, "16.04").await;
    let options = |html: &str| -> Vec<String> {
        html.split("<select name=\"village\"")
            .nth(1)
            .unwrap()
            .split("</select>")
            .next()
            .unwrap()
            .split("<option value=\"")
            .skip(1)
            .map(|o| o.split('"').next().unwrap().to_owned())
            .collect()
    };
    let (_, html) = page(&client, &app, &admin, "/team").await;
    assert!(
        html.contains("<optgroup label=\"Contoh (16.04.01)\">"),
        "villages under their kecamatan"
    );
    assert_eq!(
        options(&html),
        [crate::helpers::VILLAGE_A, crate::helpers::VILLAGE_B]
    );
    let (_, found) = page(&client, &app, &admin, "/team?find=desa%20b").await;
    assert_eq!(options(&found), [crate::helpers::VILLAGE_B]);

    let added = post_form(
        &client,
        &app,
        &admin,
        "/team/enumerators",
        &[
            ("csrf", &csrf_of(&html)),
            ("name", "Ketua RT 3"),
            ("village", crate::helpers::VILLAGE_B),
            ("rw", "2"),
            ("rt", "3"),
        ],
    )
    .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&client, &app, &admin, "/team").await;
    assert!(
        html.contains(&format!(
            "data-area=\"{}/002/003\"",
            crate::helpers::VILLAGE_B
        )),
        "the RT head's area is their RT"
    );
}
