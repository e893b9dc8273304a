//! Budgets: a tenant's spend held to an amount per scope (tenant, application, project, user,
//! API key; account, vendor, category for bank spend) and period (day, week, calendar month in
//! the tenant's time zone).
//!
//! The map: `model` (what a budget is, its checks).
//!
//! Invariant: money is integer minor units and fractions integer parts per ten thousand.

pub mod evaluate;
pub mod model;
pub mod period;
pub mod routes;
mod service;
pub mod store;

pub use model::{
    Budget, BudgetInput, BudgetPatch, Counts, Fraction, NewBudget, Period, Scope, ScopeKind,
};
pub use service::{from_row, matching, ratio, BudgetStatus, Budgets, TenantBudgets, Units};
