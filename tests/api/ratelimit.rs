//! Rate limiting by IP and by principal, graduated blocking, and breach events.

use auditpulse::events::SecurityEventKind;
use auditpulse::ratelimit::KeyKind;

use crate::helpers::{error_of, Backend, TestApp, SYSADMIN, VIEWER};

async fn statuses(app: &TestApp, n: usize, path: &str, xff: Option<&str>) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        let mut request = app.client.get(app.url(path));
        if let Some(xff) = xff {
            request = request.header("x-forwarded-for", xff);
        }
        out.push(request.send().await.unwrap().status().as_u16());
    }
    out
}

#[tokio::test]
async fn clients_over_their_ip_limit_get_429_with_retry_after_and_a_breach_event() {
    let app =
        TestApp::spawn_with(Backend::Sqlite, &[("AUDITPULSE_RATE_LIMIT_API_IP", "3/m")]).await;
    assert_eq!(
        statuses(&app, 3, "/api/v1/tenants", None).await,
        vec![401, 401, 401]
    );
    let response = app.get("/api/v1/tenants").await;
    assert_eq!(response.status(), 429);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=20).contains(&retry),
        "one token per 20 s: retry after {retry}"
    );
    assert_eq!(error_of(response).await["code"], "rate_limited");

    assert_eq!(app.events.actions(), vec!["rate_limit.breach"]);
    let event = app.events.0.lock().unwrap()[0].clone();
    assert_eq!(event.ip, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(event.route.as_deref(), Some("/api/v1/tenants"));
    assert!(matches!(
        event.kind,
        SecurityEventKind::RateLimitBreach {
            key: KeyKind::Ip,
            blocked_for: None,
            ..
        }
    ));
    assert_eq!(app.state.events.counters().rate_limit_breaches(), 1);
    assert_eq!(app.state.events.counters().rate_limited_requests(), 1);
}

#[tokio::test]
async fn clients_that_keep_hitting_the_limit_are_blocked_for_doubling_periods() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("AUDITPULSE_RATE_LIMIT_API_IP", "1/h"),
            ("AUDITPULSE_RATE_LIMIT_BLOCK_AFTER", "3"),
            ("AUDITPULSE_RATE_LIMIT_BLOCK_SECS", "1"),
            ("AUDITPULSE_RATE_LIMIT_BLOCK_MAX_SECS", "3"),
        ],
    )
    .await;
    let retry_after =
        |r: &reqwest::Response| r.headers()["retry-after"].to_str().unwrap().to_owned();
    assert_eq!(
        statuses(&app, 3, "/api/v1/tenants", None).await,
        vec![401, 429, 429]
    );
    let blocked = app.get("/api/v1/tenants").await;
    assert_eq!(
        (blocked.status().as_u16(), retry_after(&blocked)),
        (429, "1".to_owned())
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // Still out of tokens (1/h): three more refusals start a second, doubled block.
    assert_eq!(
        statuses(&app, 2, "/api/v1/tenants", None).await,
        vec![429, 429]
    );
    let blocked = app.get("/api/v1/tenants").await;
    assert_eq!(
        (blocked.status().as_u16(), retry_after(&blocked)),
        (429, "2".to_owned())
    );
    assert_eq!(
        app.events.actions(),
        vec![
            "rate_limit.breach",
            "rate_limit.block",
            "rate_limit.breach",
            "rate_limit.block"
        ]
    );
    assert_eq!(app.state.events.counters().rate_limit_blocks(), 2);
}

#[tokio::test]
async fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    let app =
        TestApp::spawn_with(Backend::Sqlite, &[("AUDITPULSE_RATE_LIMIT_API_IP", "1/m")]).await;
    assert_eq!(
        statuses(&app, 1, "/api/v1/tenants", Some("198.51.100.1")).await,
        vec![401]
    );
    assert_eq!(
        statuses(&app, 1, "/api/v1/tenants", Some("198.51.100.2")).await,
        vec![429],
        "spoofed header must not evade the limit"
    );

    let proxied = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("AUDITPULSE_RATE_LIMIT_API_IP", "1/m"),
            ("AUDITPULSE_TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    assert_eq!(
        statuses(&proxied, 2, "/api/v1/tenants", Some("198.51.100.1")).await,
        vec![401, 429]
    );
    assert_eq!(
        statuses(&proxied, 1, "/api/v1/tenants", Some("198.51.100.2")).await,
        vec![401],
        "another client behind the proxy"
    );
    let event = proxied.events.0.lock().unwrap()[0].clone();
    assert_eq!(event.ip, Some("198.51.100.1".parse().unwrap()));
}

#[tokio::test]
async fn authenticated_principals_have_their_own_limit() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("AUDITPULSE_RATE_LIMIT_API_IP", "off"),
            ("AUDITPULSE_RATE_LIMIT_API_PRINCIPAL", "2/m"),
        ],
    )
    .await;
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(
            app.get_as(SYSADMIN, "/api/v1/tenants")
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(got, vec![200, 200, 429]);
    // Same address, different principal: not limited by the other's bucket.
    assert_eq!(app.get_as(VIEWER, "/api/v1/tenants").await.status(), 403);
    let event = app.events.0.lock().unwrap()[0].clone();
    assert_eq!(event.principal.as_deref(), Some("user-sysadmin"));
    assert!(matches!(
        event.kind,
        SecurityEventKind::RateLimitBreach {
            key: KeyKind::Principal,
            ..
        }
    ));
}

#[tokio::test]
async fn health_probes_are_not_limited_by_default_even_when_the_api_is() {
    let app =
        TestApp::spawn_with(Backend::Sqlite, &[("AUDITPULSE_RATE_LIMIT_API_IP", "1/h")]).await;
    statuses(&app, 3, "/api/v1/tenants", None).await;
    let health = statuses(&app, 200, "/healthz", None).await;
    assert!(health.iter().all(|s| *s == 200));
}
