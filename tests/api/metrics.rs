//! Prometheus metrics on their own listener: traffic, security events, database pool.

use crate::helpers::{Backend, TestApp, VIEWER};

/// The value of the sample whose name and labels are exactly `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_and_not_on_the_api() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/metrics").await.status(), 404);
    let response = app
        .client
        .get(format!("{}/metrics", app.metrics_base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = response.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
}

#[tokio::test]
async fn http_requests_are_counted_by_route_template_and_status() {
    let app = TestApp::spawn().await;
    app.get("/healthz").await;
    app.get("/healthz").await;
    app.get("/nothing/here/4111111111111111").await;
    app.get("/nothing/else").await;
    let text = app.metrics().await;
    let healthz = r#"{method="GET",route="/healthz",status="200"}"#;
    assert_eq!(
        sample(&text, &format!("auditpulse_http_requests_total{healthz}")),
        Some(2.0),
        "{text}"
    );
    let unmatched =
        r#"auditpulse_http_requests_total{method="GET",route="<unmatched>",status="404"}"#;
    assert_eq!(
        sample(&text, unmatched),
        Some(2.0),
        "raw paths collapse into one label: {text}"
    );
    assert!(!text.contains("/nothing"), "raw paths never become labels");
    let count = r#"auditpulse_http_request_duration_seconds_count{method="GET",route="/healthz"}"#;
    assert_eq!(sample(&text, count), Some(2.0), "{text}");
}

#[tokio::test]
async fn security_events_are_counted() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("AUDITPULSE_RATE_LIMIT_API_IP", "2/m"),
            ("AUDITPULSE_RATE_LIMIT_API_PRINCIPAL", "off"),
        ],
    )
    .await;
    assert_eq!(app.get_as(VIEWER, "/api/v1/tenants").await.status(), 403);
    assert_eq!(app.get("/api/v1/tenants").await.status(), 401);
    assert_eq!(app.get("/api/v1/tenants").await.status(), 429);
    assert_eq!(app.get("/api/v1/tenants").await.status(), 429);
    let text = app.metrics().await;
    for (series, value) in [
        ("auditpulse_permission_denials_total", 1.0),
        (
            r#"auditpulse_security_events_total{action="permission.denied"}"#,
            1.0,
        ),
        (
            r#"auditpulse_security_events_total{action="rate_limit.breach"}"#,
            1.0,
        ),
        (
            r#"auditpulse_rate_limit_breaches_total{group="api",key="ip"}"#,
            1.0,
        ),
        ("auditpulse_rate_limited_requests_total", 2.0),
    ] {
        assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
    }
    let denial = app
        .events
        .0
        .lock()
        .unwrap()
        .iter()
        .find(|e| e.kind.action() == "permission.denied")
        .cloned();
    let denial = denial.expect("the denial reached the event interface");
    assert_eq!(denial.principal.as_deref(), Some("user-viewer"));
    assert_eq!(denial.route.as_deref(), Some("/api/v1/tenants"));
}

#[tokio::test]
async fn database_pool_usage_is_reported() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("AUDITPULSE_DB_MAX_CONNECTIONS", "7")]).await;
    app.get("/readyz").await;
    let text = app.metrics().await;
    assert_eq!(
        sample(&text, "auditpulse_db_pool_max_connections"),
        Some(7.0),
        "{text}"
    );
    let idle =
        sample(&text, r#"auditpulse_db_pool_connections{state="idle"}"#).expect("idle gauge");
    let in_use =
        sample(&text, r#"auditpulse_db_pool_connections{state="in_use"}"#).expect("in-use gauge");
    assert!(idle + in_use >= 1.0 && idle + in_use <= 7.0, "{text}");
}

#[tokio::test]
async fn identity_and_admin_events_have_their_own_counters() {
    use auditpulse::events::{SecurityEvent, SecurityEventKind};
    let app = TestApp::spawn().await;
    let user = || "u1".to_owned();
    for kind in [
        SecurityEventKind::LoginFailed {
            account: user(),
            tenant: None,
        },
        SecurityEventKind::AccountLocked {
            user: user(),
            tenant: None,
            for_secs: 60,
        },
        SecurityEventKind::TokenRevoked {
            user: user(),
            tenant: None,
            reason: "logout_all",
        },
        SecurityEventKind::RefreshTokenReused {
            user: user(),
            tenant: None,
        },
        SecurityEventKind::RoleChanged {
            user: user(),
            tenant: None,
            from: None,
            to: "auditor".into(),
        },
    ] {
        app.state.events.emit(SecurityEvent {
            kind,
            at: auditpulse::domain::time::now(),
            ip: None,
            principal: None,
            route: None,
        });
    }
    let created = app
        .post_json_as(
            crate::helpers::SYSADMIN,
            "/api/v1/tenants",
            &serde_json::json!({"name": "Acme"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let text = app.metrics().await;
    for series in [
        "auditpulse_failed_logins_total",
        "auditpulse_account_lockouts_total",
        "auditpulse_token_revocations_total",
        "auditpulse_refresh_token_reuse_total",
        "auditpulse_role_changes_total",
        r#"auditpulse_admin_actions_total{action="tenant.create"}"#,
        r#"auditpulse_audit_events_total{action="tenant.create"}"#,
        r#"auditpulse_audit_events_total{action="auth.login_failed"}"#,
    ] {
        assert_eq!(sample(&text, series), Some(1.0), "{series} in\n{text}");
    }
}

#[tokio::test]
async fn a_metrics_port_in_use_is_reported_with_its_variable() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let db = crate::helpers::TestDb::new(Backend::Sqlite).await;
    let config = crate::helpers::test_config(&db, &[("AUDITPULSE_METRICS_LISTEN", &address)]);
    let error = match auditpulse::Application::build(config).await {
        Ok(_) => panic!("the metrics port is taken"),
        Err(error) => error.to_string(),
    };
    assert!(
        error.contains("AUDITPULSE_METRICS_LISTEN") && error.contains(&address),
        "{error}"
    );
}
