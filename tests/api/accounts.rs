//! Helpers of the account-management tests (users, API keys, isolation, CLI): real tenants, real
//! users with stored passwords, real logins, and requests with any method.

use std::time::{Duration, Instant};

use auditpulse::auth::Role;
use auditpulse::domain::TenantId;
use auditpulse::identity::users::{create_user, UserDraft};
use auditpulse::secret::SecretString;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Backend, TestApp, SYSADMIN};

/// Meets the password policy.
pub const PASSWORD: &str = "correct horse battery staple";

/// An app whose login route is not limited per IP: these tests log in many times from one address.
pub async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(
        backend,
        &[(auditpulse::config::vars::RATE_LIMIT_AUTH_IP, "off")],
    )
    .await
}

/// Creates a tenant through the API as the system administrator; its id.
pub async fn tenant(app: &TestApp, slug: &str) -> TenantId {
    let response = app
        .post_json_as(
            SYSADMIN,
            "/api/v1/tenants",
            &json!({"name": slug, "slug": slug}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().parse().unwrap()
}

/// Stores a user with `PASSWORD` directly (the first administrator of a tenant has to come from
/// somewhere); its id.
pub async fn user(app: &TestApp, tenant: TenantId, email: &str, role: Role) -> String {
    let draft = UserDraft {
        email: email.into(),
        password: SecretString::new(PASSWORD.into()),
        display_name: None,
        tenant: Some(tenant),
        role: Some(role),
        system_admin: false,
    };
    create_user(app.state.store.as_ref(), &app.state.passwords, draft)
        .await
        .unwrap()
        .id
        .to_string()
}

pub async fn login_with(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

/// An access token of a fresh session of `email` (password `PASSWORD`).
pub async fn token(app: &TestApp, email: &str) -> String {
    let response = login_with(app, email, PASSWORD).await;
    assert_eq!(response.status(), 200, "login of {email}");
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// A new tenant with one administrator: (tenant, the admin's user id, the admin's token).
pub async fn tenant_with_admin(app: &TestApp, slug: &str) -> (TenantId, String, String) {
    let tenant = tenant(app, slug).await;
    let email = format!("admin@{slug}.example");
    let id = user(app, tenant, &email, Role::Admin).await;
    (tenant, id, token(app, &email).await)
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
