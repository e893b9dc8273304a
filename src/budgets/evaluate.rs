//! The evaluation round, every few seconds in the background: for each tenant with budgets,
//! each budget's spend this period against its alert thresholds (an alert per threshold, once
//! per budget and period, through the security monitor's alert store), each enforcing budget's
//! counter brought up to date with the spend the gateway did not reserve (OTLP spans, bank
//! spend), and held reservations of calls that never ended (a crashed instance) expired.
//!
//! Invariant: a threshold's mark is taken before its alert is stored and given back if the
//! alert cannot be; two instances evaluating at once raise one alert.

use std::sync::Arc;
use std::time::Duration;

use super::model::{Budget, Fraction};
use super::service::{ratio, Budgets, Units};
use super::store::PeriodKey;
use crate::app::tasks::Aborting;
use crate::domain::{time, TenantId};
use crate::error::Result;
use crate::metrics::Metrics;
use crate::security::{AlertDraft, MonitorStore, SecurityAlert, SecurityAlertKind, Severity};
use crate::store::Time;

/// How often the round runs by default.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// The evaluator's parts.
#[derive(Clone)]
pub struct Evaluator {
    pub budgets: Arc<Budgets>,
    pub alerts: Arc<dyn MonitorStore>,
    pub metrics: Arc<Metrics>,
}

/// An alert's severity: reaching the whole amount (or more) is high, most of it medium.
fn severity(threshold: Fraction) -> Severity {
    match threshold.0 {
        t if t >= Fraction::ONE.0 => Severity::High,
        t if t >= 8_000 => Severity::Medium,
        _ => Severity::Low,
    }
}

fn describe(budget: &Budget) -> String {
    match &budget.scope.value {
        Some(value) => format!("{} {value}", budget.scope.kind.as_str()),
        None => "the whole tenant".to_owned(),
    }
}

impl Evaluator {
    /// One round over every tenant with budgets; errors are logged per tenant, never stop it.
    pub async fn round(&self) -> Result<()> {
        let expired = self
            .budgets
            .store
            .expire_reservations(Time(time::now()))
            .await?;
        if expired > 0 {
            tracing::warn!(
                expired,
                "budget reservations of calls that never ended expired"
            );
        }
        for tenant in self.budgets.store.tenants_with_budgets().await? {
            if let Err(e) = self.tenant(tenant).await {
                tracing::warn!(%tenant, error = %e, "budgets could not be evaluated");
            }
        }
        Ok(())
    }

    /// Evaluates one tenant's budgets now.
    pub async fn tenant(&self, tenant: TenantId) -> Result<()> {
        let of = self.budgets.of_tenant(tenant).await?;
        let now = time::now();
        for budget in of.budgets.iter() {
            let window = Budgets::window(budget, of.zone, now);
            let key = PeriodKey {
                budget: budget.id,
                start: window.from,
            };
            let spent = self.budgets.spent(tenant, budget, window, false).await?;
            if budget.enforces() {
                let other = self.budgets.spent(tenant, budget, window, true).await?;
                self.budgets
                    .store
                    .set_other(tenant, key, other, Time(now))
                    .await?;
            }
            let units = Units::of(budget);
            let limit = units.limit(budget);
            let used = ratio(spent, limit);
            for threshold in budget.alert_thresholds.iter().filter(|t| used >= t.0) {
                self.alert(tenant, budget, key, *threshold, &units, spent, limit)
                    .await?;
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn alert(
        &self,
        tenant: TenantId,
        budget: &Budget,
        key: PeriodKey,
        threshold: Fraction,
        units: &Units,
        spent: i64,
        limit: i64,
    ) -> Result<()> {
        let store = &self.budgets.store;
        if !store
            .mark_alerted(tenant, key, threshold.0, Time(time::now()))
            .await?
        {
            return Ok(());
        }
        let percent = threshold.0 / 100;
        let alert = SecurityAlert::from_draft(AlertDraft {
            kind: SecurityAlertKind::BudgetThreshold,
            severity: severity(threshold),
            tenant: Some(tenant),
            subject: format!("budget {}", budget.id),
            summary: format!(
                "Budget {:?} ({}, per {}) reached {percent} %: {} of {} {} spent this period",
                budget.name,
                describe(budget),
                budget.period.as_str(),
                units.text(spent),
                units.text(limit),
                budget.currency,
            ),
            evidence: serde_json::json!({
                "budget_id": budget.id,
                "budget": budget.name,
                "scope": budget.scope,
                "threshold": threshold,
                "period_start": key.start.0,
                "spent": units.text(spent),
                "amount": budget.amount,
                "currency": budget.currency,
            }),
        });
        if let Err(e) = self.alerts.insert_alert(&alert).await {
            store.unmark_alerted(tenant, key, threshold.0).await?;
            return Err(e);
        }
        self.metrics
            .alert_raised(alert.kind.as_str(), alert.severity.as_str());
        Ok(())
    }

    /// Runs [`Evaluator::round`] every `interval` until aborted.
    pub fn start(self, interval: Duration) -> Aborting {
        let handle = tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.round().await {
                    tracing::warn!(error = %e, "the budget evaluation round failed");
                }
            }
        });
        Aborting {
            name: "budget_evaluator",
            handle,
        }
    }
}
