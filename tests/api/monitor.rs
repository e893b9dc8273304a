//! Security monitoring end to end: events in, alerts stored, listed and counted.

use std::time::Duration;

use auditpulse::app::{connect, Store};
use auditpulse::domain::TenantId;
use auditpulse::events::{SecurityEvent, SecurityEventKind};
use auditpulse::security::SecurityAlertFilter;
use auditpulse::security::SecurityAlertKind;
use auditpulse::store::Scope;
use serde_json::Value;

use crate::helpers::{error_of, Backend, TestApp, TestDb, ADMIN, ADMIN_TENANT, SYSADMIN, VIEWER};

fn emit(app: &TestApp, kind: SecurityEventKind, ip: &str) {
    app.state.events.emit(SecurityEvent {
        kind,
        at: auditpulse::domain::time::now(),
        ip: Some(ip.parse().unwrap()),
        principal: None,
        route: None,
    });
}

fn failed_login(account: &str, tenant: Option<TenantId>) -> SecurityEventKind {
    SecurityEventKind::LoginFailed {
        account: account.into(),
        tenant,
    }
}

/// The alerts `token` sees once there are at least `n` (alerts are judged off the request path).
async fn alerts(app: &TestApp, token: &str, query: &str, n: usize) -> Value {
    for _ in 0..100 {
        let page: Value = app
            .get_as(token, &format!("/api/v1/security/alerts{query}"))
            .await
            .json()
            .await
            .unwrap();
        if page["items"].as_array().unwrap().len() >= n {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} alerts appeared for {token}{query}");
}

async fn failed_login_spikes_become_stored_alerts(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[("AUDITPULSE_ALERT_FAILED_LOGINS_ACCOUNT", "3/15m")],
    )
    .await;
    for _ in 0..3 {
        emit(&app, failed_login("jane@example.com", None), "203.0.113.7");
    }
    let page = alerts(&app, SYSADMIN, "", 1).await;
    let alert = &page["items"][0];
    assert_eq!(alert["kind"], "failed_login_spike");
    assert_eq!(alert["severity"], "high");
    assert_eq!(alert["subject"], "account jane@example.com");
    assert_eq!(
        alert["summary"],
        "3 failed logins for account jane@example.com within 15 min"
    );
    assert_eq!(alert["evidence"]["failed_logins"], 3);
    assert_eq!(alert["evidence"]["last_ip"], "203.0.113.7");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(
            r#"auditpulse_security_alerts_total{kind="failed_login_spike",severity="high"} 1"#
        ),
        "{metrics}"
    );
}

async fn tenant_admins_see_only_their_tenants_alerts(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[("AUDITPULSE_ALERT_FAILED_LOGINS_ACCOUNT", "1/15m")],
    )
    .await;
    let mine: TenantId = ADMIN_TENANT.parse().unwrap();
    emit(&app, failed_login("mine", Some(mine)), "198.51.100.1");
    emit(
        &app,
        failed_login("theirs", Some(TenantId::new())),
        "198.51.100.2",
    );
    emit(&app, failed_login("nobody", None), "198.51.100.3");
    let all = alerts(&app, SYSADMIN, "", 3).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    let page = alerts(&app, ADMIN, "", 1).await;
    let subjects: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, vec!["account mine"]);
    assert_eq!(
        app.get_as(VIEWER, "/api/v1/security/alerts").await.status(),
        403
    );
    assert_eq!(app.get("/api/v1/security/alerts").await.status(), 401);
}

async fn alerts_are_filtered_and_paged_newest_first(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[("AUDITPULSE_ALERT_FAILED_LOGINS_ACCOUNT", "1/15m")],
    )
    .await;
    for account in ["a", "b", "c"] {
        emit(&app, failed_login(account, None), "198.51.100.9");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let reuse = SecurityEventKind::RefreshTokenReused {
        user: "u7".into(),
        tenant: None,
    };
    emit(&app, reuse, "198.51.100.9");
    alerts(&app, SYSADMIN, "", 4).await;
    let first = alerts(&app, SYSADMIN, "?kind=failed_login_spike&limit=2", 2).await;
    let subjects = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["subject"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(subjects(&first), vec!["account c", "account b"]);
    let before = first["next_before"].as_str().unwrap();
    let second = alerts(
        &app,
        SYSADMIN,
        &format!("?kind=failed_login_spike&limit=2&before={before}"),
        1,
    )
    .await;
    assert_eq!(subjects(&second), vec!["account a"]);
    assert!(second.get("next_before").is_none());
    let critical = alerts(&app, SYSADMIN, "?min_severity=critical", 1).await;
    assert_eq!(subjects(&critical), vec!["user u7"]);
    for bad in [
        "?kind=nope",
        "?min_severity=urgent",
        "?limit=0",
        "?before=x",
        "?extra=1",
    ] {
        let response = app
            .get_as(SYSADMIN, &format!("/api/v1/security/alerts{bad}"))
            .await;
        assert_eq!(response.status(), 400, "{bad}");
        error_of(response).await;
    }
}

async fn repeated_rate_limit_breaches_raise_api_abuse(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("AUDITPULSE_RATE_LIMIT_API_IP", "1/h"),
            ("AUDITPULSE_RATE_LIMIT_BLOCK_AFTER", "2"),
            ("AUDITPULSE_ALERT_RATE_LIMIT_BREACHES", "2/10m"),
        ],
    )
    .await;
    for _ in 0..3 {
        app.get("/api/v1/tenants").await;
    }
    // This client is blocked now, so read the alert from the store rather than the API.
    let filter = SecurityAlertFilter {
        kind: Some(SecurityAlertKind::ApiAbuse),
        ..Default::default()
    };
    let mut found = Vec::new();
    for _ in 0..100 {
        found = app
            .state
            .store
            .list_alerts(Scope::System, &filter, 10)
            .await
            .unwrap();
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let alert = found.first().expect("an api_abuse alert");
    assert_eq!(alert.subject, "ip 127.0.0.1");
    // Stored in the shape alert delivery takes over: deduplication key, state, count.
    assert_eq!(alert.dedup_key, "api_abuse:ip 127.0.0.1");
    assert_eq!(alert.state, auditpulse::security::AlertState::Open);
    assert_eq!(alert.occurrences, 1);
    assert_eq!(alert.evidence["breaches"], 2);
    assert_eq!(alert.evidence["route"], "/api/v1/tenants");
}

async fn login_history_persists_in_the_database(backend: Backend) {
    let db = TestDb::new(backend).await;
    let open = || async {
        connect(&auditpulse::config::DatabaseUrl::parse(&db.url).unwrap(), 2)
            .await
            .unwrap()
    };
    let store: std::sync::Arc<dyn Store> = open().await;
    store.migrate().await.unwrap();
    let first = store
        .observe_login("u1", Some("192.0.2.1"), Some("curl/8"), 9)
        .await
        .unwrap();
    assert_eq!(first.logins, 0);
    store
        .observe_login("u1", Some("192.0.2.1"), Some("curl/8"), 9)
        .await
        .unwrap();
    store.close().await;
    // A new process (or another instance) sees the same history.
    let again = open().await;
    let before = again
        .observe_login("u1", Some("203.0.113.1"), Some("curl/8"), 10)
        .await
        .unwrap();
    assert_eq!(
        (
            before.logins,
            before.ip_seen,
            before.user_agent_seen,
            before.hours[9]
        ),
        (2, false, true, 2)
    );
    let other = again
        .observe_login("u2", Some("192.0.2.1"), None, 9)
        .await
        .unwrap();
    assert_eq!(other.logins, 0, "users are apart");
}

crate::on_both_backends!(
    failed_login_spikes_become_stored_alerts,
    tenant_admins_see_only_their_tenants_alerts,
    alerts_are_filtered_and_paged_newest_first,
    repeated_rate_limit_breaches_raise_api_abuse,
    login_history_persists_in_the_database,
);

#[tokio::test]
async fn a_login_from_a_new_address_is_flagged() {
    let app = TestApp::spawn().await;
    let login = || SecurityEventKind::LoginSucceeded {
        user: "u5".into(),
        tenant: None,
        user_agent: Some("firefox".into()),
    };
    emit(&app, login(), "192.0.2.10");
    emit(&app, login(), "192.0.2.10");
    emit(&app, login(), "203.0.113.99");
    let page = alerts(&app, SYSADMIN, "?kind=new_login_source", 1).await;
    let alert = &page["items"][0];
    assert_eq!(alert["summary"], "user u5 logged in from a new IP address");
    assert_eq!(alert["evidence"]["ip"], "203.0.113.99");
    assert_eq!(alert["evidence"]["earlier_logins"], 2);
}
