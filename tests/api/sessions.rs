//! A user's own sessions: list, end one, log out, log out everywhere; on both backends.

use auditpulse::auth::Role;
use auditpulse::events::SecurityEventKind;

use crate::helpers::{error_of, set_cookie, Backend, TestApp, PASSWORD, VIEWER};

async fn sessions(app: &TestApp, token: &str) -> Vec<serde_json::Value> {
    let response = app.get_as(token, "/api/v1/auth/sessions").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

fn revoked_reasons(app: &TestApp) -> Vec<&'static str> {
    app.events
        .0
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e.kind {
            SecurityEventKind::TokenRevoked { reason, .. } => Some(reason),
            _ => None,
        })
        .collect()
}

async fn users_list_and_end_their_own_sessions_only(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    let (jane, laptop) = app.user_token(tenant, Role::Viewer).await;
    let phone = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("user-agent", "phone/2.0")
        .json(&serde_json::json!({"email": jane.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let phone: serde_json::Value = phone.json().await.unwrap();
    let phone = phone["access_token"].as_str().unwrap().to_owned();
    let (_, other_user) = app.user_token(tenant, Role::Admin).await;

    let listed = sessions(&app, &laptop).await;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["user_agent"], "phone/2.0", "newest first");
    assert_eq!(listed[0]["current"], false);
    assert_eq!(listed[1]["current"], true);
    for field in ["id", "created_at", "last_seen_at", "ip"] {
        assert!(listed[0][field].is_string(), "{field}: {}", listed[0]);
    }
    let phone_id = listed[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(sessions(&app, &other_user).await.len(), 1, "their own only");

    // Another user's session, an unknown id, a malformed id: all 404, and nothing ended.
    let path = format!("/api/v1/auth/sessions/{phone_id}");
    assert_eq!(app.delete_as(&other_user, &path).await.status(), 404);
    let unknown = auditpulse::domain::SessionId::new();
    for path in [
        format!("/api/v1/auth/sessions/{unknown}"),
        "/api/v1/auth/sessions/nope".to_owned(),
    ] {
        let response = app.delete_as(&laptop, &path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(error_of(response).await["code"], "not_found");
    }
    assert_eq!(
        app.get_as(&phone, "/api/v1/auth/sessions").await.status(),
        200
    );

    assert_eq!(app.delete_as(&laptop, &path).await.status(), 204);
    assert_eq!(
        app.get_as(&phone, "/api/v1/auth/sessions").await.status(),
        401,
        "ended at once"
    );
    assert_eq!(sessions(&app, &laptop).await.len(), 1);
    assert_eq!(
        app.delete_as(&laptop, &path).await.status(),
        404,
        "already ended"
    );
    assert_eq!(revoked_reasons(&app), vec!["session_revoked"]);
}

async fn logout_ends_this_session_and_clears_the_cookie(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    let (jane, _) = app.user_token(tenant, Role::Viewer).await;
    let here = app.login(&jane.email, PASSWORD).await;
    let elsewhere = app.login(&jane.email, PASSWORD).await;
    let response = app.post_as(&here.access_token, "/api/v1/auth/logout").await;
    assert_eq!(response.status(), 204);
    let cleared = response.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cleared.starts_with("auditpulse_refresh=; Max-Age=0;"),
        "{cleared}"
    );
    assert_eq!(set_cookie(&response).unwrap(), "auditpulse_refresh=");
    assert_eq!(
        app.get_as(&here.access_token, "/api/v1/auth/sessions")
            .await
            .status(),
        401
    );
    assert_eq!(app.refresh(&here.refresh_cookie).await.status(), 401);
    assert_eq!(
        sessions(&app, &elsewhere.access_token).await.len(),
        2,
        "the user_token one and this"
    );
    assert_eq!(revoked_reasons(&app), vec!["logout"]);

    let response = app
        .post_as(&elsewhere.access_token, "/api/v1/auth/logout-all")
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("auditpulse_refresh=; Max-Age=0;"));
    assert_eq!(
        app.get_as(&elsewhere.access_token, "/api/v1/auth/sessions")
            .await
            .status(),
        401
    );
    assert_eq!(app.refresh(&elsewhere.refresh_cookie).await.status(), 401);
    assert_eq!(revoked_reasons(&app), vec!["logout", "logout_all"]);
}

async fn principals_without_a_session_have_no_sessions_to_manage(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    assert_eq!(
        app.get_as(VIEWER, "/api/v1/auth/sessions").await.status(),
        403
    );
    assert_eq!(
        app.post_as(VIEWER, "/api/v1/auth/logout").await.status(),
        403
    );
    assert_eq!(app.get("/api/v1/auth/sessions").await.status(), 401);
}

async fn a_login_beyond_the_session_limit_ends_the_oldest_session(backend: Backend) {
    use auditpulse::identity::sessions::service::MAX_SESSIONS_PER_USER;
    let app = TestApp::spawn_with(backend, &[]).await;
    let tenant = app.create_tenant("acme").await;
    let (jane, first) = app.user_token(tenant, Role::Viewer).await;
    let mut latest = String::new();
    for _ in 0..MAX_SESSIONS_PER_USER {
        latest = app.login(&jane.email, PASSWORD).await.access_token;
    }
    let live = sessions(&app, &latest).await;
    assert_eq!(
        live.len(),
        MAX_SESSIONS_PER_USER,
        "the list stays at the limit"
    );
    assert_eq!(
        app.get_as(&first, "/api/v1/auth/sessions").await.status(),
        401,
        "the oldest session was ended"
    );
    assert_eq!(revoked_reasons(&app), vec!["session_limit"]);
}

crate::on_both_backends!(
    a_login_beyond_the_session_limit_ends_the_oldest_session,
    users_list_and_end_their_own_sessions_only,
    logout_ends_this_session_and_clears_the_cookie,
    principals_without_a_session_have_no_sessions_to_manage,
);
