//! `POST /api/v1/auth/login` as a user meets it, on both backends.

use std::time::{Duration, Instant};

use auditpulse::auth::Role;
use auditpulse::events::SecurityEventKind;
use auditpulse::identity::UserPatch;
use auditpulse::store::Scope;
use serde_json::json;

use crate::helpers::{error_of, set_cookie, Backend, TestApp, PASSWORD, SYSADMIN};

async fn a_user_logs_in_and_the_token_opens_protected_routes(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    let user = app
        .create_user(
            Some(tenant),
            "Jane@Example.com",
            PASSWORD,
            Some(Role::Admin),
            false,
        )
        .await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("user-agent", "integration-test/1.0")
        .json(&json!({"email": " jane@example.COM ", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(set_cookie(&response)
        .unwrap()
        .starts_with("auditpulse_refresh="));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 1800);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3, "a JWT");

    let sessions = app.get_as(token, "/api/v1/auth/sessions").await;
    assert_eq!(sessions.status(), 200);
    let sessions: serde_json::Value = sessions.json().await.unwrap();
    assert_eq!(sessions["items"][0]["current"], true);
    assert_eq!(sessions["items"][0]["user_agent"], "integration-test/1.0");
    assert_eq!(sessions["items"][0]["ip"], "127.0.0.1");
    // The role comes from the stored user: a tenant admin reads the tenant's alerts...
    assert_eq!(
        app.get_as(token, "/api/v1/security/alerts").await.status(),
        200
    );
    // ...but is no system administrator.
    assert_eq!(app.get_as(token, "/api/v1/tenants").await.status(), 403);
    // The fixed test tokens keep working next to real logins.
    assert_eq!(app.get_as(SYSADMIN, "/api/v1/tenants").await.status(), 200);

    let stored = app
        .state
        .store
        .get_user(Scope::Tenant(tenant), user.id)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.last_login_at.is_some(), "the login is recorded");
    let events = app.events.0.lock().unwrap().clone();
    let login = events
        .iter()
        .find(|e| e.kind.action() == "auth.login")
        .expect("a login event");
    assert_eq!(
        login.kind,
        SecurityEventKind::LoginSucceeded {
            user: user.id.to_string(),
            tenant: Some(tenant),
            user_agent: Some("integration-test/1.0".into()),
        }
    );
}

async fn unknown_emails_and_wrong_passwords_are_indistinguishable(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    let user = app
        .create_user(
            Some(tenant),
            "jane@example.com",
            PASSWORD,
            Some(Role::Viewer),
            false,
        )
        .await;
    let attempt = |email: &'static str| {
        let app = &app;
        async move {
            let started = Instant::now();
            let response = app
                .login_with(&json!({"email": email, "password": "not the password at all"}))
                .await;
            let elapsed = started.elapsed();
            // Keep measuring without locking the e-mail.
            app.state.store.clear_login_throttle(email).await.unwrap();
            let status = response.status().as_u16();
            let www = response.headers().get("www-authenticate").cloned();
            let error = error_of(response).await;
            (
                status,
                error["code"].clone(),
                error["message"].clone(),
                www,
                elapsed,
            )
        }
    };
    let known = attempt("jane@example.com").await;
    let unknown = attempt("nobody@example.com").await;
    assert_eq!(known.0, 401);
    assert_eq!(known.1, "invalid_credentials");
    assert_eq!(
        (&known.0, &known.1, &known.2, &known.3),
        (&unknown.0, &unknown.1, &unknown.2, &unknown.3),
        "same status, code, message and headers"
    );
    // Both run Argon2: the unknown e-mail must not answer markedly faster. The fastest of a few
    // interleaved tries is the least disturbed by whatever else the machine is doing.
    let (mut fastest_known, mut fastest_unknown) = (known.4, unknown.4);
    for _ in 0..4 {
        fastest_known = fastest_known.min(attempt("jane@example.com").await.4);
        fastest_unknown = fastest_unknown.min(attempt("nobody@example.com").await.4);
    }
    assert!(
        fastest_unknown * 2 >= fastest_known,
        "unknown e-mail answered in {fastest_unknown:?}, known in {fastest_known:?}"
    );
    let events = app.events.0.lock().unwrap().clone();
    let accounts: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            SecurityEventKind::LoginFailed { account, .. } => Some(account.clone()),
            _ => None,
        })
        .collect();
    assert!(accounts.contains(&user.id.to_string()));
    assert!(
        accounts.contains(&"n•••@example.com".to_owned()),
        "unknown e-mails are named masked: {accounts:?}"
    );
    assert!(
        !accounts.iter().any(|a| a.contains("nobody")),
        "{accounts:?}"
    );
}

async fn inactive_users_get_the_same_answer_as_a_wrong_password(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    let user = app
        .create_user(
            Some(tenant),
            "jane@example.com",
            PASSWORD,
            Some(Role::Viewer),
            false,
        )
        .await;
    let patch = UserPatch {
        active: Some(false),
        ..Default::default()
    };
    app.state
        .store
        .update_user(Scope::Tenant(tenant), user.id, &patch)
        .await
        .unwrap();
    let response = app
        .login_with(&json!({"email": "jane@example.com", "password": PASSWORD}))
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(error_of(response).await["code"], "invalid_credentials");
}

async fn global_system_administrators_log_in_without_a_tenant(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    app.create_user(None, "root@example.com", PASSWORD, None, true)
        .await;
    let login = app.login("root@example.com", PASSWORD).await;
    assert_eq!(
        app.get_as(&login.access_token, "/api/v1/tenants")
            .await
            .status(),
        200
    );
}

async fn weaker_stored_hashes_are_upgraded_at_login(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    let user = app
        .create_user(
            Some(tenant),
            "jane@example.com",
            PASSWORD,
            Some(Role::Viewer),
            false,
        )
        .await;
    let weak = auditpulse::identity::credentials::password::PasswordHasher::new(
        argon2::Params::new(8 * 1024, 1, 1, None).unwrap(),
        1,
    )
    .unwrap()
    .hash(&auditpulse::secret::SecretString::new(PASSWORD.into()))
    .await
    .unwrap();
    let scope = Scope::Tenant(tenant);
    app.state
        .store
        .set_password_hash(scope, user.id, &auditpulse::secret::SecretString::new(weak))
        .await
        .unwrap();
    app.login("jane@example.com", PASSWORD).await;
    let stored = app
        .state
        .store
        .password_hash(scope, user.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored
            .expose()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "upgraded on login"
    );
    app.login("jane@example.com", PASSWORD).await;
}

async fn malformed_logins_are_422_and_never_echo_the_password(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let response = app
        .login_with(&json!({"email": "", "password": "hunter2-secret", "extra": 1}))
        .await;
    assert_eq!(response.status(), 422);
    let text = response.text().await.unwrap();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(
        text.contains("\"email\"") && text.contains("\"extra\""),
        "{text}"
    );
    let started = Instant::now();
    let response = app
        .login_with(&json!({"email": "a@example.com", "password": "x".repeat(5000)}))
        .await;
    assert_eq!(response.status(), 422);
    assert!(started.elapsed() < Duration::from_secs(2));
}

crate::on_both_backends!(
    a_user_logs_in_and_the_token_opens_protected_routes,
    unknown_emails_and_wrong_passwords_are_indistinguishable,
    inactive_users_get_the_same_answer_as_a_wrong_password,
    global_system_administrators_log_in_without_a_tenant,
    weaker_stored_hashes_are_upgraded_at_login,
    malformed_logins_are_422_and_never_echo_the_password,
);
