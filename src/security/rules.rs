//! The security rules (detectors of threats): pure functions of the event stream (and, for logins, of the user's history).
//! No I/O; `Monitor` feeds them and stores what they raise.

use std::net::IpAddr;
use std::time::Instant;

use serde_json::json;

use super::window::{Threshold, WindowCounter};
use super::{AlertDraft, SecurityAlertKind, Severity};
use crate::domain::TenantId;
use crate::events::{SecurityEvent, SecurityEventKind};

/// Thresholds, from configuration (defaults documented in `config::vars`).
#[derive(Debug, Clone)]
pub struct MonitorConfig {
    pub failed_logins_account: Threshold,
    pub failed_logins_ip: Threshold,
    pub failed_logins_tenant: Threshold,
    pub rate_limit_breaches: Threshold,
    /// Logins a user needs before an hour can be called unusual for them.
    pub unusual_hour_min_logins: u64,
    /// An hour (with its neighbours) holding less than this share of a user's logins is unusual.
    pub unusual_hour_percent: u64,
}

/// Keys remembered per windowed detector; the least recently seen are forgotten first.
const CAPACITY: usize = 100_000;

pub struct SecurityRules {
    config: MonitorConfig,
    failed_by_account: WindowCounter<String>,
    failed_by_ip: WindowCounter<IpAddr>,
    failed_by_tenant: WindowCounter<TenantId>,
    breaches: WindowCounter<String>,
}

impl SecurityRules {
    pub fn new(config: MonitorConfig) -> Self {
        Self {
            failed_by_account: WindowCounter::new(config.failed_logins_account, CAPACITY),
            failed_by_ip: WindowCounter::new(config.failed_logins_ip, CAPACITY),
            failed_by_tenant: WindowCounter::new(config.failed_logins_tenant, CAPACITY),
            breaches: WindowCounter::new(config.rate_limit_breaches, CAPACITY),
            config,
        }
    }

    pub fn config(&self) -> &MonitorConfig {
        &self.config
    }

    /// Alerts raised by this event on its own or with the recent ones before it.
    pub fn observe(&mut self, event: &SecurityEvent, now: Instant) -> Vec<AlertDraft> {
        match &event.kind {
            SecurityEventKind::LoginFailed { account, tenant } => {
                self.failed_login(event, account, *tenant, now)
            }
            SecurityEventKind::RateLimitBreach {
                group,
                key,
                blocked_for,
            } => {
                let subject = match (&event.principal, event.ip) {
                    (Some(principal), _) => format!("principal {principal}"),
                    (None, Some(ip)) => format!("ip {ip}"),
                    (None, None) => return Vec::new(),
                };
                self.breaches
                    .hit(subject.clone(), now)
                    .map(|count| AlertDraft {
                        kind: SecurityAlertKind::ApiAbuse,
                        severity: Severity::Medium,
                        tenant: None,
                        summary: format!("{subject} hit rate limits {count} times within {}", window(self.config.rate_limit_breaches)),
                        evidence: json!({"breaches": count, "window_secs": self.config.rate_limit_breaches.window.as_secs(),
                            "group": group.as_str(), "key": format!("{key:?}").to_lowercase(),
                            "last_blocked_for_secs": blocked_for.map(|d| d.as_secs()), "route": event.route}),
                        subject,
                    })
                    .into_iter()
                    .collect()
            }
            SecurityEventKind::RoleChanged {
                user,
                tenant,
                from,
                to,
            } if is_privileged(to) => vec![AlertDraft {
                kind: SecurityAlertKind::PrivilegeEscalation,
                severity: Severity::High,
                tenant: *tenant,
                subject: format!("user {user}"),
                summary: format!("user {user} was raised to {to}"),
                evidence: json!({"user": user, "from": from, "to": to, "changed_by": event.principal, "ip": event.ip}),
            }],
            SecurityEventKind::RefreshTokenReused { user, tenant } => vec![AlertDraft {
                kind: SecurityAlertKind::RefreshTokenReuse,
                severity: Severity::Critical,
                tenant: *tenant,
                subject: format!("user {user}"),
                summary: format!(
                    "a refresh token of user {user} was used twice; the session was ended"
                ),
                evidence: json!({"user": user, "ip": event.ip}),
            }],
            _ => Vec::new(),
        }
    }

    fn failed_login(
        &mut self,
        event: &SecurityEvent,
        account: &str,
        tenant: Option<TenantId>,
        now: Instant,
    ) -> Vec<AlertDraft> {
        let mut alerts = Vec::new();
        let spike = |subject: String,
                     count: u32,
                     threshold: Threshold,
                     tenant: Option<TenantId>| AlertDraft {
            kind: SecurityAlertKind::FailedLoginSpike,
            severity: Severity::High,
            tenant,
            summary: format!(
                "{count} failed logins for {subject} within {}",
                window(threshold)
            ),
            evidence: json!({"failed_logins": count, "window_secs": threshold.window.as_secs(), "last_ip": event.ip, "last_account": account}),
            subject,
        };
        if let Some(count) = self.failed_by_account.hit(account.to_owned(), now) {
            alerts.push(spike(
                format!("account {account}"),
                count,
                self.config.failed_logins_account,
                tenant,
            ));
        }
        if let Some(ip) = event.ip {
            if let Some(count) = self.failed_by_ip.hit(ip, now) {
                alerts.push(spike(
                    format!("ip {ip}"),
                    count,
                    self.config.failed_logins_ip,
                    None,
                ));
            }
        }
        if let Some(tenant) = tenant {
            if let Some(count) = self.failed_by_tenant.hit(tenant, now) {
                alerts.push(spike(
                    format!("tenant {tenant}"),
                    count,
                    self.config.failed_logins_tenant,
                    Some(tenant),
                ));
            }
        }
        alerts
    }
}

fn is_privileged(role: &str) -> bool {
    matches!(role, "admin" | "system_admin")
}

fn window(threshold: Threshold) -> String {
    let secs = threshold.window.as_secs();
    if secs.is_multiple_of(3600) {
        format!("{} h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} s")
    }
}

/// What was known about a user's logins before this one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoginBaseline {
    /// Earlier logins recorded for the user.
    pub logins: u64,
    pub ip_seen: bool,
    pub user_agent_seen: bool,
    /// Earlier logins by hour of day (UTC).
    pub hours: [u64; 24],
}

impl LoginBaseline {
    /// Builds the baseline from stored `(kind, value, logins)` rows for one user.
    pub fn from_history(
        rows: &[(String, String, i64)],
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> Self {
        let mut baseline = LoginBaseline::default();
        for (kind, value, logins) in rows {
            let logins = u64::try_from(*logins).unwrap_or(0);
            match kind.as_str() {
                "total" => baseline.logins = logins,
                "ip" if Some(value.as_str()) == ip => baseline.ip_seen = true,
                "user_agent" if Some(value.as_str()) == user_agent => {
                    baseline.user_agent_seen = true
                }
                "hour" => {
                    if let Some(slot) = value
                        .parse::<usize>()
                        .ok()
                        .and_then(|h| baseline.hours.get_mut(h))
                    {
                        *slot = logins;
                    }
                }
                _ => {}
            }
        }
        baseline
    }
}

/// The baseline rows one login adds to: `(kind, value)`.
pub fn login_observations<'a>(
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    hour: &'a str,
) -> Vec<(&'static str, &'a str)> {
    let mut rows = vec![("total", ""), ("hour", hour)];
    rows.extend(ip.map(|ip| ("ip", ip)));
    rows.extend(user_agent.map(|ua| ("user_agent", ua)));
    rows
}

/// A successful login judged against the user's history: new source, unusual hour.
pub fn judge_login(
    config: &MonitorConfig,
    event: &SecurityEvent,
    user: &str,
    tenant: Option<TenantId>,
    user_agent: Option<&str>,
    hour: u32,
    before: &LoginBaseline,
) -> Vec<AlertDraft> {
    let mut alerts = Vec::new();
    let new_ip = event.ip.is_some() && !before.ip_seen;
    let new_agent = user_agent.is_some() && !before.user_agent_seen;
    // The first login sets the baseline; nothing is "new" yet.
    if before.logins > 0 && (new_ip || new_agent) {
        let what = match (new_ip, new_agent) {
            (true, true) => "a new IP address and user agent",
            (true, false) => "a new IP address",
            _ => "a new user agent",
        };
        alerts.push(AlertDraft {
            kind: SecurityAlertKind::NewLoginSource,
            severity: if new_ip { Severity::Medium } else { Severity::Low },
            tenant,
            subject: format!("user {user}"),
            summary: format!("user {user} logged in from {what}"),
            evidence: json!({"ip": event.ip, "new_ip": new_ip, "user_agent": user_agent, "new_user_agent": new_agent,
                "earlier_logins": before.logins}),
        });
    }
    let hour = (hour % 24) as usize;
    if before.logins >= config.unusual_hour_min_logins {
        let around: u64 = [(hour + 23) % 24, hour, (hour + 1) % 24]
            .iter()
            .map(|h| before.hours[*h])
            .sum();
        if around * 100 < config.unusual_hour_percent * before.logins {
            alerts.push(AlertDraft {
                kind: SecurityAlertKind::UnusualLoginHour,
                severity: Severity::Low,
                tenant,
                subject: format!("user {user}"),
                summary: format!("user {user} logged in at {hour:02}:00-{hour:02}:59 UTC, an hour they rarely use"),
                evidence: json!({"hour_utc": hour, "logins_within_an_hour_of_it": around, "earlier_logins": before.logins,
                    "threshold_percent": config.unusual_hour_percent}),
            });
        }
    }
    alerts
}

#[cfg(test)]
mod tests;
