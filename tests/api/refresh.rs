//! `POST /api/v1/auth/refresh`: rotation, reuse detection, cookie attributes, cross-site refusal,
//! idle timeout and absolute lifetime.

use std::time::Duration;

use auditpulse::audit::AuditQuery;
use auditpulse::auth::Role;
use auditpulse::security::SecurityAlertFilter;
use auditpulse::security::SecurityAlertKind;
use auditpulse::store::Scope;

use crate::helpers::{error_of, set_cookie, Backend, TestApp, PASSWORD};

async fn user(app: &TestApp) -> String {
    let tenant = app.create_tenant("acme").await;
    app.create_user(
        Some(tenant),
        "jane@example.com",
        PASSWORD,
        Some(Role::Viewer),
        false,
    )
    .await;
    "jane@example.com".to_owned()
}

async fn sessions_status(app: &TestApp, token: &str) -> u16 {
    app.get_as(token, "/api/v1/auth/sessions")
        .await
        .status()
        .as_u16()
}

async fn wait_for<T>(mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..100 {
        if let Some(found) = probe().await {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not recorded in time");
}

async fn refresh_rotates_and_a_reused_token_ends_the_session(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let email = user(&app).await;
    let login = app.login(&email, PASSWORD).await;

    let response = app.refresh(&login.refresh_cookie).await;
    assert_eq!(response.status(), 200);
    let rotated = set_cookie(&response).expect("a new cookie");
    assert_ne!(rotated, login.refresh_cookie);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    let renewed = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(sessions_status(&app, &renewed).await, 200);
    assert_eq!(sessions_status(&app, &login.access_token).await, 200);

    // The first cookie again: someone holds a copy. The whole session ends.
    let response = app.refresh(&login.refresh_cookie).await;
    assert_eq!(response.status(), 401);
    assert!(
        set_cookie(&response).unwrap().ends_with('='),
        "the cookie is cleared"
    );
    assert_eq!(sessions_status(&app, &renewed).await, 401, "ended at once");
    assert_eq!(sessions_status(&app, &login.access_token).await, 401);
    assert_eq!(
        app.refresh(&rotated).await.status(),
        401,
        "the newer token died with its session"
    );
    assert!(app.events.actions().contains(&"auth.refresh_token_reused"));

    let store = app.state.store.clone();
    let audited = wait_for(async || {
        let query = AuditQuery {
            scope: Scope::System,
            from: None,
            to: None,
            actor_id: None,
            action: Some("auth.refresh_token_reused".into()),
            outcome: None,
            after: None,
            limit: 10,
        };
        store.query_audit(&query).await.unwrap().pop()
    })
    .await;
    assert_eq!(audited.action, "auth.refresh_token_reused");
    let filter = SecurityAlertFilter {
        kind: Some(SecurityAlertKind::RefreshTokenReuse),
        ..Default::default()
    };
    let alert = wait_for(async || {
        store
            .list_alerts(Scope::System, &filter, 10)
            .await
            .unwrap()
            .pop()
    })
    .await;
    assert!(alert.summary.contains("used twice"), "{}", alert.summary);
}

async fn requests_without_a_valid_cookie_are_401(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let email = user(&app).await;
    let login = app.login(&email, PASSWORD).await;
    let (name, value) = login.refresh_cookie.split_once('=').unwrap();
    let (session, random) = value.split_once('.').unwrap();
    let other_session = auditpulse::domain::SessionId::new();
    for cookie in [
        String::new(),
        format!("{name}="),
        format!("{name}={session}.{}", &random[..random.len() - 2]),
        format!("{name}={other_session}.{random}"),
        format!("__Host-{name}={value}"),
    ] {
        let response = app.refresh(&cookie).await;
        assert_eq!(response.status(), 401, "{cookie}");
        assert_eq!(error_of(response).await["code"], "unauthenticated");
    }
    assert_eq!(app.refresh(&login.refresh_cookie).await.status(), 200);
}

async fn development_cookies_drop_secure_and_the_host_prefix(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let email = user(&app).await;
    let response = app
        .login_with(&serde_json::json!({"email": email, "password": PASSWORD}))
        .await;
    let header = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let (pair, attributes) = header.split_once("; ").unwrap();
    assert!(pair.starts_with("auditpulse_refresh="), "{header}");
    assert_eq!(
        attributes,
        "Max-Age=604800; HttpOnly; SameSite=Strict; Path=/"
    );
}

async fn production_cookies_are_host_prefixed_and_secure(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("AUDITPULSE_ENV", "production"),
            ("AUDITPULSE_TRUSTED_PROXIES", "10.0.0.0/8"),
        ],
    )
    .await;
    let email = user(&app).await;
    let response = app
        .login_with(&serde_json::json!({"email": email, "password": PASSWORD}))
        .await;
    let header = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let (pair, attributes) = header.split_once("; ").unwrap();
    assert!(pair.starts_with("__Host-auditpulse_refresh="), "{header}");
    assert_eq!(
        attributes,
        "Max-Age=604800; HttpOnly; Secure; SameSite=Strict; Path=/"
    );
    assert_eq!(app.refresh(pair).await.status(), 200);
    let unprefixed = pair.trim_start_matches("__Host-");
    assert_eq!(
        app.refresh(unprefixed).await.status(),
        401,
        "the cookie without its prefix could have been set by another host"
    );
}

#[tokio::test]
async fn tls_cookies_are_host_prefixed_and_secure() {
    let certs = crate::tls::self_signed();
    let app = crate::tls::tls_app(&certs).await;
    let client = crate::tls::client(&certs, reqwest::tls::Version::TLS_1_3);
    let tenant = app.create_tenant("acme").await;
    app.create_user(
        Some(tenant),
        "jane@example.com",
        PASSWORD,
        Some(Role::Viewer),
        false,
    )
    .await;
    let response = client
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "jane@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let header = response.headers()["set-cookie"].to_str().unwrap();
    assert!(header.starts_with("__Host-auditpulse_refresh="), "{header}");
    assert!(
        header.ends_with("; HttpOnly; Secure; SameSite=Strict; Path=/"),
        "{header}"
    );
}

async fn cross_site_refreshes_are_refused(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("ALLOWED_ORIGINS", "https://app.example.com")]).await;
    let email = user(&app).await;
    let login = app.login(&email, PASSWORD).await;
    let refresh = |headers: Vec<(&'static str, String)>| {
        let mut request = app
            .client
            .post(app.url("/api/v1/auth/refresh"))
            .header("cookie", login.refresh_cookie.clone());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    for refused in [
        vec![("sec-fetch-site", "cross-site".to_owned())],
        vec![("origin", "https://evil.example".to_owned())],
        vec![("origin", "null".to_owned())],
        vec![("origin", app.base.replace("http://", "https://"))],
    ] {
        let response = refresh(refused.clone()).await.unwrap();
        assert_eq!(response.status(), 403, "{refused:?}");
        assert_eq!(error_of(response).await["code"], "cross_site_request");
    }
    // Refused before anything happened: the cookie still works, from this very origin...
    let response = refresh(vec![
        ("origin", app.base.clone()),
        ("sec-fetch-site", "same-origin".to_owned()),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    // ...and from a configured one.
    let rotated = set_cookie(&response).unwrap();
    let response = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .header("cookie", rotated)
        .header("origin", "https://app.example.com")
        .header("sec-fetch-site", "same-site")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

async fn idle_sessions_end_and_activity_keeps_them_alive(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("AUDITPULSE_SESSION_IDLE_TIMEOUT", "2")]).await;
    let email = user(&app).await;
    let busy = app.login(&email, PASSWORD).await;
    let idle = app.login(&email, PASSWORD).await;
    for _ in 0..7 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(sessions_status(&app, &busy.access_token).await, 200);
    }
    // 2.8 s without a request: over the idle timeout, though the access token has not expired.
    assert_eq!(sessions_status(&app, &idle.access_token).await, 401);
    let response = app.refresh(&idle.refresh_cookie).await;
    assert_eq!(
        response.status(),
        401,
        "an idle session is ended, not renewed"
    );
    assert!(app.events.actions().contains(&"auth.token_revoked"));
    // The busy one renews fine.
    assert_eq!(app.refresh(&busy.refresh_cookie).await.status(), 200);
}

async fn sessions_end_at_their_absolute_lifetime(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("AUDITPULSE_SESSION_MAX_LIFETIME", "2")]).await;
    let email = user(&app).await;
    let response = app
        .login_with(&serde_json::json!({"email": email, "password": PASSWORD}))
        .await;
    let cookie = set_cookie(&response).unwrap();
    let header = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(header.contains("; Max-Age=2;"), "{header}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["expires_in"].as_u64().unwrap() <= 2,
        "the access token never outlives its session: {body}"
    );
    let token = body["access_token"].as_str().unwrap().to_owned();
    let response = app.refresh(&cookie).await;
    assert_eq!(response.status(), 200);
    let cookie = set_cookie(&response).unwrap();
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(sessions_status(&app, &token).await, 401);
    assert_eq!(app.refresh(&cookie).await.status(), 401);
}

crate::on_both_backends!(
    refresh_rotates_and_a_reused_token_ends_the_session,
    requests_without_a_valid_cookie_are_401,
    development_cookies_drop_secure_and_the_host_prefix,
    production_cookies_are_host_prefixed_and_secure,
    cross_site_refreshes_are_refused,
    idle_sessions_end_and_activity_keeps_them_alive,
    sessions_end_at_their_absolute_lifetime,
);
