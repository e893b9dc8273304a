//! Tenants over the API, on both backends.

use serde_json::json;

use auditpulse::auth::Role;

use crate::helpers::{error_of, Backend, TestApp, PASSWORD, SYSADMIN, VIEWER};

async fn system_admins_create_list_and_read_tenants(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let response = app
        .post_json_as(
            SYSADMIN,
            "/api/v1/tenants",
            &json!({"name": "Acme Corp. (EU)"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created: serde_json::Value = response.json().await.unwrap();
    assert_eq!(created["slug"], "acme-corp-eu");
    assert_eq!(created["name"], "Acme Corp. (EU)");
    let id = created["id"].as_str().unwrap();

    let fetched: serde_json::Value = app
        .get_as(SYSADMIN, &format!("/api/v1/tenants/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, created);
    for missing in ["00000000-0000-7000-8000-000000000000", "not-an-id"] {
        let response = app
            .get_as(SYSADMIN, &format!("/api/v1/tenants/{missing}"))
            .await;
        assert_eq!(response.status(), 404);
    }
}

async fn slugs_are_unique_and_a_duplicate_is_409(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let body = json!({"name": "Acme", "slug": "acme"});
    assert_eq!(
        app.post_json_as(SYSADMIN, "/api/v1/tenants", &body)
            .await
            .status(),
        201
    );
    let response = app
        .post_json_as(
            SYSADMIN,
            "/api/v1/tenants",
            &json!({"name": "Other", "slug": "acme"}),
        )
        .await;
    assert_eq!(response.status(), 409);
    let error = error_of(response).await;
    assert_eq!(error["code"], "conflict");
    assert_eq!(error["message"], "a tenant with this slug already exists");
}

async fn tenants_are_listed_in_pages(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    for i in 0..5 {
        let response = app
            .post_json_as(
                SYSADMIN,
                "/api/v1/tenants",
                &json!({"name": format!("Tenant {i}")}),
            )
            .await;
        assert_eq!(response.status(), 201);
    }
    let first: serde_json::Value = app
        .get_as(SYSADMIN, "/api/v1/tenants?limit=3")
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Tenant 0", "Tenant 1", "Tenant 2"]);
    let after = first["next_after"].as_str().unwrap();
    let second: serde_json::Value = app
        .get_as(SYSADMIN, &format!("/api/v1/tenants?limit=3&after={after}"))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = second["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Tenant 3", "Tenant 4"]);
    assert!(second.get("next_after").is_none());
    for bad in ["limit=0", "limit=201", "limit=x", "after=nope", "unknown=1"] {
        assert_eq!(
            app.get_as(SYSADMIN, &format!("/api/v1/tenants?{bad}"))
                .await
                .status(),
            400,
            "{bad}"
        );
    }
}

/// Deleting a tenant never deletes a system administrator: not the caller's own tenant, not one
/// holding another (active) system administrator; first-run setup stays closed.
async fn no_tenant_deletion_takes_a_system_administrator_with_it(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let acme = app.create_tenant("acme").await;
    let admin = app
        .create_user(
            Some(acme),
            "root@acme.example",
            PASSWORD,
            Some(Role::Admin),
            true,
        )
        .await;
    let own = app.login(&admin.email, PASSWORD).await.access_token;
    let path = format!("/api/v1/tenants/{acme}");
    let response = app.delete_as(&own, &path).await;
    assert_eq!(response.status(), 409, "the caller's own tenant");
    let message = error_of(response).await["message"].clone();
    assert!(
        message.as_str().unwrap().contains("own tenant"),
        "{message}"
    );
    let response = app.delete_as(SYSADMIN, &path).await;
    assert_eq!(response.status(), 409, "it holds a system administrator");
    let message = error_of(response).await["message"].clone();
    assert!(
        message.as_str().unwrap().contains("system administrator"),
        "{message}"
    );
    assert_eq!(app.get_as(&own, "/api/v1/tenants").await.status(), 200);
    app.login(&admin.email, PASSWORD).await;
    assert_eq!(app.get("/setup").await.status(), 404, "setup stays closed");

    // A tenant with ordinary users only goes, users and all.
    let other = app.create_tenant("other").await;
    app.user_token(other, Role::Admin).await;
    let response = app
        .delete_as(&own, &format!("/api/v1/tenants/{other}"))
        .await;
    assert_eq!(response.status(), 204);
}

crate::on_both_backends!(
    no_tenant_deletion_takes_a_system_administrator_with_it,
    system_admins_create_list_and_read_tenants,
    slugs_are_unique_and_a_duplicate_is_409,
    tenants_are_listed_in_pages
);

#[tokio::test]
async fn tenant_users_cannot_manage_tenants() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json_as(VIEWER, "/api/v1/tenants", &json!({"name": "Mine"}))
        .await;
    assert_eq!(response.status(), 403);
    assert_eq!(error_of(response).await["code"], "forbidden");
    assert_eq!(app.get_as(VIEWER, "/api/v1/tenants").await.status(), 403);
}

#[tokio::test]
async fn the_system_slug_is_reported_as_reserved() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json_as(
            SYSADMIN,
            "/api/v1/tenants",
            &json!({"name": "Mine", "slug": "system"}),
        )
        .await;
    assert_eq!(response.status(), 422);
    let error = error_of(response).await;
    assert_eq!(error["fields"][0]["field"], "slug");
    let message = error["fields"][0]["message"].as_str().unwrap();
    assert!(message.contains("reserved"), "{message}");
}

/// Deleting a tenant deletes its users; their sessions stop at once, not a cache lifetime later
/// (in between, a request would act for a user that no longer exists).
#[tokio::test]
async fn a_deleted_tenant_s_sessions_end_at_once() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("doomed").await;
    let (_, token) = app.user_token(tenant, auditpulse::auth::Role::Admin).await;
    assert_eq!(app.get_as(&token, "/api/v1/api-keys").await.status(), 200);
    let deleted = app
        .delete_as(SYSADMIN, &format!("/api/v1/tenants/{tenant}"))
        .await;
    assert_eq!(deleted.status(), 204);
    let response = app
        .post_json_as(
            &token,
            "/api/v1/api-keys",
            &json!({"name": "after", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(error_of(response).await["code"], "unauthenticated");
}
