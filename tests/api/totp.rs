//! Two-factor authentication: enrolment, login with codes and recovery codes, replay refusal,
//! turning it off, and tenants that require it; on both backends.

use auditpulse::auth::Role;
use auditpulse::store::Scope;
use serde_json::{json, Value};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::helpers::{error_of, Backend, TestApp, PASSWORD};

/// The authenticator app: codes of `secret` (base32) for a 30-second step.
fn code(secret: &str, step: u64) -> String {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, bytes, None, String::new()).generate(step * 30)
}

fn current_step() -> u64 {
    jsonwebtoken::get_current_timestamp() / 30
}

async fn setup(app: &TestApp, token: &str) -> Value {
    let response = app.post_as(token, "/api/v1/auth/totp/setup").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn enable(app: &TestApp, token: &str, code: &str) -> reqwest::Response {
    app.post_json_as(token, "/api/v1/auth/totp/enable", &json!({ "code": code }))
        .await
}

async fn login(app: &TestApp, email: &str, code: Option<&str>) -> reqwest::Response {
    let mut body = json!({"email": email, "password": PASSWORD});
    if let Some(code) = code {
        body["totp_code"] = json!(code);
    }
    app.login_with(&body).await
}

async fn code_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, error_of(response).await["code"].clone())
}

async fn two_factor_login_from_enrolment_to_disabling(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    let (jane, token) = app.user_token(tenant, Role::Viewer).await;
    let first = setup(&app, &token).await;
    let uri = first["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/AuditPulse:"), "{uri}");
    assert!(uri.contains(first["secret"].as_str().unwrap()));
    // Setting up again replaces the pending secret.
    let setup = setup(&app, &token).await;
    let secret = setup["secret"].as_str().unwrap().to_owned();
    assert_ne!(first["secret"], setup["secret"]);
    // Sealed at rest: the stored bytes are not the secret.
    let stored = app
        .state
        .store
        .totp_secret(Scope::Tenant(tenant), jane.id)
        .await
        .unwrap()
        .unwrap();
    let raw = Secret::Encoded(secret.clone()).to_bytes().unwrap();
    assert!(!stored
        .ciphertext
        .windows(raw.len())
        .any(|w| w == raw.as_slice()));

    let s0 = current_step();
    let stale = code(first["secret"].as_str().unwrap(), s0);
    let response = enable(&app, &token, &stale).await;
    assert_eq!(response.status(), 422, "the replaced secret's code");
    let response = enable(&app, &token, &code(&secret, s0)).await;
    assert_eq!(response.status(), 200);
    let enabled: Value = response.json().await.unwrap();
    assert_eq!(enabled["enabled"], true);
    let recovery: Vec<String> = enabled["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    assert_eq!(
        app.post_as(&token, "/api/v1/auth/totp/setup")
            .await
            .status(),
        409
    );
    assert_eq!(enable(&app, &token, &code(&secret, s0)).await.status(), 409);

    let email = jane.email.as_str();
    assert_eq!(
        code_of(login(&app, email, None).await).await,
        (401, json!("mfa_required"))
    );
    let next = code(&secret, s0 + 1);
    let mut wrong = next.clone().into_bytes();
    wrong[5] = b'0' + (wrong[5] - b'0' + 1) % 10;
    let wrong = String::from_utf8(wrong).unwrap();
    assert_eq!(
        code_of(login(&app, email, Some(&wrong)).await).await,
        (401, json!("invalid_credentials"))
    );
    assert_eq!(
        code_of(login(&app, email, Some(&code(&secret, s0))).await).await,
        (401, json!("invalid_credentials")),
        "the step used at enrolment is spent"
    );
    assert_eq!(login(&app, email, Some(&next)).await.status(), 200);
    assert_eq!(
        code_of(login(&app, email, Some(&next)).await).await,
        (401, json!("invalid_credentials")),
        "a replayed code"
    );
    // Recovery codes stand in for a code, once each, however they are typed.
    assert_eq!(login(&app, email, Some(&recovery[0])).await.status(), 200);
    assert_eq!(login(&app, email, Some(&recovery[0])).await.status(), 401);
    let typed = recovery[1].to_uppercase().replace('-', " ");
    assert_eq!(login(&app, email, Some(&typed)).await.status(), 200);

    // Off: the password and a code are both needed.
    let disable = async |password: &str, code: &str| {
        app.post_json_as(
            &token,
            "/api/v1/auth/totp/disable",
            &json!({"password": password, "code": code}),
        )
        .await
    };
    let response = disable("not my password!", &recovery[2]).await;
    assert_eq!(code_of(response).await, (401, json!("invalid_credentials")));
    let response = disable(PASSWORD, &recovery[0]).await;
    assert_eq!(
        code_of(response).await,
        (401, json!("invalid_credentials")),
        "used code"
    );
    assert_eq!(disable(PASSWORD, &recovery[2]).await.status(), 204);
    assert_eq!(login(&app, email, None).await.status(), 200);
    assert_eq!(
        disable(PASSWORD, &recovery[3]).await.status(),
        409,
        "already off"
    );
    let actions = app.events.actions();
    assert!(actions.contains(&"user.totp_enable") && actions.contains(&"user.totp_disable"));
}

/// Sessions opened with the password alone end when TOTP goes on; the enrolling one stays.
async fn enabling_two_factor_ends_every_other_session(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    let (jane, other) = app.user_token(tenant, Role::Viewer).await;
    let elsewhere = app.login(&jane.email, PASSWORD).await;
    let here = app.login(&jane.email, PASSWORD).await;
    let secret = setup(&app, &here.access_token).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = enable(&app, &here.access_token, &code(&secret, current_step())).await;
    assert_eq!(response.status(), 200);
    for token in [&other, &elsewhere.access_token] {
        assert_eq!(
            app.get_as(token, "/api/v1/auth/sessions").await.status(),
            401
        );
    }
    assert_eq!(app.refresh(&elsewhere.refresh_cookie).await.status(), 401);
    assert_eq!(
        app.get_as(&here.access_token, "/api/v1/auth/sessions")
            .await
            .status(),
        200,
        "this session stays"
    );
    assert_eq!(app.refresh(&here.refresh_cookie).await.status(), 200);
    let actions = app.events.actions();
    assert!(actions.contains(&"auth.token_revoked"), "{actions:?}");
}

async fn a_tenant_that_requires_two_factor_lets_users_only_enrol(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    app.state
        .store
        .set_tenant_requires_totp(tenant, true)
        .await
        .unwrap();
    let (_, token) = app.user_token(tenant, Role::Admin).await;
    for path in ["/api/v1/auth/sessions", "/api/v1/security/alerts"] {
        let response = app.get_as(&token, path).await;
        assert_eq!(response.status(), 403, "{path}");
        assert_eq!(error_of(response).await["code"], "mfa_enrollment_required");
    }
    let secret = setup(&app, &token).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = enable(&app, &token, &code(&secret, current_step())).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        app.get_as(&token, "/api/v1/auth/sessions").await.status(),
        200,
        "enrolled: everything answers at once"
    );

    // Leaving is always possible.
    let (_, other) = app.user_token(tenant, Role::Viewer).await;
    assert_eq!(
        app.post_as(&other, "/api/v1/auth/logout").await.status(),
        204
    );
    // A global administrator belongs to no tenant and is not held back.
    app.create_user(None, "root@example.com", PASSWORD, None, true)
        .await;
    let root = app.login("root@example.com", PASSWORD).await;
    assert_eq!(
        app.get_as(&root.access_token, "/api/v1/tenants")
            .await
            .status(),
        200
    );
}

async fn global_administrators_enrol_with_the_system_tenants_key(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    app.create_user(None, "root@example.com", PASSWORD, None, true)
        .await;
    let token = app.login("root@example.com", PASSWORD).await.access_token;
    let secret = setup(&app, &token).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let s0 = current_step();
    assert_eq!(enable(&app, &token, &code(&secret, s0)).await.status(), 200);
    let response = login(&app, "root@example.com", Some(&code(&secret, s0 + 1))).await;
    assert_eq!(response.status(), 200);
}

crate::on_both_backends!(
    enabling_two_factor_ends_every_other_session,
    two_factor_login_from_enrolment_to_disabling,
    a_tenant_that_requires_two_factor_lets_users_only_enrol,
    global_administrators_enrol_with_the_system_tenants_key,
);
