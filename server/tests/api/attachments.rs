use reqwest::StatusCode;
use serde_json::{Value, json};
use verivali_core::model::Sha256;
use verivali_core::protocol::ErrorBody;

use crate::helpers::{TestApp, VILLAGE_A};

/// What the server asks `token`'s device to upload of `sha`.
async fn missing(app: &TestApp, token: &str, sha: &Sha256) -> Value {
    crate::helpers::missing_photos(&app.client, &app.url(""), token, &[sha]).await
}

#[tokio::test]
async fn an_interrupted_photo_upload_resumes_where_it_stopped() {
    let app = TestApp::spawn().await;
    let phone = app.phone(&[VILLAGE_A]).await;
    let photo: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let sha = Sha256::of(&photo);
    let url = app.url(&format!("/api/v1/attachments/{sha}"));

    assert_eq!(missing(&app, &phone.token, &sha).await, json!([sha]));

    // The signal drops after the first 120 KB.
    let first = app
        .client
        .put(&url)
        .bearer_auth(&phone.token)
        .header("upload-length", photo.len())
        .body(photo[..120_000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let head = app
        .client
        .head(&url)
        .bearer_auth(&phone.token)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::NOT_FOUND);
    let held: usize = head.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(held, 120_000);

    // Resuming from the wrong place is refused with the right place.
    let wrong = app
        .client
        .put(&url)
        .bearer_auth(&phone.token)
        .header("upload-offset", 0)
        .header("upload-length", photo.len())
        .body(photo.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::CONFLICT);
    assert_eq!(wrong.json::<ErrorBody>().await.unwrap().code, "ATT-03");

    let rest = app
        .client
        .put(&url)
        .bearer_auth(&phone.token)
        .header("upload-offset", held)
        .header("upload-length", photo.len())
        .body(photo[held..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), StatusCode::CREATED);
    assert_eq!(
        app.client
            .head(&url)
            .bearer_auth(&phone.token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(missing(&app, &phone.token, &sha).await, json!([]));
}

#[tokio::test]
async fn bytes_that_do_not_match_their_hash_are_refused() {
    let app = TestApp::spawn().await;
    let phone = app.phone(&[VILLAGE_A]).await;
    let claimed = Sha256::of(b"the real photo");
    let url = app.url(&format!("/api/v1/attachments/{claimed}"));
    let r = app
        .client
        .put(&url)
        .bearer_auth(&phone.token)
        .body(b"something else".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<ErrorBody>().await.unwrap().code, "ATT-02");
    assert_eq!(
        app.client
            .head(&url)
            .bearer_auth(&phone.token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let bad_name = app
        .client
        .put(app.url("/api/v1/attachments/not-a-hash"))
        .bearer_auth(&phone.token)
        .body(vec![1])
        .send()
        .await
        .unwrap();
    assert_eq!(bad_name.status(), StatusCode::BAD_REQUEST);
    let anonymous = app
        .client
        .put(&url)
        .body(b"the real photo".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

/// A photo the phone took, as JPEG.
fn house_photo() -> Vec<u8> {
    let picture = image::RgbImage::from_fn(800, 600, |x, y| {
        image::Rgb([(x / 4 % 256) as u8, (y / 3 % 256) as u8, 120])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&picture)
        .unwrap();
    jpeg
}

#[tokio::test]
async fn a_photo_is_shown_to_the_supervisors_of_its_household_only() {
    use verivali_core::model::{Photo, PhotoKind};
    let app = TestApp::spawn().await;
    let mut phone = app.phone(&[VILLAGE_A]).await;
    let photo = house_photo();
    let sha = Sha256::of(&photo);
    let not_sent = Sha256::of(b"a photo still on the phone");
    let mut item = phone.visit(3, 30);
    let household = crate::helpers::household(3).household_id;
    for sha256 in [sha.clone(), not_sent.clone()] {
        item.visit.photos.push(Photo {
            sha256,
            kind: PhotoKind::HouseFront,
        });
    }
    app.push(&phone, &[item]).await;
    let other_visit = phone.visit(4, 30);
    app.push(&phone, &[other_visit]).await;
    let put = app
        .client
        .put(app.url(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(&phone.token)
        .body(photo.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::CREATED);

    let district = app.supervisor("16.04").await;
    let path = |h: &str, s: &Sha256, size: &str| format!("/api/v1/households/{h}/photos/{s}{size}");
    let thumb = app
        .get_as(
            &district,
            &path(&household.to_string(), &sha, "?size=thumb"),
        )
        .await;
    assert_eq!(thumb.status(), StatusCode::OK);
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    assert!(
        thumb.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("private")
    );
    let small = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((small.width(), small.height()), (320, 240));
    assert!(
        !app.audit().iter().any(|a| a.starts_with("photo:read")),
        "a thumbnail is part of the household page's audited read"
    );

    let full = app
        .get_as(&district, &path(&household.to_string(), &sha, ""))
        .await;
    assert_eq!(full.status(), StatusCode::OK);
    assert_eq!(full.bytes().await.unwrap().as_ref(), photo.as_slice());
    assert!(app.audit().contains(&format!("photo:read {sha}")));

    // Not yet uploaded; not this household's; not this supervisor's region; not a supervisor.
    let waiting = app
        .get_as(&district, &path(&household.to_string(), &not_sent, ""))
        .await;
    assert_eq!(waiting.status(), StatusCode::NOT_FOUND);
    assert_eq!(waiting.json::<ErrorBody>().await.unwrap().code, "ATT-04");
    let elsewhere = crate::helpers::household(4).household_id.to_string();
    let wrong_house = app.get_as(&district, &path(&elsewhere, &sha, "")).await;
    assert_eq!(wrong_house.status(), StatusCode::NOT_FOUND);
    let other_village = app.supervisor("16.04.01.2002").await;
    let outside = app
        .get_as(&other_village, &path(&household.to_string(), &sha, ""))
        .await;
    // Outside the scope, a household looks like none.
    assert_eq!(outside.status(), StatusCode::NOT_FOUND);
    let by_phone = app
        .get_as(&phone.token, &path(&household.to_string(), &sha, ""))
        .await;
    assert_eq!(by_phone.status(), StatusCode::UNAUTHORIZED);
    let bad_size = app
        .get_as(&district, &path(&household.to_string(), &sha, "?size=huge"))
        .await;
    assert_eq!(bad_size.status(), StatusCode::BAD_REQUEST);
}

/// A device learns that a photo is held only for photos it sent whole itself; a number header
/// that does not read is refused, never taken as 0; the same upload sent twice at once is
/// written once, the other told to ask again (409), never a 500.
#[tokio::test]
async fn a_device_learns_only_of_its_own_photos_and_uploads_never_collide() {
    let app = TestApp::spawn().await;
    let (ani, budi) = (app.phone(&[VILLAGE_A]).await, app.phone(&[VILLAGE_A]).await);
    let photo = house_photo();
    let sha = Sha256::of(&photo);
    let url = app.url(&format!("/api/v1/attachments/{sha}"));
    let put = |token: String, body: Vec<u8>| {
        let (client, url) = (app.client.clone(), url.clone());
        async move {
            client
                .put(url)
                .bearer_auth(token)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let mut at_once = tokio::task::JoinSet::new();
    for _ in 0..4 {
        at_once.spawn(put(ani.token.clone(), photo.clone()));
    }
    let statuses = at_once.join_all().await;
    assert!(
        statuses
            .iter()
            .all(|s| [StatusCode::CREATED, StatusCode::CONFLICT].contains(s)),
        "{statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::CREATED));
    let head = |token: String| {
        let (client, url) = (app.client.clone(), url.clone());
        async move {
            client
                .head(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(head(ani.token.clone()).await, StatusCode::OK);
    // Budi's phone is told nothing of Ani's photo until it sends the bytes itself.
    assert_eq!(head(budi.token.clone()).await, StatusCode::NOT_FOUND);
    assert_eq!(missing(&app, &budi.token, &sha).await, json!([sha]));
    assert_eq!(
        put(budi.token.clone(), photo.clone()).await,
        StatusCode::CREATED
    );
    assert_eq!(head(budi.token.clone()).await, StatusCode::OK);

    let unreadable = app
        .client
        .put(&url)
        .bearer_auth(&budi.token)
        .header("upload-offset", "banyak")
        .body(photo[..10].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(unreadable.status(), StatusCode::BAD_REQUEST);
    let body: ErrorBody = unreadable.json().await.unwrap();
    assert_eq!(
        (body.code.as_str(), body.field.as_deref()),
        ("API-01", Some("upload-offset"))
    );
}
