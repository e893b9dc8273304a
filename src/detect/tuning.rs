//! Reviews into threshold changes: a rule whose reviewed anomalies are mostly false positives gets
//! a higher threshold, one that is almost never wrong a lower one, within bounds.
//! (Stub: the tuning lands with the rules.)
//!
//! Invariant: pure; every change carries its reason with the numbers.

use serde::Serialize;

use super::config::DetectionConfig;
use super::{Outcome, RuleId};
use crate::domain::time::Timestamp;

/// One reviewed anomaly as tuning sees it: the rules that fired on it and what the reviewer found.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub rules: Vec<RuleId>,
    pub outcome: Outcome,
    pub reviewed_at: Timestamp,
}

/// A threshold change, as recorded and shown.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Change {
    pub rule: RuleId,
    pub parameter: String,
    pub from: String,
    pub to: String,
    pub reason: String,
}

/// The configuration after tuning on `reviews`, and what changed.
pub fn tune(config: &DetectionConfig, _reviews: &[Review]) -> (DetectionConfig, Vec<Change>) {
    (config.clone(), Vec::new())
}
