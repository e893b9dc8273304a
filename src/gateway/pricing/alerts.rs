//! Unpriced calls made visible: each one counts in `auditpulse_llm_unpriced_calls_total{provider}`,
//! and the first call of a model the catalog does not know raises an `unpriced_model` alert for
//! the tenant, once per tenant, provider and model per day.
//!
//! Invariant: cheap on the recorder's path: an in-memory set (bounded, cleared each day)
//! decides, and the alert is stored off the path; the metric's only label is the provider
//! (two values), never the model a caller named.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;

use crate::domain::{time, TenantId};
use crate::gateway::calls::record::Observer;
use crate::gateway::calls::{CallCost, CostStatus, NewCall};
use crate::gateway::Provider;
use crate::metrics::Metrics;
use crate::security::{AlertDraft, MonitorStore, SecurityAlert, SecurityAlertKind, Severity};

/// Alerts remembered per day at most; beyond it, calls still count but raise no more alerts.
const MAX_SEEN: usize = 10_000;
/// A model name in an alert is cut to this many characters.
const MAX_MODEL: usize = 200;

/// Which tenants' models already raised today's alert.
type Seen = (NaiveDate, HashSet<(TenantId, Provider, String)>);

/// The recorder's observer for unpriced calls.
pub struct UnpricedAlerts {
    alerts: Arc<dyn MonitorStore>,
    metrics: Arc<Metrics>,
    seen: Mutex<Seen>,
}

impl UnpricedAlerts {
    pub fn new(alerts: Arc<dyn MonitorStore>, metrics: Arc<Metrics>) -> Self {
        Self {
            alerts,
            metrics,
            seen: Mutex::new((NaiveDate::MIN, HashSet::new())),
        }
    }

    /// Whether this is the first unpriced call of the model today for the tenant.
    fn first_today(&self, tenant: TenantId, provider: Provider, model: &str) -> bool {
        let today = time::now().date_naive();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.0 != today {
            *seen = (today, HashSet::new());
        }
        if seen.1.len() >= MAX_SEEN {
            return false;
        }
        seen.1.insert((tenant, provider, model.to_owned()))
    }
}

impl Observer for UnpricedAlerts {
    fn written(&self, tenant: TenantId, call: &NewCall, cost: &CallCost) {
        if cost.status != CostStatus::Unpriced {
            return;
        }
        self.metrics.llm_unpriced_call(call.provider.as_str());
        let model: String = call
            .model_answered
            .as_deref()
            .or(call.model_requested.as_deref())
            .unwrap_or("")
            .chars()
            .take(MAX_MODEL)
            .collect();
        if !self.first_today(tenant, call.provider, &model) {
            return;
        }
        let alert = SecurityAlert::from_draft(AlertDraft {
            kind: SecurityAlertKind::UnpricedModel,
            severity: Severity::Medium,
            tenant: Some(tenant),
            subject: format!("model {}/{model}", call.provider.as_str()),
            summary: format!(
                "LLM calls to {model} ({}) are not priced: the price catalog does not know the \
                 model; set an override or import a newer catalog, then `auditpulse prices reprice --unpriced`",
                call.provider.as_str()
            ),
            evidence: serde_json::json!({ "provider": call.provider, "model": model }),
        });
        self.metrics
            .alert_raised(alert.kind.as_str(), alert.severity.as_str());
        let alerts = self.alerts.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = alerts.insert_alert(&alert).await {
                    tracing::warn!(error = %e, "the unpriced-model alert could not be stored");
                }
            });
        }
    }
}
