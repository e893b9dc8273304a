//! Security headers and CORS.

use crate::helpers::{Backend, TestApp};

const EXPECTED: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
];

#[tokio::test]
async fn security_headers_are_on_every_response_including_errors() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/api/openapi.json", "/nope", "/api/v1/tenants"] {
        let response = app.get(path).await;
        for (name, value) in EXPECTED {
            assert_eq!(
                response.headers().get(*name).map(|v| v.to_str().unwrap()),
                Some(*value),
                "{name} on {path}"
            );
        }
        assert!(
            response
                .headers()
                .get("strict-transport-security")
                .is_none(),
            "no HSTS over plain HTTP"
        );
    }
}

#[tokio::test]
async fn cors_answers_only_configured_origins() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[("ALLOWED_ORIGINS", "https://audit.example.com")],
    )
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/tenants"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let allowed = preflight("https://audit.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://audit.example.com"
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let simple = app
        .client
        .get(app.url("/healthz"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(simple
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn without_allowed_origins_no_cors_headers_are_sent() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("origin", "https://audit.example.com")
        .send()
        .await
        .unwrap();
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}
