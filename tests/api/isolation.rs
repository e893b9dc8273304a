//! Tenant isolation of account management: an administrator of tenant A reaches nothing of
//! tenant B through any tenant-owned endpoint, and B's things answer 404 exactly like missing
//! ones. On both backends.

use auditpulse::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::accounts::{json_of, post, send, tenant_with_admin, user};
use crate::helpers::{error_of, Backend, TestApp, PASSWORD};

async fn an_admin_of_one_tenant_reaches_nothing_of_another(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (_, a_admin_id, a_admin) = tenant_with_admin(&app, "acme").await;
    let (b_tenant, b_admin_id, b_admin) = tenant_with_admin(&app, "globex").await;
    let b_user = user(&app, b_tenant, "jo@globex.example", Role::Viewer).await;
    let b_token = app.login("jo@globex.example", PASSWORD).await.access_token;
    let b_sessions = json_of(
        app.get_as(&b_admin, &format!("/api/v1/users/{b_user}/sessions"))
            .await,
        200,
    )
    .await;
    let b_session = b_sessions["items"][0]["id"].as_str().unwrap().to_owned();
    let b_key = json_of(
        post(
            &app,
            &b_admin,
            "/api/v1/api-keys",
            json!({"name": "b", "scopes": ["read"]}),
        )
        .await,
        201,
    )
    .await;
    let b_key_id = b_key["id"].as_str().unwrap();

    // Listings show only A's own.
    let users = json_of(app.get_as(&a_admin, "/api/v1/users").await, 200).await;
    let ids: Vec<&str> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![a_admin_id.as_str()]);
    let keys = json_of(app.get_as(&a_admin, "/api/v1/api-keys").await, 200).await;
    assert_eq!(keys["items"], json!([]));
    // Nor the global system administrators, who belong to no tenant.
    let ops = app
        .create_user(None, "ops@example.com", PASSWORD, None, true)
        .await;
    let ops_path = format!("/api/v1/users/{}", ops.id);
    assert_eq!(app.get_as(&a_admin, &ops_path).await.status(), 404);

    // Every endpoint naming one of B's things answers as if it did not exist.
    let user_path = format!("/api/v1/users/{b_user}");
    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, user_path.clone(), None),
        (
            Method::PATCH,
            user_path.clone(),
            Some(json!({"role": "admin"})),
        ),
        (
            Method::PATCH,
            user_path.clone(),
            Some(json!({"active": false})),
        ),
        (Method::DELETE, user_path.clone(), None),
        (Method::POST, format!("{user_path}/unlock"), Some(json!({}))),
        (Method::GET, format!("{user_path}/sessions"), None),
        (
            Method::DELETE,
            format!("{user_path}/sessions/{b_session}"),
            None,
        ),
        (Method::GET, format!("/api/v1/users/{b_admin_id}"), None),
        (Method::DELETE, format!("/api/v1/api-keys/{b_key_id}"), None),
        (
            Method::PATCH,
            ops_path.clone(),
            Some(json!({"active": false})),
        ),
        (Method::DELETE, ops_path.clone(), None),
    ];
    let missing = json_of(
        app.get_as(
            &a_admin,
            "/api/v1/users/01900000-0000-7000-8000-000000000000",
        )
        .await,
        404,
    )
    .await;
    for (method, path, body) in attempts {
        let response = send(&app, method.clone(), &a_admin, &path, body).await;
        assert_eq!(response.status(), 404, "{method} {path}");
        let error = error_of(response).await;
        assert_eq!(error["code"], missing["error"]["code"]);
        assert_eq!(error["message"], missing["error"]["message"]);
    }
    // A's own session, ended under B's user: still 404, and A's session is untouched.
    let a_sessions = json_of(
        app.get_as(&a_admin, &format!("/api/v1/users/{a_admin_id}/sessions"))
            .await,
        200,
    )
    .await;
    let a_session = a_sessions["items"][0]["id"].as_str().unwrap();
    let crossed = format!("/api/v1/users/{b_user}/sessions/{a_session}");
    assert_eq!(
        send(&app, Method::DELETE, &b_admin, &crossed, None)
            .await
            .status(),
        404
    );
    assert_eq!(app.get_as(&a_admin, "/api/v1/me").await.status(), 200);

    // B is as it was: the user active with their role, their session and key alive.
    let b = json_of(app.get_as(&b_admin, &user_path).await, 200).await;
    assert_eq!(
        (b["role"].as_str(), b["active"].as_bool()),
        (Some("viewer"), Some(true))
    );
    assert_eq!(app.get_as(&b_token, "/api/v1/me").await.status(), 200);
    let b_keys = json_of(app.get_as(&b_admin, "/api/v1/api-keys").await, 200).await;
    assert_eq!(b_keys["items"].as_array().unwrap().len(), 1);
    let key = b_key["key"].as_str().unwrap();
    assert_eq!(
        app.get_as(key, "/api/v1/users").await.status(),
        403,
        "alive, but only `read`"
    );
}

async fn settings_and_new_users_stay_in_the_callers_tenant(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (a_tenant, _, a_admin) = tenant_with_admin(&app, "acme").await;
    let (b_tenant, _, b_admin) = tenant_with_admin(&app, "globex").await;
    // A tenant id in the body is not a way to reach another tenant: it is refused.
    let smuggled = json!({"email": "x@acme.example", "password": PASSWORD,
        "role": "viewer", "tenant_id": b_tenant.to_string()});
    let response = post(&app, &a_admin, "/api/v1/users", smuggled).await;
    assert_eq!(error_of(response).await["fields"][0]["field"], "tenant_id");
    let created = json_of(
        post(
            &app,
            &a_admin,
            "/api/v1/users",
            json!({"email": "x@acme.example", "password": PASSWORD, "role": "viewer"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(created["tenant_id"], a_tenant.to_string());
    let b_users = json_of(app.get_as(&b_admin, "/api/v1/users").await, 200).await;
    assert_eq!(b_users["items"].as_array().unwrap().len(), 1);
    let changed = send(
        &app,
        Method::PATCH,
        &a_admin,
        "/api/v1/settings",
        Some(json!({"require_totp": true})),
    )
    .await;
    assert_eq!(changed.status(), 200);
    assert!(app
        .state
        .store
        .tenant_requires_totp(a_tenant)
        .await
        .unwrap());
    assert!(!app
        .state
        .store
        .tenant_requires_totp(b_tenant)
        .await
        .unwrap());
    let b_settings = json_of(app.get_as(&b_admin, "/api/v1/settings").await, 200).await;
    assert_eq!(
        b_settings,
        json!({"require_totp": false, "time_zone": "UTC"})
    );
}

crate::on_both_backends!(
    an_admin_of_one_tenant_reaches_nothing_of_another,
    settings_and_new_users_stay_in_the_callers_tenant,
);
