//! `GET /api/v1/me` and the tenant settings (`/api/v1/settings`). On both backends.

use std::time::Duration;

use auditpulse::auth::Role;
use serde_json::json;

use crate::accounts::{audited, eventually, json_of, patch, tenant_with_admin, user};
use crate::helpers::{error_of, Backend, TestApp, ADMIN, PASSWORD, SYSADMIN};

async fn me_describes_the_logged_in_user(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, admin_id, admin) = tenant_with_admin(&app, "acme").await;
    let me = json_of(app.get_as(&admin, "/api/v1/me").await, 200).await;
    assert_eq!(
        me,
        json!({"id": admin_id, "email": "admin@acme.example", "display_name": null,
            "tenant_id": tenant.to_string(), "role": "admin", "system_admin": false,
            "totp_enabled": false})
    );
    // A fixed test token has no stored account behind it.
    assert_eq!(app.get_as(ADMIN, "/api/v1/me").await.status(), 404);
    assert_eq!(app.get("/api/v1/me").await.status(), 401);
}

async fn tenant_settings_round_trip(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    user(&app, tenant, "jo@acme.example", Role::Viewer).await;
    let jo = app.login("jo@acme.example", PASSWORD).await.access_token;
    let settings = json_of(app.get_as(&jo, "/api/v1/settings").await, 200).await;
    assert_eq!(settings, json!({"require_totp": false, "time_zone": "UTC"}));
    let response = patch(
        &app,
        &admin,
        "/api/v1/settings",
        json!({"require_totp": "yes"}),
    )
    .await;
    assert_eq!(
        error_of(response).await["fields"][0]["field"],
        "require_totp"
    );
    let on = json_of(
        patch(
            &app,
            &admin,
            "/api/v1/settings",
            json!({"require_totp": true}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(on, json!({"require_totp": true, "time_zone": "UTC"}));
    assert!(app.state.store.tenant_requires_totp(tenant).await.unwrap());
    // From now on the tenant's users must enrol before anything else answers.
    let gated = eventually(Duration::from_secs(3), || async {
        let response = app.get_as(&jo, "/api/v1/settings").await;
        response.status() == 403 && error_of(response).await["code"] == "mfa_enrollment_required"
    })
    .await;
    assert!(gated);
    let updates = audited(&app, SYSADMIN, "settings.update").await;
    assert_eq!(
        updates[0]["details"],
        json!({"require_totp": true, "time_zone": null})
    );
    assert_eq!(updates[0]["tenant_id"], tenant.to_string());
    // And off again.
    app.state
        .store
        .set_tenant_requires_totp(tenant, false)
        .await
        .unwrap();
    let open = eventually(Duration::from_secs(3), || async {
        app.get_as(&jo, "/api/v1/settings").await.status() == 200
    })
    .await;
    assert!(open);
    // The time zone the timing rule and daily retraining use.
    let zoned = json_of(
        patch(
            &app,
            &admin,
            "/api/v1/settings",
            json!({"time_zone": "Europe/Paris"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        zoned,
        json!({"require_totp": false, "time_zone": "Europe/Paris"})
    );
    let refused = patch(
        &app,
        &admin,
        "/api/v1/settings",
        json!({"time_zone": "Mars/Olympus"}),
    )
    .await;
    assert_eq!(error_of(refused).await["fields"][0]["field"], "time_zone");
    let empty = patch(&app, &admin, "/api/v1/settings", json!({})).await;
    assert_eq!(empty.status(), 422);
}

crate::on_both_backends!(me_describes_the_logged_in_user, tenant_settings_round_trip);
