//! How a security event is written to the log.
//!
//! Invariant: threats and refusals (rate limits, denials, failed logins, locked accounts, a reused
//! refresh token) log at WARN; ordinary operations (logins, role changes, ended sessions,
//! administrative changes) at INFO. Every field is a plain value (ids, names, a JSON object of
//! details), never a `Debug` dump, and none holds a secret: events carry none.

use serde_json::{json, Value};

use super::{SecurityEvent, SecurityEventKind};
use crate::domain::TenantId;
use crate::ratelimit::KeyKind;

/// Whether an event is a sign of trouble (WARN) rather than the service working (INFO).
pub fn is_warning(kind: &SecurityEventKind) -> bool {
    matches!(
        kind,
        SecurityEventKind::RateLimitBreach { .. }
            | SecurityEventKind::PermissionDenied { .. }
            | SecurityEventKind::LoginFailed { .. }
            | SecurityEventKind::RefreshTokenReused { .. }
            | SecurityEventKind::AccountLocked { .. }
            | SecurityEventKind::WebhookRejected { .. }
    )
}

/// What the event is about beyond its action: (tenant, target, details).
fn fields(kind: &SecurityEventKind) -> (Option<TenantId>, Option<String>, Value) {
    let user = |id: &String| Some(format!("user:{id}"));
    match kind {
        SecurityEventKind::RateLimitBreach {
            group,
            key,
            blocked_for,
        } => {
            let key = match key {
                KeyKind::Ip => "ip",
                KeyKind::Principal => "principal",
            };
            let blocked = blocked_for.map(|d| d.as_secs());
            let details = json!({ "group": group.as_str(), "key": key, "blocked_secs": blocked });
            (None, None, details)
        }
        SecurityEventKind::PermissionDenied { permission } => {
            (None, None, json!({ "permission": permission }))
        }
        SecurityEventKind::LoginFailed { account, tenant } => {
            (*tenant, None, json!({ "account": account }))
        }
        SecurityEventKind::LoginSucceeded {
            user: id, tenant, ..
        }
        | SecurityEventKind::RefreshTokenReused { user: id, tenant } => {
            (*tenant, user(id), json!({}))
        }
        SecurityEventKind::RoleChanged {
            user: id,
            tenant,
            from,
            to,
        } => (*tenant, user(id), json!({ "from": from, "to": to })),
        SecurityEventKind::AccountLocked {
            user: id,
            tenant,
            for_secs,
        } => (*tenant, user(id), json!({ "locked_secs": for_secs })),
        SecurityEventKind::TokenRevoked {
            user: id,
            tenant,
            reason,
        } => (*tenant, user(id), json!({ "reason": reason })),
        SecurityEventKind::WebhookRejected { source, reason } => {
            (None, None, json!({ "source": source, "reason": reason }))
        }
        SecurityEventKind::AdminAction {
            target,
            tenant,
            details,
            ..
        } => {
            let target = target.as_ref().map(|(kind, id)| format!("{kind}:{id}"));
            (*tenant, target, details.clone())
        }
    }
}

/// Writes `event` at its level.
pub fn write(event: &SecurityEvent) {
    let (tenant, target, details) = fields(&event.kind);
    macro_rules! emit {
        ($level:ident) => {
            tracing::$level!(
                target: "auditpulse::security",
                action = event.kind.action(),
                ip = event.ip.map(tracing::field::display),
                principal = event.principal.as_deref(),
                tenant = tenant.map(tracing::field::display),
                target = target.as_deref(),
                details = %details,
                "security event"
            )
        };
    }
    if is_warning(&event.kind) {
        emit!(warn);
    } else {
        emit!(info);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_trouble_is_a_warning() {
        let login = SecurityEventKind::LoginSucceeded {
            user: "u1".into(),
            tenant: None,
            user_agent: None,
        };
        assert!(!is_warning(&login));
        let failed = SecurityEventKind::LoginFailed {
            account: "j•••@example.com".into(),
            tenant: None,
        };
        assert!(is_warning(&failed));
        let action = SecurityEventKind::AdminAction {
            action: "tenant.create",
            target: Some(("tenant", "t1".into())),
            tenant: None,
            details: json!({ "slug": "acme" }),
        };
        assert!(!is_warning(&action));
        let (_, target, details) = fields(&action);
        assert_eq!(target.as_deref(), Some("tenant:t1"));
        assert_eq!(details.to_string(), r#"{"slug":"acme"}"#);
    }
}
