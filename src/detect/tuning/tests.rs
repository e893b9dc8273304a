//! Tuning's tests: the rate bands, the bounds, and that reviews are not counted twice.

use std::collections::HashMap;

use chrono::{Duration, TimeZone, Utc};

use super::*;

fn day(n: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::days(n)
}

/// `total` reviews of anomalies `rule` fired on, `false_positives` of them false positives.
fn reviews(rule: RuleId, total: usize, false_positives: usize) -> Vec<Review> {
    (0..total)
        .map(|i| Review {
            rules: vec![rule],
            outcome: if i < false_positives {
                ReviewOutcome::FalsePositive
            } else {
                ReviewOutcome::Confirmed
            },
            reviewed_at: day(i as i64),
        })
        .collect()
}

fn tuned(rule: RuleId, total: usize, false_positives: usize) -> (DetectionConfig, Vec<Change>) {
    tune(
        &DetectionConfig::default(),
        &reviews(rule, total, false_positives),
        &HashMap::new(),
    )
}

#[test]
fn mostly_false_positives_raise_the_limit_by_a_fifth() {
    let (config, changes) = tuned(RuleId::LargeAmount, 12, 9);
    assert_eq!(config.large_amount.limit, Amount::major(12_000));
    assert_eq!(
        changes,
        [Change {
            rule: RuleId::LargeAmount,
            parameter: "limit".to_owned(),
            from: "10000.00".to_owned(),
            to: "12000.00".to_owned(),
            reason: "false-positive rate 0.75 over 12 reviews: limit 10000.00 → 12000.00"
                .to_owned(),
        }]
    );
}

#[test]
fn each_band_moves_the_threshold_by_its_step() {
    let limit = |total, fp| tuned(RuleId::LargeAmount, total, fp).0.large_amount.limit;
    assert_eq!(limit(10, 6), Amount::major(11_000), "0.6");
    assert_eq!(limit(10, 4), Amount::major(10_500), "0.4");
    assert_eq!(limit(10, 3), Amount::major(10_000), "0.3 is not above 0.3");
    assert_eq!(limit(10, 1), Amount::major(10_000), "0.1 is not below 0.1");
    assert_eq!(limit(20, 1), Amount::major(9_500), "0.05");
    assert_eq!(limit(10, 7), Amount::major(11_000), "0.7 is not above 0.7");
}

#[test]
fn fewer_than_ten_reviews_change_nothing() {
    let (config, changes) = tuned(RuleId::LargeAmount, 9, 9);
    assert_eq!(config, DetectionConfig::default());
    assert!(changes.is_empty());
}

#[test]
fn only_the_last_fifty_reviews_count() {
    // 40 old false positives, then 50 confirmations: the rate is 0, so the limit falls.
    let mut all = reviews(RuleId::LargeAmount, 90, 0);
    for review in &mut all[..40] {
        review.outcome = ReviewOutcome::FalsePositive;
    }
    all.reverse();
    let (config, changes) = tune(&DetectionConfig::default(), &all, &HashMap::new());
    assert_eq!(config.large_amount.limit, Amount::major(9_500));
    assert!(
        changes[0].reason.contains("rate 0.00 over 50 reviews"),
        "{changes:?}"
    );
}

#[test]
fn reviews_before_the_rules_last_change_are_not_counted_again() {
    let all = reviews(RuleId::LargeAmount, 12, 12);
    let since = HashMap::from([(RuleId::LargeAmount, day(5))]);
    let (config, changes) = tune(&DetectionConfig::default(), &all, &since);
    assert!(changes.is_empty(), "6 reviews after the change");
    assert_eq!(config, DetectionConfig::default());
    let since = HashMap::from([(RuleId::VendorOutlier, day(5))]);
    assert_eq!(tune(&DetectionConfig::default(), &all, &since).1.len(), 1);
}

#[test]
fn thresholds_stay_within_half_and_four_times_the_medium_preset() {
    let mut config = DetectionConfig::default();
    config.large_amount.limit = Amount::major(39_000);
    let all = reviews(RuleId::LargeAmount, 10, 10);
    let (config, changes) = tune(&config, &all, &HashMap::new());
    assert_eq!(config.large_amount.limit, Amount::major(40_000));
    assert_eq!(changes[0].to, "40000.00");
    let (_, changes) = tune(&config, &all, &HashMap::new());
    assert!(changes.is_empty(), "already at the bound");
    let mut low = DetectionConfig::default();
    low.vendor_outlier.z = 1.8;
    let (low, _) = tune(
        &low,
        &reviews(RuleId::VendorOutlier, 10, 0),
        &HashMap::new(),
    );
    assert_eq!(low.vendor_outlier.z, 1.75);
}

#[test]
fn every_rule_but_the_forest_has_a_tuned_threshold() {
    for &rule in RuleId::ALL {
        let (config, changes) = tuned(rule, 10, 10);
        if rule == RuleId::Forest {
            assert!(changes.is_empty());
            continue;
        }
        assert_eq!(changes.len(), 1, "{rule}");
        assert_ne!(config, DetectionConfig::default(), "{rule}");
        assert_eq!(config.validate(), Ok(()), "{rule}");
    }
    let (config, changes) = tuned(RuleId::Velocity, 10, 10);
    assert_eq!(config.velocity.max_count, 12);
    assert_eq!(
        changes[0].reason,
        "false-positive rate 1.00 over 10 reviews: max_count 10 → 12"
    );
    let (config, _) = tuned(RuleId::VendorOutlier, 10, 10);
    assert_eq!(config.vendor_outlier.z, 4.2);
}

#[test]
fn an_anomaly_several_rules_fired_on_counts_for_each() {
    let mut all = reviews(RuleId::LargeAmount, 10, 10);
    for review in &mut all {
        review.rules.push(RuleId::RoundAmount);
    }
    let (config, changes) = tune(&DetectionConfig::default(), &all, &HashMap::new());
    assert_eq!(changes.len(), 2);
    assert_eq!(config.round_amount.min_amount, Amount::major(1_200));
}
