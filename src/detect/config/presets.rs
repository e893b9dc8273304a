//! The three presets. Medium is every default; low reports less (higher thresholds, a higher
//! alert threshold), high reports more.
//!
//! Invariant: each preset spells out every field (no `Default` here, which would recurse), and
//! each passes `validate`.

use super::{
    Amount, BusinessHours, DetectionConfig, Duplicate, ForestSettings, LargeAmount, NewVendor,
    RoundAmount, Sensitivity, SplitPayment, Timing, UnapprovedVendor, Velocity, VendorOutlier,
};

/// One value per preset: (low, medium, high).
fn pick<T>(sensitivity: Sensitivity, (low, medium, high): (T, T, T)) -> T {
    match sensitivity {
        Sensitivity::Low => low,
        Sensitivity::Medium => medium,
        Sensitivity::High => high,
    }
}

fn major(sensitivity: Sensitivity, values: (i64, i64, i64)) -> Amount {
    Amount::major(pick(sensitivity, values))
}

pub(super) fn preset(s: Sensitivity) -> DetectionConfig {
    DetectionConfig {
        alert_threshold: pick(s, (60, 50, 40)),
        large_amount: LargeAmount {
            enabled: true,
            weight: 1.0,
            limit: major(s, (25_000, 10_000, 5_000)),
        },
        unapproved_vendor: UnapprovedVendor {
            enabled: true,
            weight: 1.0,
            min_amount: major(s, (250, 50, 10)),
        },
        new_vendor: NewVendor {
            enabled: true,
            weight: 1.0,
            min_amount: major(s, (250, 50, 10)),
        },
        vendor_outlier: VendorOutlier {
            enabled: true,
            weight: 1.0,
            z: pick(s, (5.0, 3.5, 3.0)),
            window_days: 90,
            min_payments: 5,
        },
        duplicate: Duplicate {
            enabled: true,
            weight: 1.0,
            window_days: 7,
            min_amount: major(s, (100, 25, 5)),
        },
        split_payment: SplitPayment {
            enabled: true,
            weight: 1.0,
            window_days: 3,
            total_percent: pick(s, (120, 100, 90)),
            min_part_percent: 20,
        },
        velocity: Velocity {
            enabled: true,
            weight: 1.0,
            window_hours: 1,
            max_count: pick(s, (20, 10, 5)),
            max_total: major(s, (50_000, 25_000, 12_500)),
            account_max_count: pick(s, (300, 150, 75)),
            account_max_total: major(s, (500_000, 250_000, 125_000)),
            baseline_percent: pick(s, (400, 300, 200)),
            baseline_days: 30,
        },
        timing: Timing {
            enabled: false,
            weight: 1.0,
            business_hours: BusinessHours::default(),
            min_amount: major(s, (100, 10, 1)),
        },
        round_amount: RoundAmount {
            enabled: true,
            weight: 1.0,
            figure: Amount::major(1_000),
            min_amount: major(s, (5_000, 1_000, 1_000)),
        },
        forest: ForestSettings {
            enabled: true,
            weight: 1.0,
            min_history: 200,
        },
        benford_min_payments: 100,
    }
}
