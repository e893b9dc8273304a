//! The one interface through which security events leave the code that detects them.
//!
//! Invariant: every security event is counted and logged here (at WARN for trouble, INFO for the
//! service at work; see `log`), then handed to each registered sink. Sinks must not block (the durable audit store arrives as a sink that queues). Events
//! never carry secrets: principals are named by id, never by credential.

mod log;

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::TenantId;
use crate::ratelimit::{Group, KeyKind};

#[derive(Debug, Clone, PartialEq)]
pub enum SecurityEventKind {
    /// A client hit its rate limit (first refusal of an episode) or was blocked for hitting it.
    RateLimitBreach {
        group: Group,
        key: KeyKind,
        blocked_for: Option<Duration>,
    },
    /// An authenticated principal asked for something its role does not allow.
    PermissionDenied { permission: &'static str },
    /// A login attempt failed. `account` names the account tried (a user id, or the masked
    /// e-mail when no such user exists), never the password.
    LoginFailed {
        account: String,
        tenant: Option<TenantId>,
    },
    /// A user logged in (the event's `ip` is where from).
    LoginSucceeded {
        user: String,
        tenant: Option<TenantId>,
        user_agent: Option<String>,
    },
    /// A user's role changed; `to` is a role name or `system_admin`.
    RoleChanged {
        user: String,
        tenant: Option<TenantId>,
        from: Option<String>,
        to: String,
    },
    /// A refresh token was presented a second time: a sign of theft.
    RefreshTokenReused {
        user: String,
        tenant: Option<TenantId>,
    },
    /// An account was locked after repeated failed logins, for `for_secs`.
    AccountLocked {
        user: String,
        tenant: Option<TenantId>,
        for_secs: u64,
    },
    /// Sessions or tokens of a user were ended before their expiry (`reason` says why).
    TokenRevoked {
        user: String,
        tenant: Option<TenantId>,
        reason: &'static str,
    },
    /// An unauthenticated inbound call that claimed to come from a third party (a Plaid webhook)
    /// failed verification and was not acted on. `reason` says which check failed.
    WebhookRejected {
        source: &'static str,
        reason: String,
    },
    /// An administrative change: `action` names it (`tenant.create`, `tenant.delete`,
    /// `keys.rotate`...), `target` is what it changed. `details` never holds secrets.
    AdminAction {
        action: &'static str,
        target: Option<(&'static str, String)>,
        tenant: Option<TenantId>,
        details: serde_json::Value,
    },
}

impl SecurityEventKind {
    pub fn action(&self) -> &'static str {
        match self {
            SecurityEventKind::RateLimitBreach {
                blocked_for: None, ..
            } => "rate_limit.breach",
            SecurityEventKind::RateLimitBreach {
                blocked_for: Some(_),
                ..
            } => "rate_limit.block",
            SecurityEventKind::PermissionDenied { .. } => "permission.denied",
            SecurityEventKind::LoginFailed { .. } => "auth.login_failed",
            SecurityEventKind::LoginSucceeded { .. } => "auth.login",
            SecurityEventKind::RoleChanged { .. } => "user.role_changed",
            SecurityEventKind::RefreshTokenReused { .. } => "auth.refresh_token_reused",
            SecurityEventKind::AccountLocked { .. } => "auth.account_locked",
            SecurityEventKind::TokenRevoked { .. } => "auth.token_revoked",
            SecurityEventKind::WebhookRejected { .. } => "webhook.rejected",
            SecurityEventKind::AdminAction { action, .. } => action,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SecurityEvent {
    pub kind: SecurityEventKind,
    pub at: DateTime<Utc>,
    pub ip: Option<IpAddr>,
    /// Principal id (user or API key public id), never a credential.
    pub principal: Option<String>,
    /// Route template, never the raw path or query.
    pub route: Option<String>,
}

/// Receives every security event.
pub trait EventSink: Send + Sync {
    fn record(&self, event: &SecurityEvent);

    /// A request refused by a rate limiter that was not itself a breach event.
    fn refused(&self) {}
}

/// Counters of security events, read by metrics and tests.
#[derive(Debug, Default)]
pub struct SecurityCounters {
    rate_limit_breaches: AtomicU64,
    rate_limit_blocks: AtomicU64,
    rate_limited_requests: AtomicU64,
}

impl SecurityCounters {
    pub fn rate_limit_breaches(&self) -> u64 {
        self.rate_limit_breaches.load(Ordering::Relaxed)
    }

    pub fn rate_limit_blocks(&self) -> u64 {
        self.rate_limit_blocks.load(Ordering::Relaxed)
    }

    /// Every request refused by a rate limiter, breach or not.
    pub fn rate_limited_requests(&self) -> u64 {
        self.rate_limited_requests.load(Ordering::Relaxed)
    }
}

#[derive(Default)]
pub struct Events {
    sinks: Vec<Arc<dyn EventSink>>,
    counters: SecurityCounters,
}

impl Events {
    pub fn new(sinks: Vec<Arc<dyn EventSink>>) -> Self {
        Self {
            sinks,
            counters: SecurityCounters::default(),
        }
    }

    pub fn counters(&self) -> &SecurityCounters {
        &self.counters
    }

    /// Records an administrative change made by `principal` (audit trail, metrics, logs).
    pub fn admin_action(
        &self,
        principal: &str,
        ip: std::net::IpAddr,
        action: &'static str,
        target: Option<(&'static str, String)>,
        tenant: Option<crate::domain::TenantId>,
        details: serde_json::Value,
    ) {
        self.emit(SecurityEvent {
            kind: SecurityEventKind::AdminAction {
                action,
                target,
                tenant,
                details,
            },
            at: crate::domain::time::now(),
            ip: Some(ip),
            principal: Some(principal.to_owned()),
            route: None,
        });
    }

    pub fn emit(&self, event: SecurityEvent) {
        if let SecurityEventKind::RateLimitBreach { blocked_for, .. } = &event.kind {
            self.counters
                .rate_limit_breaches
                .fetch_add(1, Ordering::Relaxed);
            if blocked_for.is_some() {
                self.counters
                    .rate_limit_blocks
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
        log::write(&event);
        for sink in &self.sinks {
            sink.record(&event);
        }
    }

    /// Counts a refused request that is not itself a breach event.
    pub fn count_refusal(&self) {
        self.counters
            .rate_limited_requests
            .fetch_add(1, Ordering::Relaxed);
        for sink in &self.sinks {
            sink.refused();
        }
    }
}
