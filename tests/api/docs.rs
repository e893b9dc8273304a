//! The documentation keeps up with the code: every public (unauthenticated) operation of the
//! router is named in `docs/security.md`.

use crate::helpers::TestApp;

#[tokio::test]
async fn the_security_document_names_every_public_route() {
    let app = TestApp::spawn().await;
    let doc: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/security.md");
    let security = std::fs::read_to_string(path).unwrap();
    let mut public = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if operation["security"].is_null() {
                public.push(format!("`{} {path}`", method.to_uppercase()));
            }
        }
    }
    assert!(public.len() >= 7, "{public:?}");
    for route in &public {
        assert!(
            security.contains(route.as_str()),
            "{route} is public but not in docs/security.md"
        );
    }
}
