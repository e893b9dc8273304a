//! Budget storage: the budgets, each enforcing budget's counter per period, the gateway's
//! reservations and the thresholds already alerted. The SQL is written once in `sql`; `sqlite`
//! and `postgres` open the transactions (row-level-security scoped on PostgreSQL, row locks
//! where SQLite's single writer needs none).
//!
//! Invariant: a reservation is checked and taken in one transaction that holds its counters'
//! rows, so `committed + other` of a period never passes what [`BudgetStore::reserve_batch`]'s caller
//! allowed; settling and expiring move a reservation's amount exactly once (its state is the
//! guard). Every statement names the tenant, except the evaluator's and the sweeper's system
//! reads across tenants.

mod postgres;
mod sql;
mod sqlite;

use async_trait::async_trait;
use sqlx::FromRow;

use crate::domain::{AccountId, ApiKeyId, BudgetId, LlmCallId, TenantId};
use crate::error::Result;
use crate::store::codec::sql_id;
use crate::store::Time;

sql_id!(BudgetId);

/// A budget as stored.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct BudgetRow {
    pub id: BudgetId,
    pub tenant_id: TenantId,
    pub name: String,
    pub scope_kind: String,
    pub scope_value: Option<String>,
    pub counts: String,
    pub period: String,
    pub amount_minor: i64,
    pub currency: String,
    /// JSON array of parts per ten thousand.
    pub alert_thresholds: String,
    pub swap_threshold: Option<i64>,
    /// JSON array of model names.
    pub model_chain: String,
    pub hard_limit: bool,
    pub created_at: Time,
    pub updated_at: Time,
    pub updated_by: String,
}

/// One budget's period: the counter's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PeriodKey {
    pub budget: BudgetId,
    pub start: Time,
}

/// An enforcing budget's counter for one period, nano-dollars.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromRow)]
pub struct Counter {
    /// Reserved for calls in flight, plus the exact cost of those calls once recorded.
    pub committed: i64,
    /// The rest of the period's spend, as last evaluated.
    pub other: i64,
}

/// Which LLM calls or bank spend events a budget's scope matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matching {
    Everything,
    Application(String),
    Project(String),
    User(String),
    ApiKey(ApiKeyId),
    Account(AccountId),
    /// The normalised counterparty.
    Vendor(String),
    Category(String),
}

/// A call's exact cost, settling its reservations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    pub call: LlmCallId,
    /// Nano-dollars; 0 for a call that was not priced.
    pub actual: i64,
}

/// A window of time, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: Time,
    pub to: Time,
}

/// Decides a reservation from the counters read under lock (in the order of the keys given):
/// the amount to add to each, or `None` to refuse and change nothing.
pub type Decide<'a> = &'a (dyn Fn(&[Counter]) -> Option<Vec<i64>> + Send + Sync);

/// One call's reservation in a batch.
pub struct Reservation<'a> {
    pub call: LlmCallId,
    /// Sorted by budget id.
    pub keys: &'a [PeriodKey],
    pub expires_at: Time,
    pub decide: Decide<'a>,
}

#[async_trait]
pub trait BudgetStore: Send + Sync {
    /// Stores a new budget; a conflict when the tenant has one of the same name.
    async fn insert_budget(&self, row: &BudgetRow) -> Result<()>;
    /// Replaces a budget's settings; `false` when the tenant has no such budget.
    async fn update_budget(&self, row: &BudgetRow) -> Result<bool>;
    /// Deletes a budget with its counters, reservations and alert marks; `false` when none.
    async fn delete_budget(&self, tenant: TenantId, id: BudgetId) -> Result<bool>;
    async fn budget(&self, tenant: TenantId, id: BudgetId) -> Result<Option<BudgetRow>>;
    /// The tenant's budgets, by name.
    async fn budgets(&self, tenant: TenantId) -> Result<Vec<BudgetRow>>;
    /// Every tenant that has a budget (the evaluator's round; system scope).
    async fn tenants_with_budgets(&self) -> Result<Vec<TenantId>>;

    /// The exact cost of the tenant's priced LLM calls in `window` that `matching` covers
    /// (linked OTLP duplicates excluded), nano-dollars; without the calls reserved against
    /// `except` when given (those are in its counter).
    async fn llm_spent(
        &self,
        tenant: TenantId,
        matching: &Matching,
        window: Window,
        except: Option<BudgetId>,
    ) -> Result<i64>;
    /// The tenant's bank spend (Plaid, OFX, CSV; removed events excluded) in `currency` in
    /// `window` that `matching` covers, minor units (refunds subtract).
    async fn bank_spent(
        &self,
        tenant: TenantId,
        matching: &Matching,
        currency: &str,
        window: Window,
    ) -> Result<i64>;
    /// What the budget's period holds in reservations of calls not yet recorded, nano-dollars.
    async fn reserved(&self, tenant: TenantId, key: PeriodKey, now: Time) -> Result<i64>;
    /// Sets the evaluated rest of a period's spend, creating its counter when it has none.
    async fn set_other(
        &self,
        tenant: TenantId,
        key: PeriodKey,
        other: i64,
        now: Time,
    ) -> Result<()>;

    /// In one transaction, call by call in order: reads each call's counters (created empty when
    /// missing) under lock, asks its `decide` (on the counters as the calls before it left
    /// them), and when it allows adds its amounts and records a held reservation per key. Per
    /// call, the counters it read and whether it reserved.
    async fn reserve_batch(
        &self,
        tenant: TenantId,
        batch: &[Reservation<'_>],
    ) -> Result<Vec<(Vec<Counter>, bool)>>;
    /// Settles the reservations of recorded calls with their exact costs (idempotent: a settled
    /// reservation is left alone; an expired one counts again, with its exact cost).
    async fn settle(&self, tenant: TenantId, settlements: &[Settlement]) -> Result<()>;
    /// Expires held reservations past their time, giving their amounts back; how many.
    async fn expire_reservations(&self, now: Time) -> Result<u64>;

    /// Marks a threshold alerted for a budget's period; `false` when it already was.
    async fn mark_alerted(
        &self,
        tenant: TenantId,
        key: PeriodKey,
        threshold: u32,
        now: Time,
    ) -> Result<bool>;
    /// Takes a mark back (its alert could not be stored: the next round tries again).
    async fn unmark_alerted(&self, tenant: TenantId, key: PeriodKey, threshold: u32) -> Result<()>;
}
