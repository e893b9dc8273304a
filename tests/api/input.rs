//! Hostile input: every bad body gets a precise error and changes nothing.

use serde_json::json;

use crate::helpers::{error_of, Backend, TestApp, SYSADMIN};

const TENANTS: &str = "/api/v1/tenants";

async fn tenant_count(app: &TestApp) -> usize {
    let page: serde_json::Value = app.get_as(SYSADMIN, TENANTS).await.json().await.unwrap();
    page["items"].as_array().unwrap().len()
}

/// POSTs a raw body to the tenants route as a system administrator.
async fn post_raw(
    app: &TestApp,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url(TENANTS))
        .bearer_auth(SYSADMIN)
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.send().await.unwrap()
}

/// A body sent chunked, without Content-Length.
fn chunked(bytes: Vec<u8>, chunk: usize) -> reqwest::Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(chunk).map(|c| Ok(c.to_vec())).collect();
    reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))
}

#[tokio::test]
async fn unknown_and_invalid_fields_are_422_naming_each_field() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "", "slug": "Bad Slug", "admin": true, "plan": "x"});
    let response = app.post_json_as(SYSADMIN, TENANTS, &body).await;
    assert_eq!(response.status(), 422);
    let error = error_of(response).await;
    assert_eq!(error["code"], "validation_failed");
    let fields: Vec<(&str, &str)> = error["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields.iter().map(|f| f.0).collect::<Vec<_>>(),
        vec!["admin", "plan", "name", "slug"]
    );
    assert_eq!(fields[0].1, "unknown field");
    assert_eq!(tenant_count(&app).await, 0, "nothing was created");
}

#[tokio::test]
async fn wrong_types_and_missing_fields_are_422_without_echoing_values() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json_as(SYSADMIN, TENANTS, &json!({"name": "ok", "slug": 12345}))
        .await;
    assert_eq!(response.status(), 422);
    let text = error_of(response).await.to_string();
    assert!(
        text.contains("\"field\":\"slug\"") && !text.contains("12345"),
        "{text}"
    );
    let response = app
        .post_json_as(SYSADMIN, TENANTS, &json!({"slug": "acme"}))
        .await;
    let error = error_of(response).await;
    assert_eq!(
        error["fields"][0],
        json!({"field": "name", "message": "is required"})
    );
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = TestApp::spawn().await;
    let response = post_raw(&app, Some("application/json"), "{\"name\": \"acme\",").await;
    assert_eq!(response.status(), 400);
    let error = error_of(response).await;
    assert_eq!(error["code"], "malformed_json");
    assert!(
        error["message"].as_str().unwrap().contains("line 1"),
        "{error}"
    );
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = TestApp::spawn().await;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let response = post_raw(&app, content_type, r#"{"name":"acme"}"#).await;
        assert_eq!(response.status(), 415, "{content_type:?}");
        assert_eq!(error_of(response).await["code"], "unsupported_media_type");
    }
    assert_eq!(tenant_count(&app).await, 0);
}

#[tokio::test]
async fn json_with_charset_is_accepted() {
    let app = TestApp::spawn().await;
    let response = post_raw(
        &app,
        Some("application/json; charset=utf-8"),
        r#"{"name":"Acme"}"#,
    )
    .await;
    assert_eq!(response.status(), 201);
}

fn padded_body(bytes: usize) -> String {
    format!(r#"{{"name":"{}"}}"#, "a".repeat(bytes))
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_with_content_length() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("AUDITPULSE_MAX_BODY_BYTES", "2048")]).await;
    let response = post_raw(&app, Some("application/json"), padded_body(4096)).await;
    assert_eq!(response.status(), 413);
    let error = error_of(response).await;
    assert_eq!(error["code"], "payload_too_large");
    assert!(
        error["message"].as_str().unwrap().contains("2048"),
        "{error}"
    );
}

#[tokio::test]
async fn chunked_bodies_over_the_limit_are_413_too() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("AUDITPULSE_MAX_BODY_BYTES", "2048")]).await;
    let response = post_raw(
        &app,
        Some("application/json"),
        chunked(padded_body(8192).into_bytes(), 512),
    )
    .await;
    assert_eq!(response.status(), 413);
    assert_eq!(error_of(response).await["code"], "payload_too_large");
    assert_eq!(tenant_count(&app).await, 0);
    // A chunked body under the limit still works.
    let response = post_raw(
        &app,
        Some("application/json"),
        chunked(br#"{"name":"Acme"}"#.to_vec(), 5),
    )
    .await;
    assert_eq!(response.status(), 201);
}
