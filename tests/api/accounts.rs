//! Helpers of the account-management tests (users, API keys, isolation, CLI) on top of
//! `TestApp`'s: a tenant with a logged-in admin, requests with any method and body, polling.

use std::time::{Duration, Instant};

use auditpulse::auth::Role;
use auditpulse::domain::TenantId;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{TestApp, PASSWORD};

/// A stored user of `tenant` with `role` and the password `PASSWORD`; their id.
pub async fn user(app: &TestApp, tenant: TenantId, email: &str, role: Role) -> String {
    app.create_user(Some(tenant), email, PASSWORD, Some(role), false)
        .await
        .id
        .to_string()
}

/// Logs in with any password; the response, whatever it is.
pub async fn login_with(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.login_with(&json!({"email": email, "password": password}))
        .await
}

/// A new tenant with one logged-in administrator: (tenant, the admin's user id, their token).
pub async fn tenant_with_admin(app: &TestApp, slug: &str) -> (TenantId, String, String) {
    let tenant = app.create_tenant(slug).await;
    let email = format!("admin@{slug}.example");
    let id = user(app, tenant, &email, Role::Admin).await;
    (tenant, id, app.login(&email, PASSWORD).await.access_token)
}

pub async fn send(
    app: &TestApp,
    method: Method,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

pub async fn patch(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    send(app, Method::PATCH, token, path, Some(body)).await
}

pub async fn delete(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    send(app, Method::DELETE, token, path, None).await
}

pub async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    send(app, Method::POST, token, path, Some(body)).await
}

/// The JSON of a response that must have `status`.
pub async fn json_of(response: reqwest::Response, status: u16) -> Value {
    let got = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// Polls `check` until it holds or `limit` passes; whether it held.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The audit events with this action that `token` sees, once there are some (the audit writer
/// commits off the request path); empty if none come within five seconds.
pub async fn audited(app: &TestApp, token: &str, action: &str) -> Vec<Value> {
    audited_at_least(app, token, action, 1).await
}

/// Like `audited`, waiting for at least `n` events.
pub async fn audited_at_least(app: &TestApp, token: &str, action: &str, n: usize) -> Vec<Value> {
    let path = format!("/api/v1/audit-events?action={action}");
    let start = Instant::now();
    loop {
        let body = json_of(app.get_as(token, &path).await, 200).await;
        let items = body["items"].as_array().unwrap().clone();
        if items.len() >= n || start.elapsed() > Duration::from_secs(5) {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
