//! LLM spend metrics: cost and tokens by tenant, application, provider and model; calls by
//! provider, outcome and cost status; the latency the gateway adds to a call.
//!
//! Invariant: labels stay bounded. Tenant (its id) and provider are bounded by the tenants and
//! the providers; outcome, cost status and token kind are fixed enums. Application and model
//! come from clients, so each keeps at most [`MAX_VALUES`] distinct values per tenant (the first
//! seen since start); later ones are counted under `other`, and a call without one under `none`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::domain::TenantId;
use crate::gateway::calls::record::Observer;
use crate::gateway::calls::{CallCost, NewCall};

/// Distinct applications (and, apart, models) labelled per tenant.
pub const MAX_VALUES: usize = 100;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SpendLabels {
    tenant: String,
    application: String,
    provider: String,
    model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    tenant: String,
    application: String,
    provider: String,
    model: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    provider: String,
    outcome: String,
    cost_status: String,
}

/// Which label a capped value is for.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
enum Capped {
    Application,
    Model,
}

pub(super) struct LlmMetrics {
    cost: Family<SpendLabels, Counter<f64, AtomicU64>>,
    tokens: Family<TokenLabels, Counter>,
    calls: Family<CallLabels, Counter>,
    added_latency: Histogram,
    seen: Mutex<HashMap<(TenantId, Capped), HashSet<String>>>,
}

impl LlmMetrics {
    pub(super) fn new() -> Self {
        LlmMetrics {
            cost: Family::default(),
            tokens: Family::default(),
            calls: Family::default(),
            // 0.1 ms to about 3 s.
            added_latency: Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
            seen: Mutex::new(HashMap::new()),
        }
    }

    pub(super) fn register(&self, registry: &mut Registry) {
        registry.register(
            "llm_cost_usd",
            "Cost of priced LLM calls in USD by tenant, application, provider and model",
            self.cost.clone(),
        );
        registry.register(
            "llm_tokens",
            "LLM tokens by tenant, application, provider, model and kind",
            self.tokens.clone(),
        );
        registry.register(
            "llm_calls",
            "LLM calls by provider, outcome and cost status",
            self.calls.clone(),
        );
        registry.register(
            "gateway_added_latency_seconds",
            "Time the gateway spent on a whole (not streamed) call itself: before the request \
             was sent upstream, plus from the provider's whole answer read to the answer handed on",
            self.added_latency.clone(),
        );
    }

    pub(super) fn added_latency(&self, seconds: f64) {
        self.added_latency.observe(seconds);
    }

    /// `value` as a label: itself while the tenant has fewer than [`MAX_VALUES`] for this
    /// label, else `other`; `none` when absent.
    fn capped(&self, tenant: TenantId, label: Capped, value: Option<&str>) -> String {
        let Some(value) = value else {
            return "none".to_owned();
        };
        let Ok(mut seen) = self.seen.lock() else {
            return "other".to_owned();
        };
        let values = seen.entry((tenant, label)).or_default();
        if values.contains(value) {
            return value.to_owned();
        }
        if values.len() < MAX_VALUES {
            values.insert(value.to_owned());
            return value.to_owned();
        }
        "other".to_owned()
    }
}

impl Observer for LlmMetrics {
    fn written(&self, tenant: TenantId, call: &NewCall, cost: &CallCost) {
        let provider = call.provider.as_str().to_owned();
        self.calls
            .get_or_create(&CallLabels {
                provider: provider.clone(),
                outcome: call.outcome.as_str().to_owned(),
                cost_status: cost.status.as_str().to_owned(),
            })
            .inc();
        let model = call
            .model_answered
            .as_deref()
            .or(call.model_requested.as_deref());
        let spend = SpendLabels {
            tenant: tenant.to_string(),
            application: self.capped(
                tenant,
                Capped::Application,
                call.attribution.application.as_deref(),
            ),
            provider,
            model: self.capped(tenant, Capped::Model, model),
        };
        if let Some(nanos) = cost.cost {
            // A metric, not an amount: f64 dollars are fine here; the ledger keeps the nanos.
            self.cost.get_or_create(&spend).inc_by(nanos.0 as f64 / 1e9);
        }
        let Some(usage) = call.usage else { return };
        for (kind, n) in [
            ("input", usage.input),
            ("cache_read", usage.cache_read),
            ("cache_write_5m", usage.cache_write_5m),
            ("cache_write_1h", usage.cache_write_1h),
            ("output", usage.output),
            ("reasoning", usage.reasoning),
        ] {
            if n > 0 {
                let labels = TokenLabels {
                    tenant: spend.tenant.clone(),
                    application: spend.application.clone(),
                    provider: spend.provider.clone(),
                    model: spend.model.clone(),
                    kind: kind.to_owned(),
                };
                self.tokens.get_or_create(&labels).inc_by(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_named_labels_are_capped_per_tenant() {
        let m = LlmMetrics::new();
        let (a, b) = (TenantId::new(), TenantId::new());
        for i in 0..MAX_VALUES {
            assert_eq!(
                m.capped(a, Capped::Model, Some(&format!("m{i}"))),
                format!("m{i}")
            );
        }
        assert_eq!(m.capped(a, Capped::Model, Some("late")), "other");
        assert_eq!(
            m.capped(a, Capped::Model, Some("m7")),
            "m7",
            "a known value stays"
        );
        assert_eq!(m.capped(a, Capped::Application, Some("late")), "late");
        assert_eq!(m.capped(b, Capped::Model, Some("late")), "late");
        assert_eq!(m.capped(a, Capped::Model, None), "none");
    }
}
