//! API keys: created by tenant administrators, shown once, listed without secrets, revoked at
//! once, and authenticating with their scopes only. On both backends.

use std::time::Duration;

use auditpulse::auth::{ApiScope, PrincipalKind, Role};
use auditpulse::domain::{time, ApiKeyId, TenantId};
use auditpulse::identity::api_keys::authenticate;
use auditpulse::identity::credentials::api_key_format::ApiKeyToken;
use auditpulse::identity::NewApiKey;
use serde_json::{json, Value};

use crate::accounts::{audited, audited_at_least, delete, json_of, post, tenant_with_admin, user};
use crate::helpers::{error_of, Backend, TestApp, PASSWORD};

async fn create_key(app: &TestApp, admin: &str, scopes: &[&str]) -> Value {
    let body = json!({"name": "ci", "scopes": scopes});
    json_of(post(app, admin, "/api/v1/api-keys", body).await, 201).await
}

/// A key stored directly, for states the API does not make (already expired).
async fn stored_key(app: &TestApp, tenant: TenantId, expires_in: chrono::Duration) -> String {
    let token = ApiKeyToken::generate();
    let now = time::now();
    let key = NewApiKey {
        id: ApiKeyId::new(),
        tenant_id: tenant,
        public_id: token.public_id.clone(),
        secret_hash: token.secret_hash(),
        name: "old".into(),
        scopes: vec![ApiScope::AuditRead],
        created_by: None,
        created_at: now - chrono::Duration::days(30),
        expires_at: Some(now + expires_in),
    };
    app.state.store.insert_api_key(&key).await.unwrap();
    token.presented().expose().clone()
}

async fn admins_create_list_and_revoke_keys(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (_, admin_id, admin) = tenant_with_admin(&app, "acme").await;
    let body = json!({"name": " nightly export ", "scopes": ["audit:read", "read"],
        "expires_at": "2999-01-01T00:00:00Z"});
    let created = json_of(post(&app, &admin, "/api/v1/api-keys", body).await, 201).await;
    let key = created["key"].as_str().unwrap().to_owned();
    let public_id = created["public_id"].as_str().unwrap().to_owned();
    assert!(key.starts_with(&format!("ap_{public_id}_")), "{key}");
    assert_eq!(created["name"], "nightly export");
    assert_eq!(created["scopes"], json!(["audit:read", "read"]));
    assert_eq!(created["expires_at"], "2999-01-01T00:00:00Z");
    let secret = key.rsplit('_').next().unwrap().to_owned();

    let listed = json_of(app.get_as(&admin, "/api/v1/api-keys").await, 200).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["public_id"], public_id.as_str());
    assert!(items[0].get("key").is_none() && items[0]["last_used_at"].is_null());
    assert!(
        !listed.to_string().contains(&secret),
        "a listing shows no secret"
    );

    let path = format!("/api/v1/api-keys/{}", created["id"].as_str().unwrap());
    assert_eq!(delete(&app, &admin, &path).await.status(), 204);
    assert_eq!(app.get_as(&key, "/api/v1/audit-events").await.status(), 401);
    assert_eq!(delete(&app, &admin, &path).await.status(), 404);
    assert_eq!(
        delete(&app, &admin, "/api/v1/api-keys/nope").await.status(),
        404
    );
    let listed = json_of(app.get_as(&admin, "/api/v1/api-keys").await, 200).await;
    assert_eq!(listed["items"], json!([]));

    let creations = audited(&app, &admin, "api_key.create").await;
    assert_eq!(creations[0]["actor_id"], admin_id.as_str());
    assert_eq!(creations[0]["details"]["public_id"], public_id.as_str());
    assert!(
        !creations[0].to_string().contains(&secret),
        "no secret in the audit trail"
    );
    assert_eq!(audited(&app, &admin, "api_key.revoke").await.len(), 1);
    let logged = format!("{:?}", app.events.0.lock().unwrap());
    assert!(!logged.contains(&secret), "no secret in any security event");
}

async fn new_keys_are_checked_field_by_field(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (_, _, admin) = tenant_with_admin(&app, "acme").await;
    let bad = json!({"name": "", "scopes": ["read", "users:write"], "expires_at": "2001-01-01T00:00:00Z"});
    let error = error_of(post(&app, &admin, "/api/v1/api-keys", bad).await).await;
    let fields: Vec<&str> = error["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["name", "scopes[1]", "expires_at"]);
    assert_eq!(error["fields"][2]["message"], "must be in the future");
    let none = json!({"name": "ci", "scopes": []});
    let error = error_of(post(&app, &admin, "/api/v1/api-keys", none).await).await;
    assert_eq!(error["fields"][0]["field"], "scopes");
}

async fn keys_hold_their_scopes_and_nothing_more(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let (_, _, other_admin) = tenant_with_admin(&app, "globex").await;
    // Something of each tenant in the audit trail.
    create_key(&app, &other_admin, &["read"]).await;
    let read = create_key(&app, &admin, &["read"]).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let audit = create_key(&app, &admin, &["audit:read"]).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in ["/api/v1/users", "/api/v1/audit-events", "/api/v1/api-keys"] {
        assert_eq!(app.get_as(&read, path).await.status(), 403, "{path}");
    }
    let key = json!({"name": "more", "scopes": ["read"]});
    assert_eq!(
        post(&app, &read, "/api/v1/api-keys", key).await.status(),
        403
    );
    assert_eq!(
        app.get_as(&read, "/api/v1/me").await.status(),
        403,
        "a key is not a user"
    );
    let events = audited_at_least(&app, &audit, "api_key.create", 2).await;
    assert_eq!(events.len(), 2, "only its own tenant's: {events:?}");
    assert!(events.iter().all(|e| e["tenant_id"] == tenant.to_string()));
    assert_eq!(app.get_as(&audit, "/api/v1/users").await.status(), 403);
    // Use is recorded.
    let listed = json_of(app.get_as(&admin, "/api/v1/api-keys").await, 200).await;
    let used = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["last_used_at"].is_string());
    assert_eq!(used.count(), 2);
}

async fn tampered_expired_and_malformed_keys_are_refused(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let key = create_key(&app, &admin, &["audit:read"]).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.get_as(&key, "/api/v1/audit-events").await.status(), 200);
    let last = key.chars().last().unwrap();
    let tampered = format!(
        "{}{}",
        &key[..key.len() - 1],
        if last == 'a' { 'b' } else { 'a' }
    );
    let truncated = key[..key.len() - 1].to_owned();
    let unknown = ApiKeyToken::generate().presented().expose().clone();
    for bad in [&tampered, &truncated, &unknown] {
        assert_eq!(
            app.get_as(bad, "/api/v1/audit-events").await.status(),
            401,
            "{bad}"
        );
    }
    let expired = stored_key(&app, tenant, chrono::Duration::seconds(-1)).await;
    assert_eq!(
        app.get_as(&expired, "/api/v1/audit-events").await.status(),
        401
    );
    // Works until it expires, then not.
    let made = std::time::Instant::now();
    let expiring = stored_key(&app, tenant, chrono::Duration::seconds(2)).await;
    let before = app.get_as(&expiring, "/api/v1/audit-events").await.status();
    if made.elapsed() < Duration::from_millis(1500) {
        assert_eq!(before, 200);
    }
    tokio::time::sleep(Duration::from_millis(2100).saturating_sub(made.elapsed())).await;
    assert_eq!(
        app.get_as(&expiring, "/api/v1/audit-events").await.status(),
        401
    );
}

async fn authenticate_gives_a_key_principal_and_records_use_once_a_minute(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let created = create_key(&app, &admin, &["read", "ingest:write"]).await;
    let key = created["key"].as_str().unwrap();
    let store = app.state.store.as_ref();
    let principal = authenticate(store, key).await.unwrap().unwrap();
    assert_eq!(principal.kind, PrincipalKind::ApiKey);
    assert_eq!(
        principal.id,
        format!("key:{}", created["public_id"].as_str().unwrap())
    );
    assert_eq!(principal.tenant, Some(tenant));
    assert_eq!(
        principal.scopes,
        vec![ApiScope::Read, ApiScope::IngestWrite]
    );
    assert!(principal.role.is_none() && !principal.system_admin && principal.session.is_none());
    let first = store.list_api_keys(tenant).await.unwrap()[0].last_used_at;
    assert!(first.is_some());
    authenticate(store, key).await.unwrap().unwrap();
    let second = store.list_api_keys(tenant).await.unwrap()[0].last_used_at;
    assert_eq!(first, second, "not written again within the minute");
    assert!(authenticate(store, "ap_nope").await.unwrap().is_none());
    assert!(authenticate(store, "Bearer something")
        .await
        .unwrap()
        .is_none());
}

async fn only_admins_create_keys_and_never_beyond_their_own_permissions(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    user(&app, tenant, "auditor@acme.example", Role::Auditor).await;
    let auditor = app
        .login("auditor@acme.example", PASSWORD)
        .await
        .access_token;
    // An auditor holds audit:read but may not create keys at all.
    let key = json!({"name": "mine", "scopes": ["audit:read"]});
    assert_eq!(
        post(&app, &auditor, "/api/v1/api-keys", key).await.status(),
        403
    );
    // An admin holds every permission a scope grants, so every scope is theirs to give; the rule
    // that a key never exceeds its creator is unit-tested in identity::api_keys::model.
    let all = ["read", "ingest:write", "gateway:use", "audit:read"];
    let created = create_key(&app, &admin, &all).await;
    assert_eq!(created["scopes"], json!(all));
}

crate::on_both_backends!(
    admins_create_list_and_revoke_keys,
    new_keys_are_checked_field_by_field,
    keys_hold_their_scopes_and_nothing_more,
    tampered_expired_and_malformed_keys_are_refused,
    authenticate_gives_a_key_principal_and_records_use_once_a_minute,
    only_admins_create_keys_and_never_beyond_their_own_permissions,
);
