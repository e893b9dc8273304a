//! Lockout after failed logins, and the per-IP and per-account login limits, on both backends.

use auditpulse::auth::Role;
use auditpulse::domain::time;
use auditpulse::events::SecurityEventKind;
use auditpulse::identity::Throttle;
use serde_json::json;

use crate::helpers::{error_of, Backend, TestApp, PASSWORD};

const EMAIL: &str = "jane@example.com";

async fn attempt(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.login_with(&json!({"email": email, "password": password}))
        .await
}

async fn fail(app: &TestApp, email: &str, times: usize) {
    for _ in 0..times {
        let response = attempt(app, email, "wrong password, again").await;
        assert_eq!(response.status(), 401);
    }
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn app_with_jane(backend: Backend) -> TestApp {
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    app.create_user(Some(tenant), EMAIL, PASSWORD, Some(Role::Viewer), false)
        .await;
    app
}

async fn five_failures_lock_the_account_even_against_the_right_password(backend: Backend) {
    let app = app_with_jane(backend).await;
    fail(&app, EMAIL, 5).await;
    let response = attempt(&app, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 429);
    let retry = retry_after(&response);
    assert!((55..=60).contains(&retry), "locked for a minute: {retry}");
    assert_eq!(error_of(response).await["code"], "account_locked");
    // The e-mail's case and spaces do not get around it.
    let response = attempt(&app, " JANE@example.com", PASSWORD).await;
    assert_eq!(response.status(), 429);
    let locked: Vec<SecurityEventKind> = app
        .events
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.kind.action() == "auth.account_locked")
        .map(|e| e.kind.clone())
        .collect();
    assert_eq!(locked.len(), 1, "{locked:?}");
    assert!(matches!(
        &locked[0],
        SecurityEventKind::AccountLocked { for_secs: 60, .. }
    ));
}

async fn unknown_emails_lock_the_same_way(backend: Backend) {
    let app = app_with_jane(backend).await;
    let mut answers = Vec::new();
    for email in [EMAIL, "nobody@example.com"] {
        fail(&app, email, 5).await;
        let response = attempt(&app, email, PASSWORD).await;
        answers.push((
            response.status(),
            error_of(response).await["message"].clone(),
        ));
    }
    assert_eq!(
        answers[0], answers[1],
        "no account enumeration through lockouts"
    );
    assert_eq!(answers[0].0, 429);
}

async fn locks_grow_with_each_lockout(backend: Backend) {
    let app = app_with_jane(backend).await;
    // Two lockouts already, the last one over: the next lasts fifteen minutes.
    let past = time::now() - chrono::Duration::seconds(10);
    let throttle = Throttle {
        failures: 0,
        window_start: past - chrono::Duration::seconds(60),
        lockouts: 2,
        locked_until: Some(past),
    };
    app.state
        .store
        .put_login_throttle(EMAIL, &throttle, past)
        .await
        .unwrap();
    fail(&app, EMAIL, 5).await;
    let response = attempt(&app, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 429);
    let retry = retry_after(&response);
    assert!((895..=900).contains(&retry), "third lockout: {retry}");
    let stored = app
        .state
        .store
        .login_throttle(EMAIL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.lockouts, 3);
}

async fn a_successful_login_resets_the_count(backend: Backend) {
    let app = app_with_jane(backend).await;
    fail(&app, EMAIL, 4).await;
    app.login(EMAIL, PASSWORD).await;
    assert!(app
        .state
        .store
        .login_throttle(EMAIL)
        .await
        .unwrap()
        .is_none());
    fail(&app, EMAIL, 4).await;
    app.login(EMAIL, PASSWORD).await;
    // An expired lock and its count are cleared by success too: the next lock is a minute again.
    let past = time::now() - chrono::Duration::seconds(1);
    let throttle = Throttle {
        failures: 0,
        window_start: past,
        lockouts: 3,
        locked_until: Some(past),
    };
    app.state
        .store
        .put_login_throttle(EMAIL, &throttle, past)
        .await
        .unwrap();
    app.login(EMAIL, PASSWORD).await;
    fail(&app, EMAIL, 5).await;
    let response = attempt(&app, EMAIL, PASSWORD).await;
    assert!(retry_after(&response) <= 60);
}

async fn logins_are_limited_per_ip(backend: Backend) {
    let app =
        TestApp::spawn_with(backend, &[("AUDITPULSE_RATE_LIMIT_AUTH_IP", "5/m,burst=5")]).await;
    for i in 0..5 {
        let email = format!("user{i}@example.com");
        assert_eq!(attempt(&app, &email, "whatever it is").await.status(), 401);
    }
    let response = attempt(&app, "user9@example.com", "whatever it is").await;
    assert_eq!(response.status(), 429);
    assert_eq!(error_of(response).await["code"], "rate_limited");
}

async fn logins_are_limited_per_account(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[("AUDITPULSE_RATE_LIMIT_AUTH_PRINCIPAL", "3/m,burst=3")],
    )
    .await;
    fail(&app, EMAIL, 3).await;
    let response = attempt(&app, EMAIL, "still wrong").await;
    assert_eq!(response.status(), 429);
    assert_eq!(error_of(response).await["code"], "rate_limited");
    // Other accounts, from the same address, are not held back.
    assert_eq!(
        attempt(&app, "other@example.com", "nope nope")
            .await
            .status(),
        401
    );
}

crate::on_both_backends!(
    five_failures_lock_the_account_even_against_the_right_password,
    unknown_emails_lock_the_same_way,
    locks_grow_with_each_lockout,
    a_successful_login_resets_the_count,
    logins_are_limited_per_ip,
    logins_are_limited_per_account,
);
