//! Hostile input: every bad body gets a precise error and changes nothing.

use serde_json::json;

use crate::helpers::{error_of, Backend, TestApp, SYSADMIN};

async fn tenant_count(app: &TestApp) -> usize {
    let page: serde_json::Value = app
        .get_as(SYSADMIN, "/api/v1/tenants")
        .await
        .json()
        .await
        .unwrap();
    page["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn unknown_and_invalid_fields_are_422_naming_each_field() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json_as(
            SYSADMIN,
            "/api/v1/tenants",
            &json!({"name": "", "slug": "Bad Slug", "admin": true, "plan": "x"}),
        )
        .await;
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
        .post_json_as(
            SYSADMIN,
            "/api/v1/tenants",
            &json!({"name": "ok", "slug": 12345}),
        )
        .await;
    assert_eq!(response.status(), 422);
    let text = error_of(response).await.to_string();
    assert!(
        text.contains("\"field\":\"slug\"") && !text.contains("12345"),
        "{text}"
    );
    let response = app
        .post_json_as(SYSADMIN, "/api/v1/tenants", &json!({"slug": "acme"}))
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
    let response = app
        .client
        .post(app.url("/api/v1/tenants"))
        .bearer_auth(SYSADMIN)
        .header("content-type", "application/json")
        .body("{\"name\": \"acme\",")
        .send()
        .await
        .unwrap();
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
        let mut request = app
            .client
            .post(app.url("/api/v1/tenants"))
            .bearer_auth(SYSADMIN)
            .body(r#"{"name":"acme"}"#);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 415, "{content_type:?}");
        assert_eq!(error_of(response).await["code"], "unsupported_media_type");
    }
    assert_eq!(tenant_count(&app).await, 0);
}

#[tokio::test]
async fn json_with_charset_is_accepted() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url("/api/v1/tenants"))
        .bearer_auth(SYSADMIN)
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"name":"Acme"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

fn padded_body(bytes: usize) -> String {
    format!(r#"{{"name":"{}"}}"#, "a".repeat(bytes))
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_with_content_length() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("AUDITPULSE_MAX_BODY_BYTES", "2048")]).await;
    let response = app
        .client
        .post(app.url("/api/v1/tenants"))
        .bearer_auth(SYSADMIN)
        .header("content-type", "application/json")
        .body(padded_body(4096))
        .send()
        .await
        .unwrap();
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
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = padded_body(8192)
        .into_bytes()
        .chunks(512)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let response = app
        .client
        .post(app.url("/api/v1/tenants"))
        .bearer_auth(SYSADMIN)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(error_of(response).await["code"], "payload_too_large");
    assert_eq!(tenant_count(&app).await, 0);
    // A chunked body under the limit still works.
    let small: Vec<Result<Vec<u8>, std::io::Error>> =
        vec![Ok(br#"{"name":"#.to_vec()), Ok(br#""Acme"}"#.to_vec())];
    let response = app
        .client
        .post(app.url("/api/v1/tenants"))
        .bearer_auth(SYSADMIN)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            small,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}
