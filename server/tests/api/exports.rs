use std::io::Cursor;
use verivali_server::roles::Role;

use calamine::{Reader, Xlsx};
use reqwest::StatusCode;
use serde_json::Value;
use verivali_core::model::{Code, Labelled, RegionCode, Relation, VerificationStatus};
use verivali_server::admin;

use crate::helpers::{TestApp, VILLAGE_A, household};

/// Village A's NIK and KK numbers, whole: every member's, and the ones an export shows (the
/// head's NIK and the family card number).
fn whole_numbers() -> (Vec<String>, Vec<String>) {
    let (mut all, mut shown) = (Vec::new(), Vec::new());
    for h in (0..20).map(household) {
        for m in &h.members {
            if let Some(nik) = &m.details.nik {
                all.push(nik.as_str().to_owned());
                if m.details.relation == Some(Relation::Head) {
                    shown.push(nik.as_str().to_owned());
                }
            }
        }
        if let Some(kk) = &h.kk_number {
            all.push(kk.as_str().to_owned());
            shown.push(kk.as_str().to_owned());
        }
    }
    (all, shown)
}

#[tokio::test]
async fn exports_list_the_region_with_numbers_masked_unless_the_role_allows() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let items: Vec<_> = (0..3).map(|i| phone.visit(i, 40)).collect();
    app.push(&phone, &items).await;
    let supervisor = app.supervisor(VILLAGE_A).await;

    // CSV: a header in both languages, one row per household of the village, numbers masked.
    let response = app.get_as(&supervisor, "/api/v1/exports/households").await;
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.contains("verivali-keluarga-16.04.01.2001-"),
        "{disposition}"
    );
    let text = response.text().await.unwrap();
    let text = text.strip_prefix('\u{feff}').unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(&reader.headers().unwrap()[0], "ID keluarga / Household ID");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 20);
    let first = rows
        .iter()
        .find(|r| r[0] == household(0).household_id.to_string())
        .unwrap();
    assert_ne!(&first[12], "NOT_VISITED");
    assert_eq!(&first[16], "1");
    assert!(first[10].contains("********"), "{:?}", &first[10]);
    let (numbers, shown) = whole_numbers();
    assert!(shown.len() >= 20, "{}", shown.len());
    assert!(
        numbers.iter().all(|n| !text.contains(n.as_str())),
        "a whole number leaked"
    );

    // Whole numbers: refused without the role, given with it.
    let full = "/api/v1/exports/households?nik=full";
    assert_eq!(
        app.get_as(&supervisor, full).await.status(),
        StatusCode::FORBIDDEN
    );
    let db = app.db.clone();
    let officer = tokio::task::spawn_blocking(move || {
        let (_, token) = admin::add_supervisor(
            &db,
            "Dinsos",
            RegionCode::parse("16.04").unwrap(),
            Role::DataOfficer,
        )
        .unwrap();
        token
    })
    .await
    .unwrap();
    let whole = app
        .get_as(&officer, &format!("{full}&region={VILLAGE_A}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(shown.iter().all(|n| whole.contains(n.as_str())));

    // Outside the supervisor's region, or a format that does not exist.
    let other = "/api/v1/exports/households?region=16.04.01.2002";
    assert_eq!(
        app.get_as(&supervisor, other).await.status(),
        StatusCode::FORBIDDEN
    );
    let pdf = "/api/v1/exports/households?format=pdf";
    assert_eq!(
        app.get_as(&supervisor, pdf).await.status(),
        StatusCode::BAD_REQUEST
    );

    // XLSX: the same rows, statuses as Indonesian labels.
    let bytes = app
        .get_as(
            &supervisor,
            "/api/v1/exports/households?format=xlsx&status=NOT_VISITED",
        )
        .await
        .bytes()
        .await
        .unwrap();
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range("Keluarga").unwrap();
    assert_eq!(sheet.height(), 1 + 17);
    let label = VerificationStatus::NotVisited.label_id();
    assert!(sheet.rows().skip(1).all(|r| r[12] == label));

    // GeoJSON: the visited households, each a point at its visit's location.
    let map: Value = app
        .get_as(&supervisor, "/api/v1/exports/households?format=geojson")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(map["type"], "FeatureCollection");
    let features = map["features"].as_array().unwrap();
    assert_eq!(features.len(), 3);
    let location = items[0].visit.location.as_ref().unwrap();
    let point = features
        .iter()
        .find(|f| f["properties"]["household_id"] == household(0).household_id.to_string())
        .unwrap();
    assert_eq!(point["geometry"]["coordinates"][0], location.lon);
    assert_eq!(point["geometry"]["coordinates"][1], location.lat);

    // Every export was recorded, with whether numbers went out whole.
    let audited: Vec<String> = app
        .audit()
        .into_iter()
        .filter(|a| a.starts_with("export:"))
        .collect();
    assert_eq!(audited.len(), 4, "{audited:?}");
    assert_eq!(audited.iter().filter(|a| a.contains("whole")).count(), 1);
}
