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

/// Sends raw bytes and returns the whole answer, split into head and body.
async fn raw_exchange(app: &TestApp, request: &[u8]) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await
    .unwrap()
    .unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    (head.to_ascii_lowercase(), body.to_owned())
}

/// Requests hyper refuses before routing get the same JSON error, request id and security
/// headers as any other, and nothing of what was sent.
#[tokio::test]
async fn requests_refused_before_routing_get_the_json_error_shape() {
    let app = TestApp::spawn().await;
    let big = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "s".repeat(70_000)
    );
    for (request, status, code) in [
        (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: secret\x01value\r\n\r\n".to_vec(),
            "400",
            "bad_request",
        ),
        (big.into_bytes(), "431", "headers_too_large"),
    ] {
        let (head, body) = raw_exchange(&app, &request).await;
        assert!(head.starts_with(&format!("http/1.1 {status} ")), "{head}");
        for header in [
            "content-type: application/json",
            "x-content-type-options: nosniff",
            "content-security-policy: default-src 'none'; frame-ancestors 'none'",
            "cache-control: no-store",
            &format!("content-length: {}", body.len()),
        ] {
            assert!(head.contains(header), "{header} missing: {head}");
        }
        let envelope: serde_json::Value = serde_json::from_str(&body).unwrap();
        let error = &envelope["error"];
        assert_eq!(error["code"], code, "{body}");
        let id = error["request_id"].as_str().unwrap();
        assert!(head.contains(&format!("x-request-id: {id}")), "{head}");
        assert!(!body.contains("secret") && !body.contains("sss"), "{body}");
    }
}

/// A bad query string is refused like a bad body: the parameter named, the value never echoed.
#[tokio::test]
async fn query_errors_name_the_parameter_without_echoing_it() {
    let app = TestApp::spawn().await;
    for (query, field) in [
        ("limit=hunter2", "limit"),
        ("after=hunter2", "after"),
        ("hunter2=1", "hunter2"),
    ] {
        let response = app
            .get_as(SYSADMIN, &format!("/api/v1/tenants?{query}"))
            .await;
        assert_eq!(response.status(), 400, "{query}");
        let error = error_of(response).await;
        assert_eq!(error["code"], "bad_request", "{error}");
        assert_eq!(error["fields"][0]["field"], field, "{error}");
        let message = error["message"].as_str().unwrap();
        let detail = error["fields"][0]["message"].as_str().unwrap();
        for text in [message, detail] {
            assert!(!text.contains("hunter2"), "{error}");
            assert!(
                !text.contains("deserialize"),
                "serde's wording leaks: {error}"
            );
        }
    }
}
