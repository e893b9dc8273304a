//! Tenant administrators manage their tenant's users; `/me`; tenant settings. On both backends.

use std::time::Duration;

use auditpulse::auth::Role;
use serde_json::{json, Value};

use crate::accounts::{
    audited, delete, eventually, json_of, login_with, patch, post, tenant_with_admin, user,
};
use crate::helpers::{error_of, Backend, TestApp, PASSWORD};

async fn tenant_admins_create_list_change_and_delete_users(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, admin_id, admin) = tenant_with_admin(&app, "acme").await;
    let body = json!({"email": "Jo@Acme.example", "password": PASSWORD, "role": "viewer",
        "display_name": "Jo"});
    let created = json_of(post(&app, &admin, "/api/v1/users", body).await, 201).await;
    assert_eq!(created["email"], "Jo@Acme.example");
    assert_eq!(created["role"], "viewer");
    assert_eq!(created["tenant_id"], tenant.to_string());
    assert_eq!(created["system_admin"], false);
    assert_eq!(created["active"], true);
    assert!(created.get("password").is_none() && created.get("password_hash").is_none());
    let id = created["id"].as_str().unwrap().to_owned();
    // The new user can log in.
    assert_eq!(
        login_with(&app, "jo@acme.example", PASSWORD).await.status(),
        200
    );

    // Pages of one, in creation order.
    let page = json_of(app.get_as(&admin, "/api/v1/users?limit=1").await, 200).await;
    assert_eq!(page["items"][0]["id"], admin_id.as_str());
    let after = page["next_after"].as_str().unwrap();
    let page = json_of(
        app.get_as(&admin, &format!("/api/v1/users?limit=1&after={after}"))
            .await,
        200,
    )
    .await;
    assert_eq!(page["items"][0]["id"], id.as_str());
    assert!(page.get("next_after").is_none());

    let path = format!("/api/v1/users/{id}");
    let fetched = json_of(app.get_as(&admin, &path).await, 200).await;
    assert_eq!(fetched["email"], created["email"]);
    assert!(
        fetched["last_login_at"].is_string(),
        "the login was recorded"
    );
    let changed = json_of(
        patch(
            &app,
            &admin,
            &path,
            json!({"role": "auditor", "display_name": null}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(changed["role"], "auditor");
    assert!(changed["display_name"].is_null());

    assert_eq!(delete(&app, &admin, &path).await.status(), 204);
    assert_eq!(app.get_as(&admin, &path).await.status(), 404);
    assert_eq!(delete(&app, &admin, &path).await.status(), 404);
    assert_eq!(
        login_with(&app, "jo@acme.example", PASSWORD).await.status(),
        401
    );
    let actions = app.events.actions();
    for action in [
        "user.create",
        "user.update",
        "user.role_changed",
        "user.delete",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let created = audited(&app, &admin, "user.create").await;
    assert_eq!(created[0]["actor_id"], admin_id.as_str());
    assert_eq!(created[0]["target_id"], id.as_str());
    assert!(!created[0].to_string().contains(PASSWORD));
}

async fn new_users_are_checked_field_by_field(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (_, _, admin) = tenant_with_admin(&app, "acme").await;
    let weak = json!({"email": "jo@acme.example", "password": "qwerty123456", "role": "viewer"});
    let error = error_of(post(&app, &admin, "/api/v1/users", weak).await).await;
    assert_eq!(error["code"], "validation_failed");
    assert_eq!(error["fields"][0]["field"], "password");
    assert_eq!(
        error["fields"][0]["message"],
        "is one of the most common passwords; choose another"
    );
    let bad = json!({"email": "nope", "password": "short", "role": "system_admin"});
    let error = error_of(post(&app, &admin, "/api/v1/users", bad).await).await;
    let fields: Vec<&str> = error["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["email", "password", "role"]);
    // system_admin can never be set through the API.
    let sneaky = json!({"email": "jo@acme.example", "password": PASSWORD, "role": "admin",
        "system_admin": true});
    let response = post(&app, &admin, "/api/v1/users", sneaky).await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        error_of(response).await["fields"][0]["field"],
        "system_admin"
    );
    // E-mails are unique whatever their case, across tenants too.
    let response = post(
        &app,
        &admin,
        "/api/v1/users",
        json!({"email": "ADMIN@acme.example", "password": PASSWORD, "role": "viewer"}),
    )
    .await;
    assert_eq!(response.status(), 409);
    assert_eq!(
        error_of(response).await["message"],
        "a user with this e-mail already exists"
    );
}

async fn viewers_and_auditors_cannot_manage_accounts(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, _) = tenant_with_admin(&app, "acme").await;
    let viewer_id = user(&app, tenant, "viewer@acme.example", Role::Viewer).await;
    user(&app, tenant, "auditor@acme.example", Role::Auditor).await;
    let viewer = app
        .login("viewer@acme.example", PASSWORD)
        .await
        .access_token;
    let auditor = app
        .login("auditor@acme.example", PASSWORD)
        .await
        .access_token;
    let own = format!("/api/v1/users/{viewer_id}");
    assert_eq!(
        patch(&app, &viewer, &own, json!({"role": "admin"}))
            .await
            .status(),
        403,
        "a viewer raising themselves"
    );
    for token in [&viewer, &auditor] {
        let new_admin = json!({"email": "x@acme.example", "password": PASSWORD, "role": "admin"});
        assert_eq!(
            post(&app, token, "/api/v1/users", new_admin).await.status(),
            403
        );
        assert_eq!(app.get_as(token, "/api/v1/users").await.status(), 403);
        let key = json!({"name": "mine", "scopes": ["read"]});
        assert_eq!(
            post(&app, token, "/api/v1/api-keys", key).await.status(),
            403
        );
        assert_eq!(app.get_as(token, "/api/v1/api-keys").await.status(), 403);
        let settings = json!({"require_totp": false});
        assert_eq!(
            patch(&app, token, "/api/v1/settings", settings)
                .await
                .status(),
            403
        );
    }
    let still = json_of(app.get_as(&viewer, "/api/v1/me").await, 200).await;
    assert_eq!(still["role"], "viewer");
    assert!(app.events.actions().contains(&"permission.denied"));
}

async fn admins_cannot_change_their_own_access_or_delete_themselves(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (_, admin_id, admin) = tenant_with_admin(&app, "acme").await;
    let own = format!("/api/v1/users/{admin_id}");
    for change in [
        json!({"role": "viewer"}),
        json!({"active": false}),
        json!({"role": "admin"}),
    ] {
        let response = patch(&app, &admin, &own, change).await;
        assert_eq!(response.status(), 409);
        assert_eq!(
            error_of(response).await["message"],
            "you cannot change your own role or active flag; ask another administrator"
        );
    }
    let response = delete(&app, &admin, &own).await;
    assert_eq!(response.status(), 409);
    assert_eq!(
        error_of(response).await["message"],
        "you cannot delete your own account; ask another administrator"
    );
    let renamed = json_of(
        patch(&app, &admin, &own, json!({"display_name": "Boss"})).await,
        200,
    )
    .await;
    assert_eq!(renamed["display_name"], "Boss");
    assert_eq!(renamed["role"], "admin");
}

async fn only_system_administrators_change_a_system_administrators_account(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let root = app
        .create_user(
            Some(tenant),
            "root@acme.example",
            PASSWORD,
            Some(Role::Admin),
            true,
        )
        .await;
    let path = format!("/api/v1/users/{}", root.id);
    let shown = json_of(app.get_as(&admin, &path).await, 200).await;
    assert_eq!(shown["system_admin"], true);
    for change in [
        json!({"role": "viewer"}),
        json!({"active": false}),
        json!({"display_name": "x"}),
    ] {
        assert_eq!(patch(&app, &admin, &path, change).await.status(), 403);
    }
    assert_eq!(delete(&app, &admin, &path).await.status(), 403);
    let session = app.login("root@acme.example", PASSWORD).await;
    let sessions = json_of(app.get_as(&admin, &format!("{path}/sessions")).await, 200).await;
    let sid = sessions["items"][0]["id"].as_str().unwrap();
    let end = format!("{path}/sessions/{sid}");
    assert_eq!(delete(&app, &admin, &end).await.status(), 403);
    assert_eq!(
        app.get_as(&session.access_token, "/api/v1/me")
            .await
            .status(),
        200
    );
    // Another system administrator may.
    let both = json_of(
        patch(
            &app,
            &session.access_token,
            &format!("/api/v1/users/{}", shown["id"].as_str().unwrap()),
            json!({"display_name": "Root"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(both["display_name"], "Root", "their own name, at least");
}

async fn deactivating_a_user_ends_their_sessions_and_refuses_their_login(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let id = user(&app, tenant, "jo@acme.example", Role::Auditor).await;
    let jo = app.login("jo@acme.example", PASSWORD).await.access_token;
    assert_eq!(app.get_as(&jo, "/api/v1/me").await.status(), 200);
    let path = format!("/api/v1/users/{id}");
    let off = json_of(
        patch(&app, &admin, &path, json!({"active": false})).await,
        200,
    )
    .await;
    assert_eq!(off["active"], false);
    let refused = eventually(Duration::from_millis(1100), || async {
        app.get_as(&jo, "/api/v1/me").await.status() == 401
    })
    .await;
    assert!(refused, "the old access token still works after 1.1 s");
    let sessions = json_of(app.get_as(&admin, &format!("{path}/sessions")).await, 200).await;
    assert_eq!(sessions["items"], json!([]));
    assert_eq!(
        login_with(&app, "jo@acme.example", PASSWORD).await.status(),
        401
    );
    let revoked = app.events.0.lock().unwrap().iter().any(|e| {
        matches!(&e.kind, auditpulse::events::SecurityEventKind::TokenRevoked { user, reason, .. }
            if *user == id && *reason == "user_deactivated")
    });
    assert!(revoked);
    // Active again: they can log in again.
    patch(&app, &admin, &path, json!({"active": true})).await;
    assert_eq!(
        login_with(&app, "jo@acme.example", PASSWORD).await.status(),
        200
    );
}

async fn raising_a_user_to_admin_raises_a_privilege_escalation_alert(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, admin_id, admin) = tenant_with_admin(&app, "acme").await;
    let id = user(&app, tenant, "jo@acme.example", Role::Viewer).await;
    let path = format!("/api/v1/users/{id}");
    json_of(
        patch(&app, &admin, &path, json!({"role": "admin"})).await,
        200,
    )
    .await;
    let mut alert = Value::Null;
    let raised = eventually(Duration::from_secs(5), || {
        let app = &app;
        let admin = &admin;
        async move {
            let body = json_of(app.get_as(admin, "/api/v1/security/alerts").await, 200).await;
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["kind"] == "privilege_escalation")
        }
    })
    .await;
    assert!(raised, "no privilege_escalation alert");
    let body = json_of(app.get_as(&admin, "/api/v1/security/alerts").await, 200).await;
    for a in body["items"].as_array().unwrap() {
        if a["kind"] == "privilege_escalation" {
            alert = a.clone();
        }
    }
    assert_eq!(alert["tenant_id"], tenant.to_string());
    assert_eq!(alert["evidence"]["from"], "viewer");
    assert_eq!(alert["evidence"]["to"], "admin");
    assert_eq!(alert["evidence"]["changed_by"], admin_id.as_str());
    let changes = audited(&app, &admin, "user.role_changed").await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["target_id"], id.as_str());
    assert_eq!(changes[0]["actor_id"], admin_id.as_str());
    assert_eq!(
        changes[0]["details"],
        json!({"from": "viewer", "to": "admin"})
    );
    // The new role applies to the user's next request.
    let jo = app.login("jo@acme.example", PASSWORD).await.access_token;
    assert_eq!(app.get_as(&jo, "/api/v1/users").await.status(), 200);

    // Creating an administrator is a grant too; creating a viewer is not.
    for (email, role) in [("v@acme.example", "viewer"), ("a@acme.example", "admin")] {
        let body = json!({"email": email, "password": PASSWORD, "role": role});
        json_of(post(&app, &admin, "/api/v1/users", body).await, 201).await;
    }
    let escalations = |body: Value| -> Vec<Value> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] == "privilege_escalation")
            .cloned()
            .collect()
    };
    let two = eventually(Duration::from_secs(5), || async {
        let body = json_of(app.get_as(&admin, "/api/v1/security/alerts").await, 200).await;
        escalations(body).len() == 2
    })
    .await;
    assert!(two, "one alert for the new admin");
    let body = json_of(app.get_as(&admin, "/api/v1/security/alerts").await, 200).await;
    let newest = &escalations(body)[0];
    assert!(newest["evidence"]["from"].is_null(), "{newest}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let body = json_of(app.get_as(&admin, "/api/v1/security/alerts").await, 200).await;
    assert_eq!(escalations(body).len(), 2, "none for the viewer");
}

async fn unlocking_a_user_clears_their_lockout(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let id = user(&app, tenant, "jo@acme.example", Role::Viewer).await;
    for _ in 0..5 {
        let wrong = login_with(&app, "jo@acme.example", "not the password at all").await;
        assert_eq!(wrong.status(), 401);
    }
    let locked = login_with(&app, "jo@acme.example", PASSWORD).await;
    assert_eq!(locked.status(), 429);
    assert_eq!(error_of(locked).await["code"], "account_locked");
    let unlock = format!("/api/v1/users/{id}/unlock");
    assert_eq!(post(&app, &admin, &unlock, json!({})).await.status(), 204);
    assert_eq!(
        login_with(&app, "jo@acme.example", PASSWORD).await.status(),
        200
    );
    let unlocks = audited(&app, &admin, "user.unlock").await;
    assert_eq!(unlocks[0]["target_id"], id.as_str());
    assert_eq!(unlocks[0]["details"], json!({"throttle_cleared": true}));
}

async fn admins_list_and_end_their_users_sessions(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let id = user(&app, tenant, "jo@acme.example", Role::Viewer).await;
    let first = app.login("jo@acme.example", PASSWORD).await.access_token;
    let second = app.login("jo@acme.example", PASSWORD).await.access_token;
    let path = format!("/api/v1/users/{id}/sessions");
    let sessions = json_of(app.get_as(&admin, &path).await, 200).await;
    let items = sessions["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|s| s.get("refresh_token").is_none()));
    // Newest first: the second login's session.
    let newest = items[0]["id"].as_str().unwrap();
    assert_eq!(
        delete(&app, &admin, &format!("{path}/{newest}"))
            .await
            .status(),
        204
    );
    let refused = eventually(Duration::from_millis(1100), || async {
        app.get_as(&second, "/api/v1/me").await.status() == 401
    })
    .await;
    assert!(refused, "the ended session still works");
    assert_eq!(app.get_as(&first, "/api/v1/me").await.status(), 200);
    assert_eq!(
        delete(&app, &admin, &format!("{path}/{newest}"))
            .await
            .status(),
        404
    );
    let unknown = format!("{path}/01900000-0000-7000-8000-000000000000");
    assert_eq!(delete(&app, &admin, &unknown).await.status(), 404);
    assert_eq!(
        delete(&app, &admin, &format!("{path}/nope")).await.status(),
        404
    );
}

crate::on_both_backends!(
    tenant_admins_create_list_change_and_delete_users,
    new_users_are_checked_field_by_field,
    viewers_and_auditors_cannot_manage_accounts,
    admins_cannot_change_their_own_access_or_delete_themselves,
    only_system_administrators_change_a_system_administrators_account,
    deactivating_a_user_ends_their_sessions_and_refuses_their_login,
    raising_a_user_to_admin_raises_a_privilege_escalation_alert,
    unlocking_a_user_clears_their_lockout,
    admins_list_and_end_their_users_sessions,
);
