//! `POST /api/v1/auth/password`: the current password is required, the policy applies, and every
//! other session ends; on both backends.

use auditpulse::auth::Role;
use serde_json::json;

use crate::helpers::{error_of, Backend, TestApp, PASSWORD};

const NEW: &str = "a brand new passphrase";

async fn change(app: &TestApp, token: &str, current: &str, new: &str) -> reqwest::Response {
    app.post_json_as(
        token,
        "/api/v1/auth/password",
        &json!({"current_password": current, "new_password": new}),
    )
    .await
}

async fn changing_the_password_ends_every_other_session(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    let (jane, other) = app.user_token(tenant, Role::Viewer).await;
    let here = app.login(&jane.email, PASSWORD).await;
    let response = change(&app, &here.access_token, PASSWORD, NEW).await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        app.get_as(&other, "/api/v1/auth/sessions").await.status(),
        401
    );
    assert_eq!(
        app.get_as(&here.access_token, "/api/v1/auth/sessions")
            .await
            .status(),
        200,
        "this session stays"
    );
    assert_eq!(app.refresh(&here.refresh_cookie).await.status(), 200);
    let old = app
        .login_with(&json!({"email": jane.email, "password": PASSWORD}))
        .await;
    assert_eq!(old.status(), 401);
    app.login(&jane.email, NEW).await;
    let actions = app.events.actions();
    assert!(actions.contains(&"user.password_change"), "{actions:?}");
    assert!(actions.contains(&"auth.token_revoked"), "{actions:?}");
}

async fn the_current_password_is_required_and_counts_towards_the_lockout(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    let (jane, token) = app.user_token(tenant, Role::Viewer).await;
    for _ in 0..5 {
        let response = change(&app, &token, "not the current one", NEW).await;
        assert_eq!(response.status(), 401);
        assert_eq!(error_of(response).await["code"], "invalid_credentials");
    }
    let response = change(&app, &token, PASSWORD, NEW).await;
    assert_eq!(response.status(), 429, "locked like a login");
    assert_eq!(error_of(response).await["code"], "account_locked");
    let response = app
        .login_with(&json!({"email": jane.email, "password": PASSWORD}))
        .await;
    assert_eq!(response.status(), 429);
}

async fn the_new_password_must_meet_the_policy(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    let (jane, token) = app.user_token(tenant, Role::Viewer).await;
    let name = jane.email.split('@').next().unwrap().to_owned();
    for (new, rule) in [
        ("short", "at least 12"),
        ("qwerty123456", "common"),
        (&*format!("my {name} password"), "e-mail"),
    ] {
        let response = change(&app, &token, PASSWORD, new).await;
        assert_eq!(response.status(), 422, "{new}");
        let error = error_of(response).await;
        assert_eq!(error["fields"][0]["field"], "new_password");
        let message = error["fields"][0]["message"].as_str().unwrap();
        assert!(message.contains(rule), "{message}");
        assert!(!message.contains(new), "never echoed");
    }
    app.login(&jane.email, PASSWORD).await;
}

/// A password of one repeated character or group, or a straight run, is refused by name.
#[tokio::test]
async fn trivially_weak_passwords_are_refused_naming_the_rule() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("acme").await;
    let (jane, token) = app.user_token(tenant, Role::Viewer).await;
    for new in [
        "zzzzzzzzzzzzzzzz",
        "qpqpqpqpqpqpqp",
        "k9!k9!k9!k9!k9!",
        "abcdefghijklmnop",
    ] {
        let response = change(&app, &token, PASSWORD, new).await;
        assert_eq!(response.status(), 422, "{new}");
        let error = error_of(response).await;
        assert_eq!(error["fields"][0]["field"], "new_password");
        let message = error["fields"][0]["message"].as_str().unwrap();
        assert!(message.contains("repeated"), "{message}");
        assert!(!message.contains(new), "never echoed");
    }
    app.login(&jane.email, PASSWORD).await;
}

crate::on_both_backends!(
    changing_the_password_ends_every_other_session,
    the_current_password_is_required_and_counts_towards_the_lockout,
    the_new_password_must_meet_the_policy,
);
