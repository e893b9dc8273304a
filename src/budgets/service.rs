//! [`Budgets`]: create, change, list and delete a tenant's budgets; what a budget has spent in
//! its period; the evaluation round that raises threshold alerts and refreshes the counters the
//! gateway checks.
//!
//! Invariant: a budget's spend is read from the ledger's own tables (LLM calls priced, linked
//! OTLP duplicates excluded; bank spend events not removed), never kept apart from them; LLM
//! spend is in nano-dollars and a budget counting it converts its amount (and any bank spend in
//! the same currency) into nano-dollars, so no sum is ever rounded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::model::{
    Budget, BudgetInput, BudgetPatch, Counts, Fraction, NewBudget, Period, Scope, ScopeKind,
};
use super::period;
use super::store::{BudgetRow, BudgetStore, Matching, PeriodKey, Window};
use crate::domain::time::Timestamp;
use crate::domain::{time, BudgetId, Currency, Money, TenantId};
use crate::error::{Error, Result};
use crate::store::{IdentityStore, Time};

/// How long a tenant's budgets and time zone are trusted in memory before they are read again
/// (a change made on another instance reaches this one within it).
pub const CACHE_TTL: Duration = Duration::from_secs(2);

/// Nano-dollars per cent.
const NANOS_PER_CENT: i64 = 10_000_000;

/// A tenant's budgets as the gateway and the evaluator read them, with its time zone.
#[derive(Debug, Clone)]
pub struct TenantBudgets {
    pub zone: Tz,
    pub budgets: Arc<Vec<Budget>>,
}

/// The budgets service.
pub struct Budgets {
    pub store: Arc<dyn BudgetStore>,
    identity: Arc<dyn IdentityStore>,
    cache: Mutex<HashMap<TenantId, (Instant, TenantBudgets)>>,
}

/// A budget's amounts in its counting unit: nano-dollars when it counts LLM spend, otherwise
/// minor units of its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Units {
    pub currency: Currency,
    /// Counting units per minor unit of the currency.
    pub per_minor: i64,
}

impl Units {
    pub fn of(budget: &Budget) -> Self {
        let currency = Currency::parse(&budget.currency).unwrap_or(Currency::USD_NANO);
        let per_minor = if budget.spend.has_llm() {
            NANOS_PER_CENT
        } else {
            1
        };
        Units {
            currency,
            per_minor,
        }
    }

    /// The budget's amount in counting units.
    pub fn limit(&self, budget: &Budget) -> i64 {
        minor_of(budget).saturating_mul(self.per_minor)
    }

    /// Decimal text in major units of the currency (nine decimals for nano-dollars).
    pub fn text(&self, units: i64) -> String {
        if self.per_minor == NANOS_PER_CENT {
            Money::new(units, Currency::USD_NANO).decimal()
        } else {
            Money::new(units, self.currency).decimal()
        }
    }
}

/// The budget's amount in minor units, read back from its text.
fn minor_of(budget: &Budget) -> i64 {
    let exponent = Currency::parse(&budget.currency)
        .ok()
        .and_then(|c| c.exponent())
        .unwrap_or(0);
    crate::ledger::import::ofx::amount::parse_minor(&budget.amount, exponent).unwrap_or(0)
}

/// What a scope matches in the calls and the spend events.
pub fn matching(scope: &Scope) -> Matching {
    let value = scope.value.clone().unwrap_or_default();
    match scope.kind {
        ScopeKind::Tenant => Matching::Everything,
        ScopeKind::Application => Matching::Application(value),
        ScopeKind::Project => Matching::Project(value),
        ScopeKind::User => Matching::User(value),
        ScopeKind::ApiKey => value
            .parse()
            .map(Matching::ApiKey)
            .unwrap_or(Matching::Category(String::new())),
        ScopeKind::Account => value
            .parse()
            .map(Matching::Account)
            .unwrap_or(Matching::Category(String::new())),
        ScopeKind::Vendor => {
            Matching::Vendor(crate::ledger::counterparty::normalize(&value).unwrap_or(value))
        }
        ScopeKind::Category => Matching::Category(value),
    }
}

fn to_row(tenant: TenantId, id: BudgetId, b: &NewBudget, at: Timestamp, by: &str) -> BudgetRow {
    let thresholds: Vec<u32> = b.alert_thresholds.iter().map(|f| f.0).collect();
    BudgetRow {
        id,
        tenant_id: tenant,
        name: b.name.clone(),
        scope_kind: b.scope.kind.as_str().to_owned(),
        scope_value: b.scope.value.clone(),
        counts: b.counts.as_str().to_owned(),
        period: b.period.as_str().to_owned(),
        amount_minor: b.amount_minor,
        currency: b.currency.as_str().to_owned(),
        alert_thresholds: serde_json::to_string(&thresholds).unwrap_or_else(|_| "[]".into()),
        swap_threshold: b.swap_threshold.map(|f| i64::from(f.0)),
        model_chain: serde_json::to_string(&b.model_chain).unwrap_or_else(|_| "[]".into()),
        hard_limit: b.hard_limit,
        created_at: Time(at),
        updated_at: Time(at),
        updated_by: by.to_owned(),
    }
}

/// The budget a stored row describes; an error for a row this version did not write.
pub fn from_row(row: &BudgetRow) -> Result<Budget> {
    let corrupt = |what: &str| Error::Internal(anyhow::anyhow!("budget {}: bad {what}", row.id));
    let currency = Currency::parse(&row.currency).map_err(|_| corrupt("currency"))?;
    let thresholds: Vec<u32> =
        serde_json::from_str(&row.alert_thresholds).map_err(|_| corrupt("thresholds"))?;
    Ok(Budget {
        id: row.id,
        name: row.name.clone(),
        scope: Scope {
            kind: ScopeKind::parse(&row.scope_kind).ok_or_else(|| corrupt("scope"))?,
            value: row.scope_value.clone(),
        },
        spend: Counts::parse(&row.counts).ok_or_else(|| corrupt("spend"))?,
        period: Period::parse(&row.period).ok_or_else(|| corrupt("period"))?,
        amount: Money::new(row.amount_minor, currency).decimal(),
        currency: row.currency.clone(),
        alert_thresholds: thresholds.into_iter().map(Fraction).collect(),
        swap_threshold: row
            .swap_threshold
            .and_then(|t| u32::try_from(t).ok())
            .map(Fraction),
        model_chain: serde_json::from_str(&row.model_chain).map_err(|_| corrupt("model chain"))?,
        hard_limit: row.hard_limit,
        created_at: row.created_at.0,
        updated_at: row.updated_at.0,
        updated_by: row.updated_by.clone(),
    })
}

/// A budget's standing in its current period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct BudgetStatus {
    pub budget_id: BudgetId,
    pub period: Period,
    #[schema(value_type = String, format = DateTime)]
    pub period_start: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub period_end: Timestamp,
    pub currency: String,
    /// The budget's amount, decimal text in major units.
    pub amount: String,
    /// Spend counted so far this period (nine decimals when it counts LLM spend).
    pub spent: String,
    /// Held by the gateway for calls in flight, not yet recorded.
    pub reserved: String,
    /// The amount less spent and reserved; negative once spend went past it.
    pub remaining: String,
    /// Spent at the period's end at this period's rate so far.
    pub projection: String,
    /// Spent as a fraction of the amount, four decimals (`0.8123`).
    pub used: String,
    /// The alert thresholds reached.
    #[schema(value_type = Vec<f64>)]
    pub thresholds_reached: Vec<Fraction>,
    /// Above its swap threshold: the gateway swaps models.
    pub swapping: bool,
    /// At its hard limit: the gateway refuses calls.
    pub blocked: bool,
}

/// `part` of `whole` in parts per ten thousand, rounded down (0 for an empty whole).
pub fn ratio(part: i64, whole: i64) -> u32 {
    if whole <= 0 || part <= 0 {
        return 0;
    }
    let r = i128::from(part) * 10_000 / i128::from(whole);
    u32::try_from(r).unwrap_or(u32::MAX)
}

impl Budgets {
    pub fn new(store: Arc<dyn BudgetStore>, identity: Arc<dyn IdentityStore>) -> Self {
        Self {
            store,
            identity,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub async fn list(&self, tenant: TenantId) -> Result<Vec<Budget>> {
        self.store
            .budgets(tenant)
            .await?
            .iter()
            .map(from_row)
            .collect()
    }

    pub async fn get(&self, tenant: TenantId, id: BudgetId) -> Result<Budget> {
        let row = self
            .store
            .budget(tenant, id)
            .await?
            .ok_or(Error::NotFound)?;
        from_row(&row)
    }

    pub async fn create(&self, tenant: TenantId, input: &BudgetInput, by: &str) -> Result<Budget> {
        let checked = input.check()?;
        let row = to_row(tenant, BudgetId::new(), &checked, time::now(), by);
        self.store.insert_budget(&row).await?;
        self.changed(tenant);
        let budget = from_row(&row)?;
        self.refresh(tenant, &budget).await?;
        Ok(budget)
    }

    pub async fn update(
        &self,
        tenant: TenantId,
        id: BudgetId,
        patch: BudgetPatch,
        by: &str,
    ) -> Result<Budget> {
        let before = self.get(tenant, id).await?;
        let checked = patch.apply(before.input()).check()?;
        self.replace(tenant, &before, &checked, by).await
    }

    async fn replace(
        &self,
        tenant: TenantId,
        before: &Budget,
        checked: &NewBudget,
        by: &str,
    ) -> Result<Budget> {
        let mut row = to_row(tenant, before.id, checked, time::now(), by);
        row.created_at = Time(before.created_at);
        if !self.store.update_budget(&row).await? {
            return Err(Error::NotFound);
        }
        self.changed(tenant);
        let budget = from_row(&row)?;
        self.refresh(tenant, &budget).await?;
        Ok(budget)
    }

    /// Creates the budget, or replaces the tenant's budget of the same name (the YAML import:
    /// importing a file again changes nothing). The budget, and whether it was new.
    pub async fn put_by_name(
        &self,
        tenant: TenantId,
        input: &BudgetInput,
        by: &str,
    ) -> Result<(Budget, bool)> {
        let checked = input.check()?;
        let existing = self
            .list(tenant)
            .await?
            .into_iter()
            .find(|b| b.name == checked.name);
        match existing {
            Some(before) => Ok((self.replace(tenant, &before, &checked, by).await?, false)),
            None => Ok((self.create(tenant, input, by).await?, true)),
        }
    }

    pub async fn delete(&self, tenant: TenantId, id: BudgetId) -> Result<Budget> {
        let budget = self.get(tenant, id).await?;
        if !self.store.delete_budget(tenant, id).await? {
            return Err(Error::NotFound);
        }
        self.changed(tenant);
        Ok(budget)
    }

    /// Forgets the tenant's cached budgets (after a change made here).
    fn changed(&self, tenant: TenantId) {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&tenant);
    }

    /// The tenant's budgets and time zone, from memory when read in the last [`CACHE_TTL`].
    pub async fn of_tenant(&self, tenant: TenantId) -> Result<TenantBudgets> {
        if let Some((at, cached)) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&tenant)
        {
            if at.elapsed() < CACHE_TTL {
                return Ok(cached.clone());
            }
        }
        let budgets = Arc::new(self.list(tenant).await?);
        let zone = period::zone(&self.identity.tenant_time_zone(tenant).await?);
        let fresh = TenantBudgets { zone, budgets };
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() > 100_000 {
            cache.clear();
        }
        cache.insert(tenant, (Instant::now(), fresh.clone()));
        Ok(fresh)
    }

    /// The budget's period holding `at`, in the tenant's zone.
    pub fn window(budget: &Budget, zone: Tz, at: DateTime<Utc>) -> Window {
        let (from, to) = period::window(budget.period, zone, at);
        Window {
            from: Time(from),
            to: Time(to),
        }
    }

    /// Spend counted by the budget in `window`, in its units; without the calls reserved
    /// against it when `except_reserved` (those are in its counter).
    pub async fn spent(
        &self,
        tenant: TenantId,
        budget: &Budget,
        window: Window,
        except_reserved: bool,
    ) -> Result<i64> {
        let units = Units::of(budget);
        let matching = matching(&budget.scope);
        let mut sum = 0i64;
        if budget.spend.has_llm() {
            let except = except_reserved.then_some(budget.id);
            sum = sum.saturating_add(
                self.store
                    .llm_spent(tenant, &matching, window, except)
                    .await?,
            );
        }
        if budget.spend.has_bank() {
            let bank = self
                .store
                .bank_spent(tenant, &matching, &budget.currency, window)
                .await?;
            sum = sum.saturating_add(bank.saturating_mul(units.per_minor));
        }
        Ok(sum)
    }

    /// Recomputes the rest of an enforcing budget's period spend for the gateway's counter.
    pub async fn refresh(&self, tenant: TenantId, budget: &Budget) -> Result<()> {
        if !budget.enforces() {
            return Ok(());
        }
        let zone = self.of_tenant(tenant).await?.zone;
        let now = time::now();
        let window = Self::window(budget, zone, now);
        let other = self.spent(tenant, budget, window, true).await?;
        let key = PeriodKey {
            budget: budget.id,
            start: window.from,
        };
        self.store.set_other(tenant, key, other, Time(now)).await
    }

    /// The budget's standing at `now`.
    pub async fn status(
        &self,
        tenant: TenantId,
        id: BudgetId,
        now: DateTime<Utc>,
    ) -> Result<BudgetStatus> {
        let budget = self.get(tenant, id).await?;
        let zone = self.of_tenant(tenant).await?.zone;
        let window = Self::window(&budget, zone, now);
        let units = Units::of(&budget);
        let limit = units.limit(&budget);
        let spent = self.spent(tenant, &budget, window, false).await?;
        let key = PeriodKey {
            budget: budget.id,
            start: window.from,
        };
        let reserved = if budget.enforces() {
            self.store.reserved(tenant, key, Time(now)).await?
        } else {
            0
        };
        let used = ratio(spent, limit);
        let total = (window.to.0 - window.from.0).num_seconds().max(1);
        let elapsed = (now - window.from.0).num_seconds().clamp(1, total);
        let projection = i128::from(spent) * i128::from(total) / i128::from(elapsed);
        let committed = spent.saturating_add(reserved);
        Ok(BudgetStatus {
            budget_id: budget.id,
            period: budget.period,
            period_start: window.from.0,
            period_end: window.to.0,
            currency: budget.currency.clone(),
            amount: budget.amount.clone(),
            spent: units.text(spent),
            reserved: units.text(reserved),
            remaining: units.text(limit.saturating_sub(committed)),
            projection: units.text(i64::try_from(projection).unwrap_or(i64::MAX)),
            used: Fraction(used).to_string_fixed(),
            thresholds_reached: budget
                .alert_thresholds
                .iter()
                .copied()
                .filter(|t| used >= t.0)
                .collect(),
            swapping: budget.spend.has_llm()
                && budget
                    .swap_threshold
                    .is_some_and(|t| ratio(committed, limit) >= t.0),
            blocked: budget.hard_limit && committed >= limit,
        })
    }

    /// Settles the gateway's reservations of recorded calls with their exact costs (nothing to
    /// do for a tenant without budgets).
    pub async fn settle(
        &self,
        tenant: TenantId,
        rows: &[crate::gateway::calls::store::CallRow],
    ) -> Result<()> {
        let settlements: Vec<super::store::Settlement> = rows
            .iter()
            .filter(|r| r.source == crate::gateway::calls::CallSource::Gateway.as_str())
            .map(|r| super::store::Settlement {
                call: r.id,
                actual: r.cost_nanos.unwrap_or(0),
            })
            .collect();
        if settlements.is_empty() || self.of_tenant(tenant).await?.budgets.is_empty() {
            return Ok(());
        }
        self.store.settle(tenant, &settlements).await
    }
}
