//! Amount outlier for this vendor: a payment far above the vendor's recent amounts, by robust
//! z-score `0.6745 × (x − median) / MAD` over the vendor's payments in the last `window_days`
//! (at most its [`MAX_PAYMENTS`] most recent ones: a busy vendor's median is as well known from
//! them, and scoring stays cheap).
//!
//! Invariant: judged only with at least `min_payments` earlier payments in the same currency in
//! the window; fires when the score is above `z` (only above the median: large, not small,
//! payments are the risk). When the MAD is 0 the score falls back to `(x − mean) / sd`, and when
//! every earlier payment was the same amount, any larger payment scores at full strength.
//! Strength is `min(1, score / (2 × z))`. One scratch buffer per thread, so no allocation.

use std::cell::RefCell;

use chrono::Duration;

use super::{stats, Context};
use crate::detect::config::grouped_minor;
use crate::detect::Finding;

thread_local! {
    static SCRATCH: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// The most recent payments of the window a vendor is judged on.
pub const MAX_PAYMENTS: usize = 64;

/// Scale of the MAD to the standard deviation of a normal distribution.
const CONSISTENCY: f64 = 0.6745;

/// How a payment compares with the vendor's window.
struct Score {
    value: f64,
    center: f64,
    robust: bool,
    payments: usize,
}

pub(super) fn check(ctx: &Context<'_>, position: usize) -> Option<Finding> {
    let settings = &ctx.config.vendor_outlier;
    let history = ctx.history;
    let txn = history.txn(position);
    let key = history.vendor_of(position)?;
    let window = Duration::days(i64::from(settings.window_days));
    // Newest first until the window ends: only recent transactions are read, however busy the
    // vendor (finding the window's start would read old ones too).
    let earlier = history.earlier(history.vendor_txns(key), position);
    let since = txn.occurred_at - window;
    if earlier.len() < settings.min_payments as usize {
        return None;
    }
    let fill = |values: &mut Vec<f64>| {
        values.clear();
        values.extend(
            earlier
                .iter()
                .rev()
                .map(|&p| history.txn(p as usize))
                .take_while(|t| t.occurred_at >= since)
                .filter(|t| super::counts_with(t, txn))
                .take(MAX_PAYMENTS)
                .map(|t| t.amount_minor as f64),
        );
    };
    let score = SCRATCH.with_borrow_mut(|values| {
        fill(values);
        if values.len() < settings.min_payments as usize {
            return None;
        }
        score(values, txn.amount_minor as f64, fill)
    })?;
    if score.value <= settings.z {
        return None;
    }
    let center = grouped_minor(score.center.round() as i64, txn.exponent);
    let explanation = if !score.value.is_finite() {
        format!(
            "every one of this vendor's {} payments in {} days was {center}",
            score.payments, settings.window_days
        )
    } else if score.robust {
        format!(
            "{:.1} robust deviations above this vendor's median of {center} over {} payments in {} days",
            score.value, score.payments, settings.window_days
        )
    } else {
        format!(
            "{:.1} standard deviations above this vendor's mean of {center} over {} payments in {} days",
            score.value, score.payments, settings.window_days
        )
    };
    Some(Finding {
        strength: (score.value / (2.0 * settings.z)).min(1.0),
        explanation,
    })
}

/// The score of `amount` against `values` (which it reorders and overwrites; `fill` refills
/// them for the rare fallback to mean and deviation).
fn score(values: &mut Vec<f64>, amount: f64, fill: impl Fn(&mut Vec<f64>)) -> Option<Score> {
    let payments = values.len();
    let center = stats::median(values)?;
    if amount <= center {
        return None;
    }
    let mad = stats::mad(values, center)?;
    if mad > 0.0 {
        let value = CONSISTENCY * (amount - center) / mad;
        return Some(Score {
            value,
            center,
            robust: true,
            payments,
        });
    }
    fill(values);
    let mean = stats::mean(values)?;
    let sd = stats::std_dev(values)?;
    let value = if sd > 0.0 {
        (amount - mean) / sd
    } else {
        f64::INFINITY
    };
    Some(Score {
        value,
        center: mean,
        robust: false,
        payments,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{at, Ledger};
    use crate::detect::RuleId;
    use crate::domain::Currency;

    fn history() -> Ledger {
        let mut ledger = Ledger::new();
        let amounts: Vec<i64> = (0..10).map(|i| 100_000 + 10_000 * i).collect();
        ledger.series("acme", 2, &amounts);
        ledger
    }

    #[test]
    fn fires_far_above_the_median_and_not_near_it() {
        let mut ledger = history();
        ledger.push(at(20, 12), "acme", 1_000_000);
        let factor = ledger.factor(RuleId::VendorOutlier).unwrap();
        assert_eq!(
            factor.explanation,
            "23.1 robust deviations above this vendor's median of 1,450.00 over 10 payments in 90 days"
        );
        assert_eq!(factor.strength, 1.0);
        ledger.txns.last_mut().unwrap().amount_minor = 150_000;
        assert!(ledger.factor(RuleId::VendorOutlier).is_none());
    }

    #[test]
    fn the_threshold_is_exclusive_and_configurable() {
        // z = 0.6745 × (x − 1450) / 250 = 3.5 at x ≈ 2747.28.
        let mut ledger = history();
        ledger.push(at(20, 12), "acme", 274_700);
        assert!(ledger.factor(RuleId::VendorOutlier).is_none());
        ledger.txns.last_mut().unwrap().amount_minor = 274_800;
        let strength = ledger.factor(RuleId::VendorOutlier).unwrap().strength;
        assert!((strength - 0.5).abs() < 0.001, "{strength}");
        ledger.config.vendor_outlier.z = 4.0;
        assert!(ledger.factor(RuleId::VendorOutlier).is_none());
    }

    #[test]
    fn needs_enough_recent_payments_in_the_same_currency() {
        let mut ledger = Ledger::new();
        ledger.series("acme", 2, &[100_000; 4]);
        ledger.push(at(20, 12), "acme", 1_000_000);
        assert!(ledger.factor(RuleId::VendorOutlier).is_none(), "4 payments");
        let mut ledger = history();
        for txn in &mut ledger.txns[..6] {
            txn.currency = Currency::parse("EUR").unwrap();
        }
        ledger.push(at(20, 12), "acme", 1_000_000);
        assert!(ledger.factor(RuleId::VendorOutlier).is_none(), "4 in USD");
        let mut ledger = history();
        ledger.push(at(100, 12), "acme", 1_000_000);
        assert!(
            ledger.factor(RuleId::VendorOutlier).is_none(),
            "window ended"
        );
        let mut ledger = Ledger::new();
        ledger.push(at(20, 12), "acme", 1_000_000);
        assert!(ledger.factor(RuleId::VendorOutlier).is_none(), "no history");
    }

    #[test]
    fn falls_back_to_mean_and_deviation_when_the_mad_is_zero() {
        let mut ledger = Ledger::new();
        ledger.series(
            "acme",
            2,
            &[10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 40_000],
        );
        ledger.push(at(20, 12), "acme", 100_000);
        let factor = ledger.factor(RuleId::VendorOutlier).unwrap();
        assert_eq!(
            factor.explanation,
            "7.6 standard deviations above this vendor's mean of 142.86 over 7 payments in 90 days"
        );
        let mut ledger = Ledger::new();
        ledger.series("acme", 2, &[10_000; 5]);
        ledger.push(at(20, 12), "acme", 10_001);
        let factor = ledger.factor(RuleId::VendorOutlier).unwrap();
        assert_eq!(factor.strength, 1.0);
        assert_eq!(
            factor.explanation,
            "every one of this vendor's 5 payments in 90 days was 100.00"
        );
        ledger.txns.last_mut().unwrap().amount_minor = 10_000;
        assert!(ledger.factor(RuleId::VendorOutlier).is_none());
    }
}
