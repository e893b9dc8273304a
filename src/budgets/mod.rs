//! Budgets: a tenant's spend held to an amount per scope (tenant, application, project, user,
//! API key; account, vendor, category for bank spend) and period (day, week, calendar month in
//! the tenant's time zone).
//!
//! The map: `model` (what a budget is, its checks).
//!
//! Invariant: money is integer minor units and fractions integer parts per ten thousand.

pub mod import;
pub mod model;

pub use model::{
    Budget, BudgetInput, BudgetPatch, Counts, Fraction, NewBudget, Period, Scope, ScopeKind,
};
