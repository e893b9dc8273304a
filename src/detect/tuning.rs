//! Reviews into threshold changes: a rule whose reviewed anomalies are mostly false positives gets
//! a higher threshold, one that is almost never wrong a lower one, within bounds.
//!
//! Per rule, over its last [`WINDOW`] reviews (those of anomalies it fired on), with at least
//! [`MIN_REVIEWS`] of them: a false-positive rate above 0.7 raises its tuned threshold 20 %, above
//! 0.5 by 10 %, above 0.3 by 5 %; below 0.1 lowers it 5 %. The threshold stays between 0.5× and
//! 4× the medium preset's value. Each rule has one tuned threshold, and raising it makes the rule
//! fire less: `large_amount.limit`, `unapproved_vendor.min_amount`, `new_vendor.min_amount`,
//! `vendor_outlier.z`, `duplicate.min_amount`, `split_payment.total_percent`,
//! `velocity.max_count`, `timing.min_amount`, `round_amount.min_amount`. The isolation forest is
//! not tuned (its weight is the tenant's to set).
//!
//! Invariant: pure; every change carries its reason with the numbers. Reviews are counted once:
//! only reviews after a rule's last change (`since`) count for it, so the reviews that caused a
//! change never cause another.

use std::collections::HashMap;

use serde::Serialize;

use super::config::{Amount, DetectionConfig, Sensitivity};
use super::{ReviewOutcome, RuleId};
use crate::domain::time::Timestamp;

/// Reviews per rule that tuning looks at: the most recent ones.
pub const WINDOW: usize = 50;
/// Reviews a rule needs (since its last change) before its threshold moves.
pub const MIN_REVIEWS: usize = 10;

/// One reviewed anomaly as tuning sees it: the rules that fired on it and what the reviewer found.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub rules: Vec<RuleId>,
    pub outcome: ReviewOutcome,
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

/// A tuned threshold's value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    Amount(Amount),
    Float(f64),
    Count(u32),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Amount(amount) => amount.fmt(f),
            Value::Float(value) => write!(f, "{value:.2}"),
            Value::Count(count) => count.fmt(f),
        }
    }
}

/// The configuration after tuning on `reviews`, and what changed. `since` holds each rule's last
/// change; reviews at or before it are not counted for that rule.
pub fn tune(
    config: &DetectionConfig,
    reviews: &[Review],
    since: &HashMap<RuleId, Timestamp>,
) -> (DetectionConfig, Vec<Change>) {
    let medium = DetectionConfig::preset(Sensitivity::Medium);
    let mut tuned = config.clone();
    let mut changes = Vec::new();
    for &rule in RuleId::ALL {
        let (Some((parameter, from)), Some((_, reference))) =
            (knob(config, rule), knob(&medium, rule))
        else {
            continue;
        };
        let mut counted: Vec<&Review> = reviews
            .iter()
            .filter(|r| r.rules.contains(&rule))
            .filter(|r| since.get(&rule).is_none_or(|t| r.reviewed_at > *t))
            .collect();
        counted.sort_by_key(|r| r.reviewed_at);
        let counted = &counted[counted.len().saturating_sub(WINDOW)..];
        if counted.len() < MIN_REVIEWS {
            continue;
        }
        let false_positives = counted
            .iter()
            .filter(|r| r.outcome == ReviewOutcome::FalsePositive)
            .count();
        let rate = false_positives as f64 / counted.len() as f64;
        let Some(percent) = step(rate) else { continue };
        let to = bounded(scale(from, percent), reference);
        if to == from {
            continue;
        }
        set(&mut tuned, rule, to);
        changes.push(Change {
            rule,
            parameter: parameter.to_owned(),
            from: from.to_string(),
            to: to.to_string(),
            reason: format!(
                "false-positive rate {rate:.2} over {} reviews: {parameter} {from} → {to}",
                counted.len()
            ),
        });
    }
    (tuned, changes)
}

/// The percentage a false-positive rate moves a threshold by, if it moves it.
fn step(rate: f64) -> Option<i64> {
    match rate {
        r if r > 0.7 => Some(120),
        r if r > 0.5 => Some(110),
        r if r > 0.3 => Some(105),
        r if r < 0.1 => Some(95),
        _ => None,
    }
}

/// The rule's tuned threshold: its name (within the rule's settings) and value.
fn knob(config: &DetectionConfig, rule: RuleId) -> Option<(&'static str, Value)> {
    Some(match rule {
        RuleId::LargeAmount => ("limit", Value::Amount(config.large_amount.limit)),
        RuleId::UnapprovedVendor => (
            "min_amount",
            Value::Amount(config.unapproved_vendor.min_amount),
        ),
        RuleId::NewVendor => ("min_amount", Value::Amount(config.new_vendor.min_amount)),
        RuleId::VendorOutlier => ("z", Value::Float(config.vendor_outlier.z)),
        RuleId::Duplicate => ("min_amount", Value::Amount(config.duplicate.min_amount)),
        RuleId::SplitPayment => (
            "total_percent",
            Value::Count(config.split_payment.total_percent),
        ),
        RuleId::Velocity => ("max_count", Value::Count(config.velocity.max_count)),
        RuleId::Timing => ("min_amount", Value::Amount(config.timing.min_amount)),
        RuleId::RoundAmount => ("min_amount", Value::Amount(config.round_amount.min_amount)),
        RuleId::Forest => return None,
    })
}

fn set(config: &mut DetectionConfig, rule: RuleId, value: Value) {
    match (rule, value) {
        (RuleId::LargeAmount, Value::Amount(v)) => config.large_amount.limit = v,
        (RuleId::UnapprovedVendor, Value::Amount(v)) => config.unapproved_vendor.min_amount = v,
        (RuleId::NewVendor, Value::Amount(v)) => config.new_vendor.min_amount = v,
        (RuleId::VendorOutlier, Value::Float(v)) => config.vendor_outlier.z = v,
        (RuleId::Duplicate, Value::Amount(v)) => config.duplicate.min_amount = v,
        (RuleId::SplitPayment, Value::Count(v)) => config.split_payment.total_percent = v,
        (RuleId::Velocity, Value::Count(v)) => config.velocity.max_count = v,
        (RuleId::Timing, Value::Amount(v)) => config.timing.min_amount = v,
        (RuleId::RoundAmount, Value::Amount(v)) => config.round_amount.min_amount = v,
        // `knob` and `set` list the same pairs; nothing else is ever set.
        _ => {}
    }
}

/// `value` × `percent` / 100; a count moves by at least one.
fn scale(value: Value, percent: i64) -> Value {
    match value {
        Value::Amount(amount) => Value::Amount(amount.percent(percent)),
        Value::Float(z) => Value::Float((z * percent as f64).round() / 100.0),
        Value::Count(count) => {
            let scaled = (i64::from(count) * percent + 50) / 100;
            let moved = match scaled.cmp(&i64::from(count)) {
                std::cmp::Ordering::Equal if percent > 100 => scaled + 1,
                std::cmp::Ordering::Equal if percent < 100 => scaled - 1,
                _ => scaled,
            };
            Value::Count(u32::try_from(moved.max(1)).unwrap_or(u32::MAX))
        }
    }
}

/// `value` kept between half and four times the medium preset's `reference`.
fn bounded(value: Value, reference: Value) -> Value {
    match (value, reference) {
        (Value::Amount(v), Value::Amount(r)) => {
            let low = Amount::from_ten_thousandths(r.ten_thousandths() / 2);
            let high = Amount::from_ten_thousandths(r.ten_thousandths().saturating_mul(4));
            Value::Amount(v.clamp(low, high))
        }
        (Value::Float(v), Value::Float(r)) => Value::Float(v.clamp(r / 2.0, r * 4.0)),
        (Value::Count(v), Value::Count(r)) => Value::Count(v.clamp(r.div_ceil(2), r * 4)),
        _ => value,
    }
}

#[cfg(test)]
mod tests;
