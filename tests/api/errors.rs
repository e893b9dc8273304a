//! Error responses: always JSON with a code, a safe message and the request id.

use crate::helpers::{error_of, TestApp, SYSADMIN};

#[tokio::test]
async fn unknown_routes_are_404_json() {
    let app = TestApp::spawn().await;
    let response = app.get("/no/such/route?secret=1").await;
    assert_eq!(response.status(), 404);
    assert_eq!(error_of(response).await["code"], "not_found");
}

#[tokio::test]
async fn wrong_methods_are_405_json_with_allow() {
    let app = TestApp::spawn().await;
    let response = app.client.delete(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert!(response.headers()["allow"]
        .to_str()
        .unwrap()
        .contains("GET"));
    assert_eq!(error_of(response).await["code"], "method_not_allowed");
}

#[tokio::test]
async fn every_response_has_its_own_request_id() {
    let app = TestApp::spawn().await;
    let first = app.get("/healthz").await;
    let second = app.get("/healthz").await;
    let id = |r: &reqwest::Response| r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(id(&first), id(&second));
    assert_eq!(id(&first).len(), 32);
}

#[tokio::test]
async fn protected_routes_require_authentication() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        ("GET", "/api/v1/tenants"),
        ("POST", "/api/v1/tenants"),
        ("GET", "/api/v1/tenants/x"),
    ] {
        let request = app.client.request(method.parse().unwrap(), app.url(path));
        let response = request
            .bearer_auth("not-a-valid-token")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{method} {path}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        assert_eq!(error_of(response).await["code"], "unauthenticated");
    }
}

#[tokio::test]
async fn server_errors_are_generic_and_keep_details_out_of_the_body() {
    let app = TestApp::spawn().await;
    // Pull the database away under a working route: the handler fails with a database error.
    app.state.store.close().await;
    let response = app.get_as(SYSADMIN, "/api/v1/tenants").await;
    assert_eq!(response.status(), 500);
    let error = error_of(response).await;
    assert_eq!(error["code"], "internal_error");
    assert_eq!(error["message"], "internal server error");
    assert_eq!(
        error.as_object().unwrap().len(),
        3,
        "nothing but code, message, request_id: {error}"
    );
}
