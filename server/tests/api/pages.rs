//! The supervisors' pages over real HTTP: sign-in by form, the dashboard's figures equal the JSON
//! overview's, region scope (403), masked NIKs in the HTML, audited reads, and form posts refused
//! without the session's CSRF token or from another origin. (A real browser drives them too:
//! see the README.)

use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::Value;
use verivali_core::model::{Code, DeviceId, RegionCode};
use verivali_server::roles::Role;
use verivali_server::{admin, sessions};

use crate::helpers::{TestApp, VILLAGE_A, VILLAGE_B, household};

const PASSWORD: &str = "Lahat-verval-2026";

/// Signs in through the form as Siti, a reviewer of village A; gives the `Cookie` header value.
async fn signed_in(app: &TestApp, client: &reqwest::Client) -> String {
    signed_in_as(app, client, "siti", Role::Reviewer, VILLAGE_A).await
}

/// Signs in through the form as a new supervisor of `region` with `login` (their name too) and
/// `role`.
pub(crate) async fn signed_in_as(
    app: &TestApp,
    client: &reqwest::Client,
    login: &'static str,
    role: Role,
    region: &'static str,
) -> String {
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let region = RegionCode::parse(region).unwrap();
        let (id, _) = admin::add_supervisor(&db, login, region, role).unwrap();
        sessions::set_password(&db, id, login, PASSWORD).unwrap();
    })
    .await
    .unwrap();
    sign_in(client, app, login, PASSWORD).await.unwrap()
}

/// Signs in through the form; the session cookie, or `None` when refused.
pub(crate) async fn sign_in(
    client: &reqwest::Client,
    app: &TestApp,
    login: &str,
    password: &str,
) -> Option<String> {
    let response = client
        .post(app.url("/signin"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[("login", login), ("password", password)]))
        .send()
        .await
        .unwrap();
    (response.status() == StatusCode::SEE_OTHER && response.headers()["location"] == "/dashboard")
        .then(|| {
            let cookie = response.headers()["set-cookie"].to_str().unwrap();
            cookie.split(';').next().unwrap().to_owned()
        })
}

pub(crate) async fn page(
    client: &reqwest::Client,
    app: &TestApp,
    cookie: &str,
    path: &str,
) -> (StatusCode, String) {
    let response = client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// A form's body as a browser sends it.
pub(crate) fn form_body(pairs: &[(&str, &str)]) -> String {
    let escape = |text: &str| -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_owned(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The number a page shows under `data-figure="NAME"`.
fn figure(html: &str, name: &str) -> u64 {
    let marker = format!("data-figure=\"{name}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no figure {name}"))
        + marker.len();
    html[start..].split('<').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_pages_show_the_apis_figures_within_the_region_with_numbers_masked() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();

    // Not signed in: every page sends the browser to the sign-in form.
    let response = client.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/signin");
    let cookie = signed_in(&app, &client).await;

    let (status, dashboard) = page(&client, &app, &cookie, "/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    let overview: Value = client
        .get(app.url("/api/v1/reports/overview"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for name in ["targets", "visited", "found", "needs_review", "approved"] {
        assert_eq!(
            figure(&dashboard, name),
            overview["progress"]["total"][name].as_u64().unwrap(),
            "{name}"
        );
    }
    assert!(figure(&dashboard, "targets") > 0);
    assert_eq!(
        figure(&dashboard, "visits_today"),
        overview["visits_today"].as_u64().unwrap()
    );

    // English one click away: the cookie set by the switch changes the page's words.
    let switch = client
        .get(app.url("/language/en?back=/dashboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(switch.headers()["location"], "/dashboard");
    let (_, english) = page(
        &client,
        &app,
        &format!("{cookie}; verivali_lang=en"),
        "/dashboard",
    )
    .await;
    assert!(english.contains("Verification progress") && dashboard.contains("Kemajuan verval"));

    // Another village's household and dashboard: 403, as in the API.
    let outside = household(20);
    let (status, _) = page(
        &client,
        &app,
        &cookie,
        &format!("/households/{}", outside.household_id),
    )
    .await;
    // A household outside the region looks like none.
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = page(
        &client,
        &app,
        &cookie,
        &format!("/dashboard?region={}", outside.region),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A household of the region: its members' NIKs appear masked, never whole; the read is audited.
    let inside = household(0);
    let (status, html) = page(
        &client,
        &app,
        &cookie,
        &format!("/households/{}", inside.household_id),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let niks: Vec<String> = inside
        .members
        .iter()
        .filter_map(|m| {
            m.details
                .nik
                .as_ref()
                .and_then(|n| n.valid())
                .map(|n| n.as_str().to_owned())
        })
        .collect();
    assert!(!niks.is_empty());
    for nik in &niks {
        assert!(!html.contains(nik.as_str()), "a whole NIK in the page");
        assert!(html.contains(&verivali_server::privacy::mask_number(nik)));
    }
    // Whole numbers are for a role that may see them.
    let (status, _) = page(
        &client,
        &app,
        &cookie,
        &format!("/households/{}?nik=full", inside.household_id),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let db = app.db.clone();
    let reads: i64 = tokio::task::spawn_blocking(move || {
        db.read_blocking(|c| {
            c.value::<i64>(
                "SELECT count(*) FROM audit_log WHERE action = 'household:read'",
                &[],
            )
        })
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(reads, 1);

    // A decision posted without the page's token, or from another site, changes nothing.
    let decisions = format!("/households/{}/decisions", inside.household_id);
    let csrf = csrf_of(&html);
    let form = [("decision", "REQUEST_REVISIT"), ("comment", "cek lagi")];
    let without = post_form(&client, &app, &cookie, &decisions, &form).await;
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    let with_token = [
        ("decision", "REQUEST_REVISIT"),
        ("comment", "cek lagi"),
        ("csrf", csrf.as_str()),
    ];
    let elsewhere = client
        .post(app.url(&decisions))
        .header("cookie", &cookie)
        .header("origin", "http://jahat.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&with_token))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::FORBIDDEN);
    let (_, unchanged) = page(
        &client,
        &app,
        &cookie,
        &format!("/households/{}", inside.household_id),
    )
    .await;
    assert!(!unchanged.contains("cek lagi"));

    // With the token, from the page: stored, and the page says so.
    let done = post_form(&client, &app, &cookie, &decisions, &with_token).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let (_, after) = page(
        &client,
        &app,
        &cookie,
        &format!("/households/{}?saved=1", inside.household_id),
    )
    .await;
    assert!(after.contains("cek lagi") && after.contains("Keputusan disimpan"));
}

/// The CSRF token a page's forms carry.
pub(crate) fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

pub(crate) async fn post_form(
    client: &reqwest::Client,
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(app.url(path))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(form))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_queue_pages_merge_a_pair_side_by_side_and_approve_a_selection() {
    use verivali_core::model::Outcome;
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let cookie = signed_in(&app, &client).await;
    let mut ani = app.phone(&[VILLAGE_A]).await;
    let (survivor, merged) = (household(3), household(4));
    let found = ani.visit(3, 60);
    let mut says_duplicate = ani.visit(4, 50);
    says_duplicate.visit.outcome = Some(Outcome::DuplicateOf);
    says_duplicate.visit.other_household_id = Some(survivor.household_id);
    let (five, six) = (ani.visit(5, 40), ani.visit(6, 30));
    app.push(&ani, &[found, says_duplicate, five.clone(), six.clone()])
        .await;

    // The pair, from its queue, side by side.
    let (a, b) = {
        let (x, y) = (
            survivor.household_id.to_string(),
            merged.household_id.to_string(),
        );
        if x < y { (x, y) } else { (y, x) }
    };
    let (_, queue) = page(&client, &app, &cookie, "/queues/duplicates").await;
    let pair_link = format!("/queues/duplicates/{a}/{b}");
    assert!(queue.contains(&pair_link));
    let (status, pair) = page(&client, &app, &cookie, &pair_link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(pair.contains(&survivor.head_name) && pair.contains(&merged.head_name));
    assert!(pair.contains("Petugas: data ganda"));
    for m in survivor.members.iter().chain(&merged.members) {
        let nik = m.details.nik.as_ref().unwrap().valid().unwrap().as_str();
        assert!(!pair.contains(nik), "a whole NIK in the pair page");
    }
    let outside = format!(
        "/queues/duplicates/{}/{}",
        household(20).household_id,
        survivor.household_id
    );
    assert_eq!(
        page(&client, &app, &cookie, &outside).await.0,
        StatusCode::NOT_FOUND
    );

    // Merge household 4 into 3 with the page's form: back to the queue, and the pair is gone.
    let csrf = csrf_of(&pair);
    let merged_id = merged.household_id.to_string();
    let survivor_id = survivor.household_id.to_string();
    let answer = post_form(
        &client,
        &app,
        &cookie,
        &format!("/households/{merged_id}/decisions"),
        &[
            ("csrf", &csrf),
            ("decision", "MERGE_HOUSEHOLDS"),
            ("other_household_id", &survivor_id),
            ("back", "/queues/duplicates"),
        ],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(answer.headers()["location"], "/queues/duplicates");
    let (_, queue) = page(&client, &app, &cookie, "/queues/duplicates").await;
    assert!(!queue.contains(&pair_link));
    let (_, kept) = page(
        &client,
        &app,
        &cookie,
        &format!("/households/{survivor_id}"),
    )
    .await;
    assert!(kept.contains(&merged.members[0].name().to_owned()));
    let (_, gone) = page(&client, &app, &cookie, &format!("/households/{merged_id}")).await;
    assert!(gone.contains(&format!("data-merged-into=\"{survivor_id}\"")));

    // Two visits ticked on the visits queue, approved in one post.
    let (_, visits) = page(&client, &app, &cookie, "/queues/visits").await;
    let boxes: Vec<String> = [&five, &six]
        .iter()
        .map(|i| format!("visit.{}", i.visit.visit_id))
        .collect();
    for name in &boxes {
        assert!(visits.contains(&format!("name=\"{name}\"")));
    }
    let (h5, h6) = (
        five.visit.household_id.unwrap().to_string(),
        six.visit.household_id.unwrap().to_string(),
    );
    let selection = [
        (boxes[0].as_str(), h5.as_str()),
        (boxes[1].as_str(), h6.as_str()),
    ];
    let refused = post_form(&client, &app, &cookie, "/queues/visits/approve", &selection).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "no CSRF token");
    let csrf = csrf_of(&visits);
    let mut with_token = selection.to_vec();
    with_token.push(("csrf", &csrf));
    let answer = post_form(
        &client,
        &app,
        &cookie,
        "/queues/visits/approve",
        &with_token,
    )
    .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("approved=2&refused=0"), "{location}");
    let (_, after) = page(&client, &app, &cookie, &location).await;
    assert!(after.contains("data-approved=\"2\""));
    for name in &boxes {
        assert!(!after.contains(&format!("name=\"{name}\"")));
    }
    for h in [&five, &six] {
        let state = app.merged(h.visit.household_id.unwrap()).await;
        assert_eq!(
            state.state.status,
            verivali_core::model::VerificationStatus::Approved
        );
    }
    assert_eq!(
        page(&client, &app, &cookie, "/queues/proposals").await.0,
        StatusCode::OK
    );
}

/// The text a page shows under `data-recap="NAME"` (or `data-missing`…), up to the next tag.
fn marked<'a>(html: &'a str, attribute: &str) -> &'a str {
    let start = html
        .find(attribute)
        .unwrap_or_else(|| panic!("no {attribute}"));
    let after = &html[start..];
    let open = after.find('>').unwrap() + 1;
    after[open..].split('<').next().unwrap()
}

#[tokio::test]
async fn the_recap_the_rw_dashboard_and_completeness_read_as_the_api_does() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let cookie = signed_in(&app, &client).await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    // Visits 1, 2 and 4 arrive; number 3 stays on the phone.
    let items: Vec<_> = (0..4).map(|i| phone.visit(i, 30)).collect();
    app.push(
        &phone,
        &[items[0].clone(), items[1].clone(), items[3].clone()],
    )
    .await;

    // The village dashboard drills down to its RWs, an RW's to its RTs.
    let (_, village) = page(&client, &app, &cookie, "/dashboard").await;
    assert!(village.contains(&format!("/dashboard?region={VILLAGE_A}&#38;rw=001")));
    let (status, rw) = page(
        &client,
        &app,
        &cookie,
        &format!("/dashboard?region={VILLAGE_A}&rw=001"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(rw.contains("data-key=\"RT 001\"") && rw.contains("data-key=\"RT 002\""));
    assert_eq!(figure(&rw, "targets"), 10);
    assert_eq!(figure(&rw, "visited"), 3);
    let (status, _) = page(
        &client,
        &app,
        &cookie,
        &format!("/dashboard?region={VILLAGE_A}&rw=x"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Reporting upward from the dashboard: the exports of the region in view, and the recap.
    for format in ["csv", "xlsx", "geojson"] {
        assert!(village.contains(&format!(
            "/api/v1/exports/households?region={VILLAGE_A}&amp;format={format}"
        )));
    }
    assert!(
        !village.contains("nik=full"),
        "this role exports masked numbers only"
    );

    let (status, recap) = page(
        &client,
        &app,
        &cookie,
        &format!("/recap?region={VILLAGE_A}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let overview: Value = client
        .get(app.url("/api/v1/reports/overview"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let total = &overview["progress"]["total"];
    assert_eq!(
        marked(&recap, "data-recap=\"targets\""),
        total["targets"].to_string()
    );
    assert!(marked(&recap, "data-recap=\"visited\"").starts_with("3 ("));
    assert_eq!(
        marked(&recap, "data-recap=\"found\""),
        total["found"].to_string()
    );
    assert!(marked(&recap, "data-recap=\"region\"").starts_with("Desa A, Contoh, Lahat"));
    assert!(
        recap.contains("Camat"),
        "a village reports to its kecamatan"
    );
    assert!(recap.contains("RW 001") && recap.contains("RW 002"));

    // Completeness: number 3 is missing on the phone's row.
    let (status, completeness) = page(&client, &app, &cookie, "/completeness").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(marked(&completeness, "data-missing=\"1\""), "");
    assert!(
        completeness.contains("<strong>1</strong>: 3"),
        "{completeness}"
    );
    let (status, _) = page(&client, &app, &cookie, "/recap?region=16.04").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// A viewer's pages (issue 14): the role beside the name, no decision form and no export link,
/// and a decision posted all the same with the session's token refused and nothing stored.
#[tokio::test]
async fn a_viewer_reads_the_pages_and_can_neither_decide_nor_export() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let cookie = signed_in_as(&app, &client, "camat", Role::Viewer, VILLAGE_A).await;
    let inside = household(0);
    let path = format!("/households/{}", inside.household_id);
    let (status, html) = page(&client, &app, &cookie, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("data-role>Pemantau<"),
        "the role beside the name"
    );
    assert!(!html.contains("/decisions"), "a decision form for a viewer");
    let (_, dashboard) = page(
        &client,
        &app,
        &cookie,
        &format!("/dashboard?region={VILLAGE_A}"),
    )
    .await;
    assert!(!dashboard.contains("data-export=\"csv\""));
    assert!(dashboard.contains("data-export=\"recap\""));

    let csrf = csrf_of(&html);
    let form = [
        ("decision", "REQUEST_REVISIT"),
        ("comment", "cek lagi"),
        ("csrf", csrf.as_str()),
    ];
    let refused = post_form(&client, &app, &cookie, &format!("{path}/decisions"), &form).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let answer = refused.text().await.unwrap();
    assert!(
        answer.contains("Peran Anda tidak mengizinkan tindakan ini."),
        "{answer}"
    );
    let (_, after) = page(&client, &app, &cookie, &path).await;
    assert!(!after.contains("cek lagi"));

    // A reviewer of the same village sees the forms and the exports.
    let reviewer = signed_in(&app, &client).await;
    let (_, html) = page(&client, &app, &reviewer, &path).await;
    assert!(html.contains("/decisions") && html.contains("data-role>Pemeriksa<"));
    let (_, dashboard) = page(
        &client,
        &app,
        &reviewer,
        &format!("/dashboard?region={VILLAGE_A}"),
    )
    .await;
    assert!(dashboard.contains("data-export=\"csv\""));
}

/// The audit log page (issue 14): an admin reads their region's entries, filters them by person,
/// action and region, and downloads them; no other role reads it, an admin of a village sees
/// nothing of another, and neither SQL nor any endpoint changes or deletes an entry.
#[tokio::test]
async fn the_audit_log_is_an_admins_filtered_and_unchangeable() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    // Siti, a reviewer of village A, reads a household and asks for a revisit from its page.
    let siti = signed_in(&app, &client).await;
    let inside = household(0).household_id;
    let (_, html) = page(&client, &app, &siti, &format!("/households/{inside}")).await;
    let csrf = csrf_of(&html);
    let decided = post_form(
        &client,
        &app,
        &siti,
        &format!("/households/{inside}/decisions"),
        &[
            ("decision", "REQUEST_REVISIT"),
            ("comment", "cek"),
            ("csrf", &csrf),
        ],
    )
    .await;
    assert_eq!(decided.status(), StatusCode::SEE_OTHER);
    // A supervisor of village B lists its households through the API.
    let village_b = app.supervisor(VILLAGE_B).await;
    assert_eq!(
        app.get_as(&village_b, "/api/v1/households").await.status(),
        StatusCode::OK
    );

    let admin = signed_in_as(&app, &client, "bappeda", Role::Admin, "16.04").await;
    let actions = |html: &str| -> Vec<String> {
        html.split("data-action=\"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap().to_owned())
            .collect()
    };
    let (status, all) = page(&client, &app, &admin, "/audit").await;
    assert_eq!(status, StatusCode::OK);
    let seen = actions(&all);
    for action in [
        "review:REQUEST_REVISIT",
        "household:read",
        "households:list",
        "session:start",
    ] {
        assert!(seen.iter().any(|a| a == action), "{action}: {seen:?}");
    }
    let (_, reviews) = page(
        &client,
        &app,
        &admin,
        "/audit?action=review%3AREQUEST_REVISIT",
    )
    .await;
    assert_eq!(actions(&reviews), ["review:REQUEST_REVISIT"]);
    let (_, by_siti) = page(&client, &app, &admin, "/audit?who=sit").await;
    let by_siti = actions(&by_siti);
    assert!(by_siti.contains(&"review:REQUEST_REVISIT".to_owned()));
    assert!(
        !by_siti.contains(&"households:list".to_owned()),
        "{by_siti:?}"
    );
    let (_, of_b) = page(&client, &app, &admin, &format!("/audit?region={VILLAGE_B}")).await;
    // Newest first: the list, and the supervisor's creation before it.
    assert_eq!(actions(&of_b), ["households:list", "supervisor:add"]);

    // The download holds what the page filtered.
    let csv = client
        .get(app.url("/audit.csv?action=review%3AREQUEST_REVISIT"))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].contains("review:REQUEST_REVISIT") && lines[1].contains(VILLAGE_A));

    // An admin of village A sees nothing of village B, and may not ask for it.
    let village_admin = signed_in_as(&app, &client, "kades", Role::Admin, VILLAGE_A).await;
    let (_, own) = page(&client, &app, &village_admin, "/audit").await;
    assert!(!actions(&own).contains(&"households:list".to_owned()));
    let (status, _) = page(
        &client,
        &app,
        &village_admin,
        &format!("/audit?region={VILLAGE_B}"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // No other role reads the log, nor sees it in the menu.
    let (status, refused) = page(&client, &app, &siti, "/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(refused.contains("Peran Anda tidak mengizinkan tindakan ini."));
    assert!(all.contains("href=\"/audit\"") && !html.contains("href=\"/audit\""));

    // Unchangeable: no endpoint takes another method, and SQL refuses updates and deletes.
    let snapshot = || {
        app.db
            .read_blocking(|c| {
                c.rows(
                    "SELECT seq, at, actor, action, coalesce(target, ''), coalesce(detail, ''),
                         coalesce(region, '') FROM audit_log ORDER BY seq",
                    &[],
                    |r| {
                        Ok((
                            r.get::<i64>(0)?,
                            r.get::<i64>(1)?,
                            r.get::<String>(2)?,
                            r.get::<String>(3)?,
                            r.get::<String>(4)?,
                            r.get::<String>(5)?,
                            r.get::<String>(6)?,
                        ))
                    },
                )
            })
            .unwrap()
    };
    let before = snapshot();
    for path in ["/audit", "/audit.csv"] {
        for method in [
            reqwest::Method::POST,
            reqwest::Method::PUT,
            reqwest::Method::PATCH,
            reqwest::Method::DELETE,
        ] {
            let r = client
                .request(method.clone(), app.url(path))
                .header("cookie", &admin)
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
        }
    }
    for sql in [
        "UPDATE audit_log SET actor = 'nobody'",
        "UPDATE audit_log SET region = NULL WHERE seq = 1",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE action = 'review:REQUEST_REVISIT'",
    ] {
        let refused = app.db.write_blocking(move |tx| tx.execute(sql, &[]));
        assert!(refused.is_err(), "{sql}");
    }
    let after = snapshot();
    assert!(after.len() >= before.len());
    assert_eq!(after[..before.len()], before[..]);
}

/// The data team's page of enumerators (issue 14): an admin adds two enumerators, issues a code
/// with its QR code, a phone enrolls with it and pulls its area, the area moves to the other
/// enumerator and leaves the phone, and the phone is revoked; a region outside is refused, and a
/// reviewer may do none of it.
#[tokio::test]
async fn an_admin_adds_enumerators_moves_an_area_and_enrolls_and_revokes_a_phone() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let admin = signed_in_as(&app, &client, "bappeda", Role::Admin, "16.04").await;
    let (status, html) = page(&client, &app, &admin, "/team").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = csrf_of(&html);
    let post = |path: &'static str, form: Vec<(&'static str, String)>| {
        let (client, app, cookie, csrf) = (&client, &app, &admin, &csrf);
        async move {
            let mut form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            form.push(("csrf", csrf));
            post_form(client, app, cookie, path, &form).await
        }
    };
    let ani = post(
        "/team/enumerators",
        vec![("name", "Ani".into()), ("area", VILLAGE_A.into())],
    )
    .await;
    assert_eq!(ani.status(), StatusCode::SEE_OTHER);
    assert_eq!(ani.headers()["location"], "/team?saved=1");
    let budi = post(
        "/team/enumerators",
        vec![("name", "Budi".into()), ("area", VILLAGE_B.into())],
    )
    .await;
    assert_eq!(budi.status(), StatusCode::SEE_OTHER);
    let elsewhere = post(
        "/team/enumerators",
        vec![("name", "Citra".into()), ("area", "16.05.01.2001".into())],
    )
    .await;
    assert_eq!(elsewhere.status(), StatusCode::FORBIDDEN);

    let (_, html) = page(&client, &app, &admin, "/team").await;
    let ids: Vec<String> = html
        .split("data-enumerator=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "Citra was not added");
    let (ani, budi) = (ids[0].clone(), ids[1].clone());
    assert!(html.contains(&format!("data-area=\"{VILLAGE_A}\"")) && !html.contains("Citra"));

    // A code for Ani, shown once with its QR code; a phone enrolls with it as scanned.
    let code_page = post_form(
        &client,
        &app,
        &admin,
        &format!("/team/enumerators/{ani}/code"),
        &[("csrf", &csrf), ("name", "Ani")],
    )
    .await;
    assert_eq!(code_page.status(), StatusCode::OK);
    let code_page = code_page.text().await.unwrap();
    assert!(code_page.contains("<svg"), "the QR code");
    let payload = code_page
        .split("data-payload=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let code = code_page
        .split("data-code>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert!(
        payload.starts_with("verivali:enroll?server=http%3A%2F%2F127.0.0.1%3A"),
        "{payload}"
    );
    assert!(payload.ends_with(&format!("&#38;code={code}")), "{payload}");
    let phone = app.enroll(code, DeviceId::new_v4()).await;
    let first = app.pull_page(&phone.token, "", 1000).await;
    assert_eq!(first.households.len(), 20, "village A's households");

    // The area moves to Budi: Ani's phone hears they left at its next pull.
    let moved = post(
        "/team/areas/move",
        vec![
            ("area", VILLAGE_A.into()),
            ("from", ani.clone()),
            ("to", budi.clone()),
        ],
    )
    .await;
    assert_eq!(moved.status(), StatusCode::SEE_OTHER);
    let after = app.pull_page(&phone.token, &first.next_cursor, 1000).await;
    assert_eq!(after.removed.len(), 20);
    let (_, html) = page(&client, &app, &admin, "/team").await;
    let budi_part = html
        .split(&format!("data-enumerator=\"{budi}\""))
        .nth(1)
        .unwrap();
    assert!(budi_part.contains(&format!("data-area=\"{VILLAGE_A}\"")));

    // An RW given to Ani, then taken away; taken twice, it is not there to take.
    let areas = format!("/team/enumerators/{ani}/areas");
    let rw = format!("{VILLAGE_B}/001");
    let given = post_form(
        &client,
        &app,
        &admin,
        &areas,
        &[("csrf", &csrf), ("area", &rw)],
    )
    .await;
    assert_eq!(given.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&client, &app, &admin, "/team").await;
    assert!(html.contains(&format!("data-area=\"{rw}\"")));
    let take = [
        ("csrf", csrf.as_str()),
        ("area", rw.as_str()),
        ("remove", "1"),
    ];
    let taken = post_form(&client, &app, &admin, &areas, &take).await;
    assert_eq!(taken.status(), StatusCode::SEE_OTHER);
    let again = post_form(&client, &app, &admin, &areas, &take).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let (_, html) = page(&client, &app, &admin, "/team").await;
    assert!(!html.contains(&format!("data-area=\"{rw}\"")));

    // Revoked, the phone's token stops at once.
    let device = phone.device_id.to_string();
    assert!(html.contains(&format!("data-device=\"{device}\"")));
    let revoke = post_form(
        &client,
        &app,
        &admin,
        &format!("/team/devices/{device}/revoke"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(revoke.status(), StatusCode::SEE_OTHER);
    let refused = app.get_as(&phone.token, "/api/v1/sync/pull").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    // Each change stands in the audit log under the admin's name, never the code.
    let log = app.audit().join("\n");
    for action in [
        "enumerator:add",
        "enrollment-code:issue",
        "area:remove",
        "area:add",
        "device:revoke",
    ] {
        assert!(log.contains(action), "{action}");
    }
    assert!(!log.contains(code));

    // A reviewer of the district may do none of it.
    let reviewer = signed_in_as(&app, &client, "siti", Role::Reviewer, "16.04").await;
    let (status, _) = page(&client, &app, &reviewer, "/team").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, dashboard) = page(&client, &app, &reviewer, "/dashboard").await;
    let theirs = csrf_of(&dashboard);
    let tried = post_form(
        &client,
        &app,
        &reviewer,
        "/team/enumerators",
        &[("csrf", &theirs), ("name", "Dedi"), ("area", VILLAGE_A)],
    )
    .await;
    assert_eq!(tried.status(), StatusCode::FORBIDDEN);
}
