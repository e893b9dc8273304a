//! Detection: what looks wrong in the ledger, and why, in numbers a finance team can check.
//!
//! The map: `model` (rule names, findings, factors, snoozes, review vocabulary), `history` (a
//! tenant's transactions in time order with their indexes), `config` (per-tenant rule settings,
//! presets), `rules` (one file per rule, pure), `benford` (first-digit findings per vendor and
//! account), `score` (factors into a 0–100 risk score), `tuning` (reviews into threshold changes),
//! `features` and `forest` (the per-tenant isolation forest).
//!
//! Invariant: everything here but storage, routes and jobs is pure: no I/O, no clock (the time
//! of evaluation is an argument), deterministic for a given input and seed.

pub mod benford;
pub mod config;
pub mod features;
pub mod forest;
pub mod history;
pub mod jobs;
pub mod model;
pub mod review;
pub mod routes;
pub mod rules;
pub mod score;
pub mod service;
pub mod store;
pub mod tuning;

pub use config::{DetectionConfig, Sensitivity};
pub use history::{History, Txn, VendorKey};
pub use model::{AnomalyStatus, Factor, Finding, ReviewOutcome, RuleId, Snooze, SnoozeTarget};
pub use service::Detector;
