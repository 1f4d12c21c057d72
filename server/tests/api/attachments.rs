use reqwest::StatusCode;
use serde_json::{Value, json};
use verivali_core::model::Sha256;
use verivali_core::protocol::ErrorBody;

use crate::helpers::{TestApp, VILLAGE_A};

#[tokio::test]
async fn an_interrupted_photo_upload_resumes_where_it_stopped() {
    let app = TestApp::spawn().await;
    let phone = app.phone(&[VILLAGE_A]).await;
    let photo: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let sha = Sha256::of(&photo);
    let url = app.url(&format!("/api/v1/attachments/{sha}"));

    let missing: Value = app
        .client
        .post(app.url("/api/v1/attachments/missing"))
        .bearer_auth(&phone.token)
        .json(&json!({"sha256": [sha]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(missing["missing"], json!([sha]));

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
    let missing: Value = app
        .client
        .post(app.url("/api/v1/attachments/missing"))
        .bearer_auth(&phone.token)
        .json(&json!({"sha256": [sha]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(missing["missing"], json!([]));
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
