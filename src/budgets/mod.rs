//! Budgets: a tenant's spend held to an amount per scope (tenant, application, project, user,
//! API key; account, vendor, category for bank spend) and period (day, week, calendar month in
//! the tenant's time zone).
//!
//! The map: `model` (what a budget is), `check` (the rules a budget passes), `fraction` (exact
//! fractions for thresholds), `period` (the window a period covers in the tenant's zone), `store`
//! (storage on both backends: budgets, counters, reservations, alert marks), `service`
//! ([`Budgets`]: changes, spend and status), `evaluate` (the background round: threshold alerts,
//! counters, expired reservations), `import` (the seed's `budget_rules:` YAML into budgets and
//! price overrides) and `load` (a file applied to a tenant), `estimate` (a call's worst-case cost
//! before it is sent, and the model a swap moves it to), `enforce` (the gateway's check before
//! each call: swap, refuse, reserve, through the batching reserver), `routes` (the HTTP surface).
//!
//! Invariant: money is integer minor units (nano-dollars for LLM spend) and fractions integer
//! parts per ten thousand; a hard limit holds across instances because every reservation is
//! checked and taken under its counters' row locks.

mod check;
pub mod enforce;
pub mod estimate;
pub mod evaluate;
mod fraction;
pub mod import;
pub mod load;
pub mod model;
pub mod period;
pub mod routes;
mod service;
pub mod store;

pub use import::MAX_BYTES as MAX_FILE_BYTES;
pub use model::{
    Budget, BudgetInput, BudgetPatch, Counts, Fraction, NewBudget, Period, Scope, ScopeKind,
};
pub use service::{from_row, matching, ratio, BudgetStatus, Budgets, TenantBudgets, Units};
