//! Security events into the audit trail: the `EventSink` registered with `crate::events`, so every
//! event emitted through `Events::emit` is also recorded here.
//!
//! Invariant: `record` never waits; it maps the event and queues it on the [`AuditLog`]. The match
//! below is exhaustive on purpose: a new kind of security event does not compile until it says how
//! it is audited.

use serde_json::json;

use super::log::AuditLog;
use super::model::{ActorKind, NewAuditEvent, Outcome};
use crate::events::{EventSink, SecurityEvent, SecurityEventKind};

pub struct AuditSink(AuditLog);

impl AuditSink {
    pub fn new(log: AuditLog) -> Self {
        Self(log)
    }
}

/// The audit form of a security event.
pub fn audit_event(event: &SecurityEvent) -> NewAuditEvent {
    let (actor_kind, actor_id) = match (&event.principal, &event.kind) {
        (Some(id), _) => (ActorKind::Principal, Some(id.clone())),
        // An administrative action without a principal was run by an operator (the CLI).
        (None, SecurityEventKind::AdminAction { .. }) => (ActorKind::System, None),
        (None, _) => (ActorKind::Anonymous, None),
    };
    // (outcome, details, tenant, the user the event is about, user agent)
    let (outcome, details, tenant, user, user_agent) = match &event.kind {
        SecurityEventKind::RateLimitBreach {
            group,
            key,
            blocked_for,
        } => (
            Outcome::Denied,
            json!({
                "group": group.as_str(),
                "key": match key { crate::ratelimit::KeyKind::Ip => "ip", crate::ratelimit::KeyKind::Principal => "principal" },
                "blocked_secs": blocked_for.map(|d| d.as_secs()),
            }),
            None,
            None,
            None,
        ),
        SecurityEventKind::PermissionDenied { permission } => (
            Outcome::Denied,
            json!({ "permission": permission }),
            None,
            None,
            None,
        ),
        SecurityEventKind::LoginFailed { account, tenant } => (
            Outcome::Failure,
            json!({ "account": account }),
            *tenant,
            None,
            None,
        ),
        SecurityEventKind::LoginSucceeded {
            user,
            tenant,
            user_agent,
        } => (
            Outcome::Success,
            json!({}),
            *tenant,
            Some(user),
            user_agent.clone(),
        ),
        SecurityEventKind::RoleChanged {
            user,
            tenant,
            from,
            to,
        } => (
            Outcome::Success,
            json!({ "from": from, "to": to }),
            *tenant,
            Some(user),
            None,
        ),
        SecurityEventKind::RefreshTokenReused { user, tenant } => {
            (Outcome::Denied, json!({}), *tenant, Some(user), None)
        }
        SecurityEventKind::AccountLocked {
            user,
            tenant,
            for_secs,
        } => (
            Outcome::Denied,
            json!({ "locked_secs": for_secs }),
            *tenant,
            Some(user),
            None,
        ),
        SecurityEventKind::TokenRevoked {
            user,
            tenant,
            reason,
        } => (
            Outcome::Success,
            json!({ "reason": reason }),
            *tenant,
            Some(user),
            None,
        ),
        SecurityEventKind::WebhookRejected { source, reason } => (
            Outcome::Denied,
            json!({ "source": source, "reason": reason }),
            None,
            None,
            None,
        ),
        SecurityEventKind::AdminAction {
            tenant, details, ..
        } => (Outcome::Success, details.clone(), *tenant, None, None),
    };
    let mut audit = NewAuditEvent::new(actor_kind, actor_id, event.kind.action())
        .outcome(outcome)
        .tenant(tenant)
        .source(event.ip.map(|ip| ip.to_string()), user_agent)
        .details(details);
    if let Some(user) = user {
        audit = audit.target("user", Some(user.clone()));
    }
    audit.at = event.at;
    if let SecurityEventKind::AdminAction {
        target: Some((kind, id)),
        ..
    } = &event.kind
    {
        audit = audit.target(*kind, Some(id.clone()));
    } else if let (None, Some(route)) = (user, &event.route) {
        audit = audit.target("route", Some(route.clone()));
    }
    audit
}

impl EventSink for AuditSink {
    fn record(&self, event: &SecurityEvent) {
        self.0.enqueue(audit_event(event));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratelimit::{Group, KeyKind};
    use std::time::Duration;

    #[test]
    fn security_events_map_to_denied_audit_events_without_credentials() {
        let event = SecurityEvent {
            kind: SecurityEventKind::RateLimitBreach {
                group: Group::Auth,
                key: KeyKind::Ip,
                blocked_for: Some(Duration::from_secs(60)),
            },
            at: crate::domain::time::now(),
            ip: Some("192.0.2.7".parse().unwrap()),
            principal: None,
            route: Some("/api/v1/auth/login".into()),
        };
        let audit = audit_event(&event);
        assert_eq!(audit.action, "rate_limit.block");
        assert_eq!(audit.outcome, Outcome::Denied);
        assert_eq!(audit.actor_kind, ActorKind::Anonymous);
        assert_eq!(audit.source_ip.as_deref(), Some("192.0.2.7"));
        assert_eq!(audit.target_id.as_deref(), Some("/api/v1/auth/login"));
        assert_eq!(audit.details["blocked_secs"], 60);
        assert_eq!(audit.at, event.at);
    }

    #[test]
    fn identity_events_name_the_user_tenant_and_outcome() {
        let tenant = crate::domain::TenantId::new();
        let event = SecurityEvent {
            kind: SecurityEventKind::RoleChanged {
                user: "u42".into(),
                tenant: Some(tenant),
                from: Some("viewer".into()),
                to: "admin".into(),
            },
            at: crate::domain::time::now(),
            ip: Some("192.0.2.8".parse().unwrap()),
            principal: Some("u1".into()),
            route: Some("/api/v1/users/{id}".into()),
        };
        let audit = audit_event(&event);
        assert_eq!(audit.action, "user.role_changed");
        assert_eq!(
            (audit.outcome, audit.tenant),
            (Outcome::Success, Some(tenant))
        );
        assert_eq!(
            (audit.target_type.as_deref(), audit.target_id.as_deref()),
            (Some("user"), Some("u42"))
        );
        assert_eq!(audit.details["to"], "admin");
        let failed = SecurityEvent {
            kind: SecurityEventKind::LoginFailed {
                account: "j•••@example.com".into(),
                tenant: None,
            },
            ..event
        };
        assert_eq!(audit_event(&failed).outcome, Outcome::Failure);
    }
}
