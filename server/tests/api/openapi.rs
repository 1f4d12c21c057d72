use serde_json::Value;

use crate::helpers::TestApp;

#[tokio::test]
async fn every_documented_call_answers_and_every_route_is_documented() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for (path, operations) in paths {
        let concrete = path
            .replace("{sha256}", &"a".repeat(64))
            .replace("{household_id}", "00000000-0000-0000-0000-000000000001");
        for method in ["get", "post", "put", "head"] {
            if operations.get(method).is_none() {
                continue;
            }
            let response = app
                .client
                .request(
                    method.to_uppercase().parse().unwrap(),
                    app.url(&format!("/api/v1{concrete}")),
                )
                .send()
                .await
                .unwrap();
            // Without credentials or a body a call is refused, but it must exist, and the
            // refusal is one the document lists.
            let status = response.status().as_u16();
            assert!(![404, 405].contains(&status), "{method} {path}: {status}");
            assert!(
                operations[method]["responses"]
                    .get(status.to_string())
                    .is_some(),
                "{method} {path} answers {status}, which the document does not list"
            );
        }
    }
    // Every route the server declares is in the document.
    for file in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/routes")).unwrap() {
        let source = std::fs::read_to_string(file.unwrap().path()).unwrap();
        for declared in source.split(".route(\"").skip(1) {
            let route = declared.split('"').next().unwrap();
            // The operator's endpoints, outside /api/v1 (docs/operations.md).
            if ["/healthz", "/metrics"].contains(&route) {
                continue;
            }
            assert!(paths.contains_key(route), "{route} is not documented");
        }
    }
}
