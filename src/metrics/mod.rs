//! Prometheus metrics: HTTP traffic by route template and status, security events, database
//! pool usage, and LLM spend (`llm`: cost, tokens, calls, the gateway's added latency), served
//! on their own listener (`AUDITPULSE_METRICS_LISTEN`) so they are never exposed with the API.
//!
//! Invariant: labels have bounded values (route templates, never raw paths; fixed enums; client
//! named LLM applications and models capped per tenant), so a client cannot grow the series
//! count.

mod llm;
mod server;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

pub use llm::MAX_VALUES as MAX_LLM_LABEL_VALUES;
pub use server::serve;

use crate::domain::TenantId;
use crate::events::{EventSink, SecurityEvent, SecurityEventKind};
use crate::gateway::calls::record::Observer;
use crate::gateway::calls::{CallCost, NewCall};
use crate::jobs::{JobCount, JobState};
use crate::store::PoolStats;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    group: String,
    key: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AlertLabels {
    kind: String,
    severity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: String,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to about 16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    security_events: Family<ActionLabels, Counter>,
    rate_limit_breaches: Family<LimitLabels, Counter>,
    rate_limited_requests: Counter,
    permission_denials: Counter,
    db_connections: Family<PoolLabels, Gauge>,
    db_max_connections: Gauge,
    alerts: Family<AlertLabels, Counter>,
    failed_logins: Counter,
    lockouts: Counter,
    token_revocations: Counter,
    refresh_token_reuse: Counter,
    role_changes: Counter,
    admin_actions: Family<ActionLabels, Counter>,
    audit_events: Family<ActionLabels, Counter>,
    jobs: Family<JobLabels, Gauge>,
    llm: llm::LlmMetrics,
    llm_unpriced_calls: Family<ProviderLabels, Counter>,
    otlp_spans: Family<OutcomeLabels, Counter>,
    budget_decisions: Family<OutcomeLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("auditpulse");
        let metrics = Self {
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(latency_histogram),
            security_events: Family::default(),
            rate_limit_breaches: Family::default(),
            rate_limited_requests: Counter::default(),
            permission_denials: Counter::default(),
            db_connections: Family::default(),
            db_max_connections: Gauge::default(),
            alerts: Family::default(),
            failed_logins: Counter::default(),
            lockouts: Counter::default(),
            token_revocations: Counter::default(),
            refresh_token_reuse: Counter::default(),
            role_changes: Counter::default(),
            admin_actions: Family::default(),
            audit_events: Family::default(),
            jobs: Family::default(),
            llm: llm::LlmMetrics::new(),
            llm_unpriced_calls: Family::default(),
            otlp_spans: Family::default(),
            budget_decisions: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests by method, route template and status",
            metrics.http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method and route template",
            metrics.http_duration.clone(),
        );
        registry.register(
            "security_events",
            "Security events by action",
            metrics.security_events.clone(),
        );
        registry.register(
            "rate_limit_breaches",
            "Rate-limit breaches and blocks by route group and key kind",
            metrics.rate_limit_breaches.clone(),
        );
        registry.register(
            "rate_limited_requests",
            "Requests refused by a rate limiter",
            metrics.rate_limited_requests.clone(),
        );
        registry.register(
            "permission_denials",
            "Requests refused for lack of a permission",
            metrics.permission_denials.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database pool connections by state",
            metrics.db_connections.clone(),
        );
        registry.register(
            "db_pool_max_connections",
            "Database pool size limit",
            metrics.db_max_connections.clone(),
        );
        registry.register(
            "security_alerts",
            "Security alerts raised by kind and severity",
            metrics.alerts.clone(),
        );
        registry.register(
            "failed_logins",
            "Failed login attempts",
            metrics.failed_logins.clone(),
        );
        registry.register(
            "account_lockouts",
            "Accounts locked after failed logins",
            metrics.lockouts.clone(),
        );
        registry.register(
            "token_revocations",
            "Sessions or tokens ended before expiry",
            metrics.token_revocations.clone(),
        );
        registry.register(
            "refresh_token_reuse",
            "Refresh tokens presented twice (theft detected)",
            metrics.refresh_token_reuse.clone(),
        );
        registry.register(
            "role_changes",
            "User role and permission changes",
            metrics.role_changes.clone(),
        );
        registry.register(
            "admin_actions",
            "Administrative changes by action",
            metrics.admin_actions.clone(),
        );
        registry.register(
            "audit_events",
            "Events appended to the audit trail by action",
            metrics.audit_events.clone(),
        );
        registry.register(
            "jobs",
            "Background jobs by kind and state, sampled at scrape",
            metrics.jobs.clone(),
        );
        metrics.llm.register(&mut registry);
        registry.register(
            "llm_unpriced_calls",
            "LLM calls whose model the price catalog does not know, by provider",
            metrics.llm_unpriced_calls.clone(),
        );
        registry.register(
            "otlp_spans",
            "OTLP spans received, by outcome: call (an LLM call recorded), ignored (no LLM call \
             in it), rejected (an LLM call that could not be used)",
            metrics.otlp_spans.clone(),
        );
        registry.register(
            "budget_decisions",
            "Gateway calls a budget acted on, by outcome: swapped (sent with the next model of a \
             chain), refused (at a hard limit)",
            metrics.budget_decisions.clone(),
        );
        Self {
            registry,
            ..metrics
        }
    }

    /// The time the gateway itself spent on one whole answered call.
    pub fn gateway_added_latency(&self, seconds: f64) {
        self.llm.added_latency(seconds);
    }

    /// OTLP spans by outcome: `call`, `ignored` or `rejected`.
    pub fn otlp_spans(&self, outcome: &'static str, count: u64) {
        self.otlp_spans
            .get_or_create(&OutcomeLabels { outcome })
            .inc_by(count);
    }

    /// A gateway call a budget acted on: `swapped` or `refused`.
    pub fn budget_decision(&self, outcome: &'static str) {
        self.budget_decisions
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// An event appended to the audit trail.
    pub fn audit_event(&self, action: &str) {
        self.audit_events
            .get_or_create(&ActionLabels {
                action: action.to_owned(),
            })
            .inc();
    }

    /// An LLM call the catalog could not price (`provider` is one of the fixed provider names).
    pub fn llm_unpriced_call(&self, provider: &str) {
        self.llm_unpriced_calls
            .get_or_create(&ProviderLabels {
                provider: provider.to_owned(),
            })
            .inc();
    }

    pub fn alert_raised(&self, kind: &str, severity: &str) {
        self.alerts
            .get_or_create(&AlertLabels {
                kind: kind.to_owned(),
                severity: severity.to_owned(),
            })
            .inc();
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let (method, route) = (method.to_owned(), route.to_owned());
        self.http_duration
            .get_or_create(&RouteLabels {
                method: method.clone(),
                route: route.clone(),
            })
            .observe(seconds);
        self.http_requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
    }

    /// Sets the job gauges: every state of every kind counted (zero where none is in it).
    pub fn set_jobs(&self, counts: &[JobCount]) {
        for count in counts {
            for state in JobState::ALL {
                let n = counts
                    .iter()
                    .find(|c| c.kind == count.kind && c.state == state)
                    .map_or(0, |c| c.count);
                let labels = JobLabels {
                    kind: count.kind.clone(),
                    state: state.as_str().to_owned(),
                };
                self.jobs
                    .get_or_create(&labels)
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
    }

    /// The exposition text, with the database pool sampled now.
    pub fn render(&self, pool: PoolStats) -> String {
        let in_use = pool.size.saturating_sub(pool.idle);
        self.db_connections
            .get_or_create(&PoolLabels {
                state: "idle".into(),
            })
            .set(i64::from(pool.idle));
        self.db_connections
            .get_or_create(&PoolLabels {
                state: "in_use".into(),
            })
            .set(i64::from(in_use));
        self.db_max_connections.set(i64::from(pool.max));
        let mut text = String::new();
        if let Err(error) = encode(&mut text, &self.registry) {
            tracing::error!(%error, "cannot encode metrics");
        }
        text
    }
}

impl Observer for Metrics {
    fn written(&self, tenant: TenantId, call: &NewCall, cost: &CallCost) {
        self.llm.written(tenant, call, cost);
    }
}

impl EventSink for Metrics {
    fn record(&self, event: &SecurityEvent) {
        self.security_events
            .get_or_create(&ActionLabels {
                action: event.kind.action().to_owned(),
            })
            .inc();
        match &event.kind {
            SecurityEventKind::RateLimitBreach { group, key, .. } => {
                let key = format!("{key:?}").to_lowercase();
                self.rate_limit_breaches
                    .get_or_create(&LimitLabels {
                        group: group.as_str().to_owned(),
                        key,
                    })
                    .inc();
            }
            SecurityEventKind::PermissionDenied { .. } => {
                self.permission_denials.inc();
            }
            SecurityEventKind::LoginFailed { .. } => {
                self.failed_logins.inc();
            }
            SecurityEventKind::AccountLocked { .. } => {
                self.lockouts.inc();
            }
            SecurityEventKind::TokenRevoked { .. } => {
                self.token_revocations.inc();
            }
            SecurityEventKind::RefreshTokenReused { .. } => {
                self.refresh_token_reuse.inc();
            }
            SecurityEventKind::RoleChanged { .. } => {
                self.role_changes.inc();
            }
            SecurityEventKind::AdminAction { action, .. } => {
                self.admin_actions
                    .get_or_create(&ActionLabels {
                        action: (*action).to_owned(),
                    })
                    .inc();
            }
            SecurityEventKind::LoginSucceeded { .. }
            | SecurityEventKind::WebhookRejected { .. } => {}
        }
    }

    fn refused(&self) {
        self.rate_limited_requests.inc();
    }
}
