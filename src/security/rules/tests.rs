//! Each detector on its own, with an explicit clock.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::ratelimit::{Group, KeyKind};

fn config() -> MonitorConfig {
    MonitorConfig {
        failed_logins_account: Threshold {
            count: 3,
            window: Duration::from_secs(600),
        },
        failed_logins_ip: Threshold {
            count: 4,
            window: Duration::from_secs(600),
        },
        failed_logins_tenant: Threshold {
            count: 5,
            window: Duration::from_secs(600),
        },
        rate_limit_breaches: Threshold {
            count: 2,
            window: Duration::from_secs(600),
        },
        unusual_hour_min_logins: 10,
        unusual_hour_percent: 5,
    }
}

fn event(kind: SecurityEventKind, ip: &str) -> SecurityEvent {
    SecurityEvent {
        kind,
        at: crate::domain::time::now(),
        ip: ip.parse::<IpAddr>().ok(),
        principal: None,
        route: None,
    }
}

fn failed(account: &str, tenant: Option<TenantId>, ip: &str) -> SecurityEvent {
    event(
        SecurityEventKind::LoginFailed {
            account: account.into(),
            tenant,
        },
        ip,
    )
}

#[test]
fn failed_login_spikes_are_raised_per_account_ip_and_tenant() {
    let mut d = SecurityRules::new(config());
    let tenant = TenantId::new();
    let now = Instant::now();
    let mut raised = Vec::new();
    for (i, account) in ["u1", "u1", "u1", "u2", "u3"].iter().enumerate() {
        let at = now + Duration::from_secs(i as u64);
        raised.extend(d.observe(&failed(account, Some(tenant), "203.0.113.5"), at));
    }
    let subjects: Vec<&str> = raised.iter().map(|a| a.subject.as_str()).collect();
    assert_eq!(
        subjects,
        vec!["account u1", "ip 203.0.113.5", &format!("tenant {tenant}")]
    );
    assert!(raised
        .iter()
        .all(|a| a.kind == SecurityAlertKind::FailedLoginSpike && a.severity == Severity::High));
    assert_eq!(raised[0].evidence["failed_logins"], 3);
    assert_eq!(raised[0].tenant, Some(tenant));
    assert_eq!(
        raised[1].tenant, None,
        "an IP spike crosses tenants: system administrators only"
    );
}

#[test]
fn failures_spread_over_more_than_the_window_raise_nothing() {
    let mut d = SecurityRules::new(config());
    let now = Instant::now();
    for i in 0..10 {
        let alerts = d.observe(
            &failed("u1", None, "203.0.113.5"),
            now + Duration::from_secs(400 * i),
        );
        assert!(alerts.is_empty(), "{alerts:?}");
    }
}

#[test]
fn raising_a_role_to_admin_or_system_admin_is_privilege_escalation() {
    let mut d = SecurityRules::new(config());
    let change = |to: &str| SecurityEventKind::RoleChanged {
        user: "u9".into(),
        tenant: None,
        from: Some("viewer".into()),
        to: to.into(),
    };
    let now = Instant::now();
    assert!(d
        .observe(&event(change("auditor"), "10.0.0.1"), now)
        .is_empty());
    for to in ["admin", "system_admin"] {
        let alerts = d.observe(&event(change(to), "10.0.0.1"), now);
        assert_eq!(alerts.len(), 1);
        assert_eq!(
            (alerts[0].kind, alerts[0].severity),
            (SecurityAlertKind::PrivilegeEscalation, Severity::High)
        );
        assert_eq!(alerts[0].evidence["to"], to);
    }
}

#[test]
fn refresh_token_reuse_is_critical_at_once() {
    let mut d = SecurityRules::new(config());
    let reuse = SecurityEventKind::RefreshTokenReused {
        user: "u1".into(),
        tenant: None,
    };
    let alerts = d.observe(&event(reuse, "198.51.100.4"), Instant::now());
    assert_eq!(
        (alerts[0].kind, alerts[0].severity),
        (SecurityAlertKind::RefreshTokenReuse, Severity::Critical)
    );
}

#[test]
fn repeated_rate_limit_breaches_are_api_abuse() {
    let mut d = SecurityRules::new(config());
    let breach = || SecurityEventKind::RateLimitBreach {
        group: Group::Api,
        key: KeyKind::Ip,
        blocked_for: None,
    };
    let now = Instant::now();
    assert!(d.observe(&event(breach(), "198.51.100.4"), now).is_empty());
    assert!(
        d.observe(&event(breach(), "198.51.100.5"), now).is_empty(),
        "another client"
    );
    let alerts = d.observe(&event(breach(), "198.51.100.4"), now);
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (alerts[0].kind, alerts[0].subject.as_str()),
        (SecurityAlertKind::ApiAbuse, "ip 198.51.100.4")
    );
}

fn login(ip: &str) -> SecurityEvent {
    event(
        SecurityEventKind::LoginSucceeded {
            user: "u1".into(),
            tenant: None,
            user_agent: None,
        },
        ip,
    )
}

#[test]
fn the_first_login_sets_the_baseline_and_later_new_sources_are_flagged() {
    let c = config();
    let first = judge_login(
        &c,
        &login("192.0.2.1"),
        "u1",
        None,
        Some("curl"),
        9,
        &LoginBaseline::default(),
    );
    assert!(first.is_empty(), "{first:?}");
    let known = LoginBaseline {
        logins: 3,
        ip_seen: true,
        user_agent_seen: true,
        ..Default::default()
    };
    assert!(judge_login(&c, &login("192.0.2.1"), "u1", None, Some("curl"), 9, &known).is_empty());
    let new_ip = LoginBaseline {
        ip_seen: false,
        ..known.clone()
    };
    let alerts = judge_login(
        &c,
        &login("203.0.113.8"),
        "u1",
        None,
        Some("curl"),
        9,
        &new_ip,
    );
    assert_eq!(
        (alerts[0].kind, alerts[0].severity),
        (SecurityAlertKind::NewLoginSource, Severity::Medium)
    );
    assert_eq!(alerts[0].summary, "user u1 logged in from a new IP address");
    let new_agent = LoginBaseline {
        user_agent_seen: false,
        ..known
    };
    let alerts = judge_login(
        &c,
        &login("192.0.2.1"),
        "u1",
        None,
        Some("evil"),
        9,
        &new_agent,
    );
    assert_eq!(
        (alerts[0].kind, alerts[0].severity),
        (SecurityAlertKind::NewLoginSource, Severity::Low)
    );
}

#[test]
fn a_login_at_an_hour_the_user_rarely_uses_is_unusual() {
    let c = config();
    let mut hours = [0u64; 24];
    hours[9] = 30;
    hours[10] = 20;
    let history = LoginBaseline {
        logins: 50,
        ip_seen: true,
        user_agent_seen: true,
        hours,
    };
    assert!(judge_login(&c, &login("192.0.2.1"), "u1", None, None, 10, &history).is_empty());
    assert!(
        judge_login(&c, &login("192.0.2.1"), "u1", None, None, 8, &history).is_empty(),
        "next to a usual hour"
    );
    let alerts = judge_login(&c, &login("192.0.2.1"), "u1", None, None, 3, &history);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, SecurityAlertKind::UnusualLoginHour);
    assert_eq!(alerts[0].evidence["hour_utc"], 3);
    let young = LoginBaseline {
        logins: 5,
        hours,
        ..history
    };
    assert!(
        judge_login(&c, &login("192.0.2.1"), "u1", None, None, 3, &young).is_empty(),
        "too little history"
    );
}

#[test]
fn baselines_are_read_from_stored_rows() {
    let rows = vec![
        ("total".to_owned(), String::new(), 7),
        ("ip".to_owned(), "192.0.2.1".to_owned(), 5),
        ("user_agent".to_owned(), "curl".to_owned(), 7),
        ("hour".to_owned(), "09".to_owned(), 6),
    ];
    let b = LoginBaseline::from_history(&rows, Some("192.0.2.1"), Some("firefox"));
    assert_eq!(
        (b.logins, b.ip_seen, b.user_agent_seen, b.hours[9]),
        (7, true, false, 6)
    );
}
