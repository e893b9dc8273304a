//! Security monitoring: rules over the security-event stream raise security alerts (failed-login
//! spikes, logins from new places or at unusual hours, privilege escalation, API abuse,
//! refresh-token reuse), which are stored, counted in metrics and listed by the API. Named
//! `security` (not `monitor`, `alerts` or `detectors`) so spend detection and alert delivery can
//! own those words.
//!
//! Invariant: watching never slows a request down. Events reach the monitor through a bounded
//! queue; when it is full the event is dropped and counted, never waited for.

pub mod routes;
mod rules;
mod store;
mod window;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::Timelike;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub use rules::{judge_login, login_observations, LoginBaseline, MonitorConfig, SecurityRules};
pub use store::{MonitorStore, SecurityAlertFilter};
pub use window::{Threshold, WindowCounter};

use crate::domain::{time::Timestamp, TenantId};
use crate::events::{EventSink, SecurityEvent, SecurityEventKind};
use crate::metrics::Metrics;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecurityAlertKind {
    FailedLoginSpike,
    NewLoginSource,
    UnusualLoginHour,
    PrivilegeEscalation,
    ApiAbuse,
    RefreshTokenReuse,
    /// A bank connection (Plaid item) needs its owner: log in again through Link.
    BankConnectionAttention,
    /// LLM calls to a model the price catalog does not know: their cost is unknown.
    UnpricedModel,
    /// A budget's spend reached one of its alert thresholds this period.
    BudgetThreshold,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl SecurityAlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityAlertKind::FailedLoginSpike => "failed_login_spike",
            SecurityAlertKind::NewLoginSource => "new_login_source",
            SecurityAlertKind::UnusualLoginHour => "unusual_login_hour",
            SecurityAlertKind::PrivilegeEscalation => "privilege_escalation",
            SecurityAlertKind::ApiAbuse => "api_abuse",
            SecurityAlertKind::RefreshTokenReuse => "refresh_token_reuse",
            SecurityAlertKind::BankConnectionAttention => "bank_connection_attention",
            SecurityAlertKind::UnpricedModel => "unpriced_model",
            SecurityAlertKind::BudgetThreshold => "budget_threshold",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        ALL_KINDS.iter().copied().find(|k| k.as_str() == value)
    }
}

const ALL_KINDS: [SecurityAlertKind; 9] = [
    SecurityAlertKind::FailedLoginSpike,
    SecurityAlertKind::NewLoginSource,
    SecurityAlertKind::UnusualLoginHour,
    SecurityAlertKind::PrivilegeEscalation,
    SecurityAlertKind::ApiAbuse,
    SecurityAlertKind::RefreshTokenReuse,
    SecurityAlertKind::BankConnectionAttention,
    SecurityAlertKind::UnpricedModel,
    SecurityAlertKind::BudgetThreshold,
];

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }
}

/// An alert as a detector raises it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertDraft {
    pub kind: SecurityAlertKind,
    pub severity: Severity,
    /// The tenant it concerns; `None` for alerts only system administrators see (an IP, say).
    pub tenant: Option<TenantId>,
    /// What it is about: `user …`, `ip …`, `account …`, `tenant …`, `principal …`.
    pub subject: String,
    pub summary: String,
    /// The numbers behind it. Never secrets.
    pub evidence: serde_json::Value,
}

/// Where an alert stands. Security monitoring raises alerts open; acknowledging and resolving come
/// with alert delivery, which takes this model over for every source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Open,
    Acknowledged,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Open, Self::Acknowledged, Self::Resolved]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A stored alert: the first source of the one alert model (kind, severity, tenant,
/// deduplication key, what it is about, the numbers, state, how often raised).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SecurityAlert {
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
    pub kind: SecurityAlertKind,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<TenantId>,
    pub subject: String,
    pub summary: String,
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Alerts with the same key and tenant are the same matter (`kind:subject`).
    pub dedup_key: String,
    pub state: AlertState,
    /// How many times it has been raised.
    pub occurrences: u64,
}

impl SecurityAlert {
    pub fn from_draft(draft: AlertDraft) -> Self {
        let dedup_key = format!("{}:{}", draft.kind.as_str(), draft.subject);
        SecurityAlert {
            id: uuid::Uuid::now_v7(),
            kind: draft.kind,
            severity: draft.severity,
            tenant_id: draft.tenant,
            subject: draft.subject,
            summary: draft.summary,
            evidence: draft.evidence,
            created_at: crate::domain::time::now(),
            dedup_key,
            state: AlertState::Open,
            occurrences: 1,
        }
    }
}

/// Events waiting for the monitor; beyond this they are dropped (and counted).
const QUEUE: usize = 10_000;

/// The event sink side of the monitor.
pub struct Monitor {
    queue: mpsc::Sender<SecurityEvent>,
    dropped: AtomicU64,
}

impl Monitor {
    /// Events dropped because the monitor could not keep up.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl EventSink for Monitor {
    fn record(&self, event: &SecurityEvent) {
        if self.queue.try_send(event.clone()).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The running monitor: stop it with `stop`, which drains the queue first.
pub struct MonitorTask {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl MonitorTask {
    /// `false` once the task has ended.
    pub fn is_running(&self) -> bool {
        !self.task.is_finished()
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

pub fn start(
    store: Arc<dyn MonitorStore>,
    config: MonitorConfig,
    metrics: Arc<Metrics>,
) -> (Arc<Monitor>, MonitorTask) {
    let (queue, mut events) = mpsc::channel(QUEUE);
    let (stop, mut stopped) = watch::channel(false);
    let monitor = Arc::new(Monitor {
        queue,
        dropped: AtomicU64::new(0),
    });
    let task = tokio::spawn(async move {
        let mut detectors = SecurityRules::new(config);
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Some(event) => handle(&mut detectors, &*store, &metrics, &event).await,
                    None => break,
                },
                _ = stopped.changed() => {
                    while let Ok(event) = events.try_recv() {
                        handle(&mut detectors, &*store, &metrics, &event).await;
                    }
                    break;
                }
            }
        }
    });
    (monitor, MonitorTask { stop, task })
}

async fn handle(
    detectors: &mut SecurityRules,
    store: &dyn MonitorStore,
    metrics: &Metrics,
    event: &SecurityEvent,
) {
    let mut drafts = detectors.observe(event, Instant::now());
    if let SecurityEventKind::LoginSucceeded {
        user,
        tenant,
        user_agent,
    } = &event.kind
    {
        let ip = event.ip.map(|ip| ip.to_string());
        let agent = user_agent
            .as_deref()
            .map(|ua| ua.chars().take(256).collect::<String>());
        match store
            .observe_login(user, ip.as_deref(), agent.as_deref(), event.at.hour())
            .await
        {
            Ok(before) => drafts.extend(judge_login(
                detectors.config(),
                event,
                user,
                *tenant,
                agent.as_deref(),
                event.at.hour(),
                &before,
            )),
            Err(error) => {
                tracing::error!(error = %crate::error::cause_chain(&error), "monitor: cannot read login history")
            }
        }
    }
    for draft in drafts {
        let alert = SecurityAlert::from_draft(draft);
        metrics.alert_raised(alert.kind.as_str(), alert.severity.as_str());
        tracing::warn!(
            target: "auditpulse::security",
            kind = alert.kind.as_str(),
            severity = alert.severity.as_str(),
            subject = %alert.subject,
            "security alert: {}",
            alert.summary
        );
        if let Err(error) = store.insert_alert(&alert).await {
            tracing::error!(error = %crate::error::cause_chain(&error), "monitor: cannot store an alert");
        }
    }
}
