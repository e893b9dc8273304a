//! Access tokens through the real HTTP API: tampered tokens are refused, and a token whose session
//! ended or whose user was deactivated stops working within a second, on both backends.

use std::time::{Duration, Instant};

use auditpulse::auth::Role;
use auditpulse::identity::credentials::jwt::Claims;
use auditpulse::identity::UserPatch;
use auditpulse::store::Scope;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::helpers::{error_of, Backend, TestApp, MASTER_KEY, PASSWORD};

/// The signing key the service derives from the test master key (HKDF-SHA256, fixed info): the
/// derivation is part of the contract, since tokens must survive a restart.
fn service_key() -> Vec<u8> {
    let master = STANDARD
        .decode(MASTER_KEY.split_once(':').unwrap().1)
        .unwrap();
    let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(None, &master);
    let mut key = vec![0u8; 32];
    hkdf.expand(b"auditpulse access token v1", &mut key)
        .unwrap();
    key
}

fn payload(token: &str) -> Claims {
    let body = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap()
}

fn sign(claims: &Claims, key: &[u8], kid: &str, alg: Algorithm) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    auditpulse::identity::credentials::jwt_crypto::install();
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(key).unwrap()).unwrap()
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

async fn status(app: &TestApp, token: &str) -> u16 {
    app.get_as(token, "/api/v1/auth/sessions")
        .await
        .status()
        .as_u16()
}

async fn tampered_tokens_are_refused(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    let (_, token) = app.user_token(tenant, Role::Viewer).await;
    assert_eq!(status(&app, &token).await, 200);
    let claims = payload(&token);
    assert_eq!(claims.role, "viewer");
    let key = service_key();
    // The service's own key, with a re-signed copy of the claims: accepted (the forgeries below
    // fail for the reason each names, not for a wrong key).
    assert_eq!(
        status(&app, &sign(&claims, &key, "t1", Algorithm::HS256)).await,
        200
    );

    let mut forged = Vec::new();
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"t1"}"#);
    forged.push(("alg none", format!("{none}.{body}.")));
    forged.push(("HS512", sign(&claims, &key, "t1", Algorithm::HS512)));
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut admin = claims.clone();
    admin.role = "admin".into();
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&admin).unwrap());
    forged.push(("role raised in the payload", parts.join(".")));
    forged.push((
        "another key",
        sign(&claims, &[7; 32], "t1", Algorithm::HS256),
    ));
    forged.push(("unknown kid", sign(&claims, &key, "t2", Algorithm::HS256)));
    let mut expired = claims.clone();
    (expired.iat, expired.nbf, expired.exp) = (now() - 120, now() - 120, now() - 60);
    forged.push(("expired", sign(&expired, &key, "t1", Algorithm::HS256)));
    let mut early = claims.clone();
    early.nbf = now() + 60;
    forged.push(("not yet valid", sign(&early, &key, "t1", Algorithm::HS256)));
    let mut audience = claims.clone();
    audience.aud = "another-api".into();
    forged.push((
        "wrong audience",
        sign(&audience, &key, "t1", Algorithm::HS256),
    ));
    let mut issuer = claims.clone();
    issuer.iss = "someone-else".into();
    forged.push(("wrong issuer", sign(&issuer, &key, "t1", Algorithm::HS256)));
    let mut other_user = claims.clone();
    other_user.sub = auditpulse::domain::UserId::new().to_string();
    forged.push((
        "another user in this session",
        sign(&other_user, &key, "t1", Algorithm::HS256),
    ));
    let mut other_tenant = claims.clone();
    other_tenant.tid = Some(auditpulse::domain::TenantId::new().to_string());
    forged.push((
        "another tenant",
        sign(&other_tenant, &key, "t1", Algorithm::HS256),
    ));
    let mut other_session = claims.clone();
    other_session.sid = auditpulse::domain::SessionId::new().to_string();
    forged.push((
        "unknown session",
        sign(&other_session, &key, "t1", Algorithm::HS256),
    ));
    forged.push(("garbage", "not.a.token".to_owned()));
    for (what, token) in forged {
        let response = app.get_as(&token, "/api/v1/auth/sessions").await;
        assert_eq!(response.status(), 401, "{what}");
        assert_eq!(
            error_of(response).await["code"],
            "unauthenticated",
            "{what}"
        );
    }
}

/// A request started one second after `since` is refused, however loaded the machine is: no
/// session state is trusted for longer than that.
async fn refused_a_second_after(app: &TestApp, token: &str, since: Instant) {
    tokio::time::sleep_until((since + Duration::from_secs(1)).into()).await;
    assert_eq!(
        status(app, token).await,
        401,
        "still accepted a second later"
    );
}

async fn a_session_ended_elsewhere_is_refused_within_a_second(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    let (user, token) = app.user_token(tenant, Role::Viewer).await;
    assert_eq!(status(&app, &token).await, 200, "cached as alive now");
    // Ended behind this process's back (another instance, the CLI): only the cache's one-second
    // trust stands between the end and the refusal.
    let since = Instant::now();
    let ended = app
        .state
        .store
        .end_user_sessions(
            Scope::Tenant(tenant),
            user.id,
            None,
            "test",
            auditpulse::domain::time::now(),
        )
        .await
        .unwrap();
    assert_eq!(ended.len(), 1);
    refused_a_second_after(&app, &token, since).await;
}

async fn logout_all_in_another_request_refuses_the_old_token(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    let (user, first) = app.user_token(tenant, Role::Viewer).await;
    let second = app.login(&user.email, PASSWORD).await.access_token;
    assert_eq!(status(&app, &first).await, 200);
    let response = app.post_as(&second, "/api/v1/auth/logout-all").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["ended"], 2);
    assert_eq!(status(&app, &first).await, 401, "evicted at once");
    assert_eq!(status(&app, &second).await, 401);
}

async fn a_deactivated_user_is_refused_within_a_second(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    let (user, token) = app.user_token(tenant, Role::Admin).await;
    assert_eq!(status(&app, &token).await, 200);
    let patch = UserPatch {
        active: Some(false),
        ..Default::default()
    };
    let since = Instant::now();
    app.state
        .store
        .update_user(Scope::Tenant(tenant), user.id, &patch)
        .await
        .unwrap();
    refused_a_second_after(&app, &token, since).await;
}

async fn a_deleted_user_is_refused_and_a_demoted_one_loses_rights_within_a_second(
    backend: Backend,
) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    let (admin, admin_token) = app.user_token(tenant, Role::Admin).await;
    assert_eq!(
        app.get_as(&admin_token, "/api/v1/security/alerts")
            .await
            .status(),
        200
    );
    let patch = UserPatch {
        role: Some(Role::Viewer),
        ..Default::default()
    };
    app.state
        .store
        .update_user(Scope::Tenant(tenant), admin.id, &patch)
        .await
        .unwrap();
    auditpulse::identity::user_changed(&app.state.sessions, admin.id);
    assert_eq!(
        app.get_as(&admin_token, "/api/v1/security/alerts")
            .await
            .status(),
        403,
        "the stored role decides, whatever the token says"
    );
    let (viewer, token) = app.user_token(tenant, Role::Viewer).await;
    assert_eq!(status(&app, &token).await, 200);
    let since = Instant::now();
    app.state
        .store
        .delete_user(Scope::Tenant(tenant), viewer.id)
        .await
        .unwrap();
    refused_a_second_after(&app, &token, since).await;
}

crate::on_both_backends!(
    tampered_tokens_are_refused,
    a_session_ended_elsewhere_is_refused_within_a_second,
    logout_all_in_another_request_refuses_the_old_token,
    a_deactivated_user_is_refused_within_a_second,
    a_deleted_user_is_refused_and_a_demoted_one_loses_rights_within_a_second,
);
