use reqwest::StatusCode;
use serde_json::{Value, json};
use verivali_core::model::{Location, LocationSource};
use verivali_core::protocol::ErrorBody;
use verivali_server::map::{Clusters, import_boundaries};

use crate::helpers::{TestApp, VILLAGE_A, VILLAGE_B};

/// A square outline of `size` degrees from (`south`, `west`).
fn square(code: Value, south: f64, west: f64, size: f64) -> Value {
    let (n, e) = (south + size, west + size);
    json!({"type": "Feature", "properties": {"KODE": code},
        "geometry": {"type": "Polygon", "coordinates": [[[west, south], [e, south], [e, n], [west, n], [west, south]]]}})
}

#[tokio::test]
async fn the_map_clusters_visits_by_view_and_shades_villages_by_progress() {
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    // Six visits: five in a street of village A (houses 30 m apart), one across the village.
    let mut items = Vec::new();
    for i in 0..6u32 {
        let mut item = phone.visit(u64::from(i), 30);
        let (lat, lon) = if i < 5 {
            (-3.80 + f64::from(i) * 0.0003, 103.50)
        } else {
            (-3.90, 103.65)
        };
        item.visit.location = Some(Location {
            lat,
            lon,
            accuracy_m: 10.0,
            source: LocationSource::Gps,
        });
        items.push(item);
    }
    app.push(&phone, &items).await;

    // A district's file: village A's code without dots as a number, village B dotted, a region
    // not on the list and a feature with no outline.
    let file = json!({"type": "FeatureCollection", "features": [
        square(json!(1604012001u64), -3.85, 103.45, 0.1),
        square(json!(VILLAGE_B), -3.85, 103.55, 0.1),
        square(json!("16.04.09.2001"), -3.95, 103.45, 0.1),
        {"type": "Feature", "properties": {"kode": VILLAGE_A}, "geometry": {"type": "Point", "coordinates": [103.5, -3.8]}},
    ]});
    let db = app.db.clone();
    let report = tokio::task::spawn_blocking(move || {
        import_boundaries(&db, file.to_string().as_bytes(), None)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(report.stored, 2);
    assert_eq!(
        report.left_out.iter().map(|l| l.0).collect::<Vec<_>>(),
        vec![3, 4]
    );

    let district = app.supervisor("16.04").await;
    let villages: Value = app
        .get_as(&district, "/api/v1/map/boundaries?region=16.04")
        .await
        .json()
        .await
        .unwrap();
    let features = villages["features"].as_array().unwrap();
    assert_eq!(features.len(), 2);
    let a = &features[0]["properties"];
    assert_eq!(
        (a["code"].as_str(), a["name"].as_str()),
        (Some(VILLAGE_A), Some("Desa A"))
    );
    // Village A holds households 0..20; six were visited.
    assert_eq!(
        (a["targets"].as_u64(), a["visited"].as_u64()),
        (Some(20), Some(6))
    );
    assert_eq!(a["percent_visited"], 30);
    assert_eq!(features[1]["properties"]["visited"], 0);
    assert_eq!(features[0]["geometry"]["type"], "Polygon");

    let clusters = |token: String, query: &'static str| {
        let app = &app;
        async move {
            app.get_as(&token, &format!("/api/v1/map/clusters?{query}"))
                .await
        }
    };
    // The whole kabupaten at zoom 10: the street is one cluster, the far house another.
    let wide: Clusters = clusters(district.clone(), "bbox=103.3,-4.0,103.7,-3.6&zoom=10")
        .await
        .json()
        .await
        .unwrap();
    let mut counts: Vec<u64> = wide.clusters.iter().map(|c| c.visits).collect();
    counts.sort_unstable();
    assert_eq!(counts, vec![1, 5]);
    let street = wide.clusters.iter().find(|c| c.visits == 5).unwrap();
    assert!(street.household_id.is_none() && (street.lat - -3.7994).abs() < 0.001);
    assert!(
        wide.clusters
            .iter()
            .any(|c| c.visits == 1 && c.household_id.is_some())
    );
    // Close in on the street: each house alone, and the far house outside the view.
    let close: Clusters = clusters(
        district.clone(),
        "bbox=103.499,-3.801,103.501,-3.798&zoom=19",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(close.clusters.len(), 5);
    assert!(
        close
            .clusters
            .iter()
            .all(|c| c.visits == 1 && c.household_id.is_some())
    );

    // Village B's supervisor sees none of village A's points, and may not ask for the district.
    let village_b = app.supervisor(VILLAGE_B).await;
    let theirs: Clusters = clusters(village_b.clone(), "bbox=103.3,-4.0,103.7,-3.6&zoom=10")
        .await
        .json()
        .await
        .unwrap();
    assert!(theirs.clusters.is_empty());
    let refused = clusters(village_b, "region=16.04&bbox=103.3,-4.0,103.7,-3.6&zoom=10").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // A view the wrong way round, or the whole world at street zoom: refused with the field.
    for (query, field) in [
        ("bbox=103.7,-4.0,103.3,-3.6&zoom=10", "bbox"),
        ("bbox=-180,-85,180,85&zoom=19", "zoom"),
    ] {
        let bad = clusters(district.clone(), query).await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: ErrorBody = bad.json().await.unwrap();
        assert_eq!(
            (body.code.as_str(), body.field.as_deref()),
            ("API-05", Some(field))
        );
    }
}
