//! A tenant's detection settings: per rule enabled, thresholds and weight; the forest's weight
//! and history minimum; the alert threshold; Benford's minimum; presets.
//!
//! Invariant: a configuration that passes `validate` can be evaluated without panicking. Every
//! field has a default (the medium preset), so `{}` is the default configuration, and unknown
//! fields are refused so a misspelt setting is an error rather than silently ignored.

mod amount;
mod hours;
mod presets;

use serde::{Deserialize, Serialize};

pub use amount::{grouped_minor, Amount};
pub use hours::{BusinessHours, ClockTime};

use super::RuleId;

/// A tenant's detection settings (stored as JSON; the body of `/api/v1/detection/config`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DetectionConfig {
    /// A transaction scoring at or above this (0–100) becomes an anomaly.
    pub alert_threshold: u8,
    pub large_amount: LargeAmount,
    pub unapproved_vendor: UnapprovedVendor,
    pub new_vendor: NewVendor,
    pub vendor_outlier: VendorOutlier,
    pub duplicate: Duplicate,
    pub split_payment: SplitPayment,
    pub velocity: Velocity,
    pub timing: Timing,
    pub round_amount: RoundAmount,
    pub forest: ForestSettings,
    /// Vendors and accounts with fewer payments are not judged by Benford's law.
    pub benford_min_payments: u32,
}

/// At or above `limit` in the transaction's currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LargeAmount {
    pub enabled: bool,
    pub weight: f64,
    /// Tuned threshold, in major units.
    #[schema(value_type = String, example = "10000.00")]
    pub limit: Amount,
}

/// A payment to a vendor missing from the tenant's approved list (when it keeps one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct UnapprovedVendor {
    pub enabled: bool,
    pub weight: f64,
    /// Tuned threshold: smaller payments are not reported.
    #[schema(value_type = String, example = "50.00")]
    pub min_amount: Amount,
}

/// The first payment to a vendor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewVendor {
    pub enabled: bool,
    pub weight: f64,
    /// Tuned threshold: smaller payments are not reported.
    #[schema(value_type = String, example = "50.00")]
    pub min_amount: Amount,
}

/// Far above this vendor's usual amounts (robust z-score).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct VendorOutlier {
    pub enabled: bool,
    pub weight: f64,
    /// Tuned threshold: fires above this many robust deviations.
    pub z: f64,
    pub window_days: u32,
    /// Earlier payments needed in the window before a vendor is judged.
    pub min_payments: u32,
}

/// The same amount to the same vendor within `window_days`, from any source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Duplicate {
    pub enabled: bool,
    pub weight: f64,
    pub window_days: u32,
    /// Tuned threshold: smaller payments are not reported.
    #[schema(value_type = String, example = "25.00")]
    pub min_amount: Amount,
}

/// Payments to one vendor, each under the large-amount limit, that together exceed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SplitPayment {
    pub enabled: bool,
    pub weight: f64,
    pub window_days: u32,
    /// Tuned threshold: the total must exceed this percentage of the large-amount limit.
    pub total_percent: u32,
    /// Only payments of at least this percentage of the limit count as parts.
    pub min_part_percent: u32,
}

/// Too many payments, or too much in total, to one vendor or from one account (an account
/// carries many vendors' payments, so it has its own, higher limits).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Velocity {
    pub enabled: bool,
    pub weight: f64,
    pub window_hours: u32,
    /// Tuned threshold: fires with more payments than this to one vendor in the window.
    pub max_count: u32,
    /// Fires when the window's payments to one vendor in one currency total more than this.
    #[schema(value_type = String, example = "25000.00")]
    pub max_total: Amount,
    /// Fires with more payments than this from one account in the window.
    pub account_max_count: u32,
    /// Fires when the window's payments from one account in one currency total more than this.
    #[schema(value_type = String, example = "250000.00")]
    pub account_max_total: Amount,
    /// A vendor or account whose usual pace over the last `baseline_days` is already near the
    /// limits is held to this percentage of its own pace instead (300: three times its usual
    /// count per window, the total limit scaled alike); 0 turns the baseline off.
    pub baseline_percent: u32,
    pub baseline_days: u32,
}

/// Outside the tenant's business hours (local time). Off by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Timing {
    pub enabled: bool,
    pub weight: f64,
    pub business_hours: BusinessHours,
    /// Tuned threshold: smaller payments are not reported.
    #[schema(value_type = String, example = "10.00")]
    pub min_amount: Amount,
}

/// An exact multiple of a round figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RoundAmount {
    pub enabled: bool,
    pub weight: f64,
    #[schema(value_type = String, example = "1000.00")]
    pub figure: Amount,
    /// Tuned threshold: smaller payments are not reported.
    #[schema(value_type = String, example = "1000.00")]
    pub min_amount: Amount,
}

/// The tenant's isolation forest as a factor of the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ForestSettings {
    pub enabled: bool,
    pub weight: f64,
    /// Transactions needed before a forest is trained.
    pub min_history: u32,
}

/// All thresholds at once: `low` reports least, `high` most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    Low,
    Medium,
    High,
}

impl Default for DetectionConfig {
    fn default() -> Self {
        Self::preset(Sensitivity::Medium)
    }
}

/// Defaults of nested settings are the medium preset's, so a partial JSON object fills in.
macro_rules! medium_default {
    ($($ty:ident => $field:ident),+ $(,)?) => {
        $(impl Default for $ty {
            fn default() -> Self {
                DetectionConfig::preset(Sensitivity::Medium).$field
            }
        })+
    };
}

medium_default!(
    LargeAmount => large_amount,
    UnapprovedVendor => unapproved_vendor,
    NewVendor => new_vendor,
    VendorOutlier => vendor_outlier,
    Duplicate => duplicate,
    SplitPayment => split_payment,
    Velocity => velocity,
    Timing => timing,
    RoundAmount => round_amount,
    ForestSettings => forest,
);

impl DetectionConfig {
    /// Every threshold as `sensitivity` sets it.
    pub fn preset(sensitivity: Sensitivity) -> Self {
        presets::preset(sensitivity)
    }

    /// Whether `rule` is on, and its weight.
    pub fn switch(&self, rule: RuleId) -> (bool, f64) {
        match rule {
            RuleId::LargeAmount => (self.large_amount.enabled, self.large_amount.weight),
            RuleId::UnapprovedVendor => (
                self.unapproved_vendor.enabled,
                self.unapproved_vendor.weight,
            ),
            RuleId::NewVendor => (self.new_vendor.enabled, self.new_vendor.weight),
            RuleId::VendorOutlier => (self.vendor_outlier.enabled, self.vendor_outlier.weight),
            RuleId::Duplicate => (self.duplicate.enabled, self.duplicate.weight),
            RuleId::SplitPayment => (self.split_payment.enabled, self.split_payment.weight),
            RuleId::Velocity => (self.velocity.enabled, self.velocity.weight),
            RuleId::Timing => (self.timing.enabled, self.timing.weight),
            RuleId::RoundAmount => (self.round_amount.enabled, self.round_amount.weight),
            RuleId::Forest => (self.forest.enabled, self.forest.weight),
        }
    }

    /// Why this configuration cannot be used, naming the field, if it cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.alert_threshold > 100 {
            return Err("alert_threshold must be between 0 and 100".to_owned());
        }
        for rule in RuleId::ALL {
            let (_, weight) = self.switch(*rule);
            if !(0.0..=10.0).contains(&weight) {
                return Err(format!("{rule}.weight must be between 0 and 10"));
            }
        }
        positive("large_amount.limit", self.large_amount.limit)?;
        positive("round_amount.figure", self.round_amount.figure)?;
        positive("velocity.max_total", self.velocity.max_total)?;
        positive(
            "velocity.account_max_total",
            self.velocity.account_max_total,
        )?;
        let z = self.vendor_outlier.z;
        if !(z.is_finite() && z > 0.0 && z <= 100.0) {
            return Err("vendor_outlier.z must be above 0 and at most 100".to_owned());
        }
        within(
            "vendor_outlier.window_days",
            self.vendor_outlier.window_days,
            1,
            366,
        )?;
        within(
            "vendor_outlier.min_payments",
            self.vendor_outlier.min_payments,
            3,
            10_000,
        )?;
        within("duplicate.window_days", self.duplicate.window_days, 1, 366)?;
        within(
            "split_payment.window_days",
            self.split_payment.window_days,
            1,
            366,
        )?;
        within(
            "split_payment.total_percent",
            self.split_payment.total_percent,
            1,
            10_000,
        )?;
        within(
            "velocity.window_hours",
            self.velocity.window_hours,
            1,
            24 * 366,
        )?;
        within("velocity.max_count", self.velocity.max_count, 1, 1_000_000)?;
        within(
            "velocity.baseline_percent",
            self.velocity.baseline_percent,
            0,
            10_000,
        )?;
        within(
            "velocity.baseline_days",
            self.velocity.baseline_days,
            1,
            366,
        )?;
        within(
            "velocity.account_max_count",
            self.velocity.account_max_count,
            1,
            1_000_000,
        )?;
        within(
            "split_payment.min_part_percent",
            self.split_payment.min_part_percent,
            0,
            100,
        )?;
        within("forest.min_history", self.forest.min_history, 1, 10_000_000)?;
        within(
            "benford_min_payments",
            self.benford_min_payments,
            10,
            10_000_000,
        )?;
        self.timing.business_hours.validate()
    }
}

fn positive(field: &str, amount: Amount) -> Result<(), String> {
    if amount.ten_thousandths() <= 0 {
        return Err(format!("{field} must be above 0"));
    }
    Ok(())
}

fn within(field: &str, value: u32, min: u32, max: u32) -> Result<(), String> {
    if !(min..=max).contains(&value) {
        return Err(format!("{field} must be between {min} and {max}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
