//! Split payments: payments to one vendor within `window_days`, each under the large-amount limit
//! but at least `min_part_percent` % of it, that together exceed `total_percent` % of it: one
//! purchase cut up to stay under the limit. (Without the minimum part, a busy vendor's everyday
//! payments would add up to the limit every few days.)
//!
//! Invariant: only payments in the scored payment's currency count, pending ones in the window
//! are left out (a pending payment and its posted successor would count twice), and the scored
//! payment must itself be under the limit (above it, the large-amount rule speaks). Strength is
//! `min(1, total / (2 × limit))`, so a group just over the limit is about 0.5.

use chrono::Duration;

use super::Context;
use crate::detect::config::grouped_minor;
use crate::detect::Finding;

pub(super) fn check(ctx: &Context<'_>, position: usize) -> Option<Finding> {
    let settings = &ctx.config.split_payment;
    let history = ctx.history;
    let txn = history.txn(position);
    let key = history.vendor_of(position)?;
    let limit = ctx.config.large_amount.limit;
    let under = limit.minor_ceil(txn.exponent);
    let part = limit
        .percent(i64::from(settings.min_part_percent))
        .minor_ceil(txn.exponent);
    if txn.amount_minor >= under || txn.amount_minor < part {
        return None;
    }
    let window = Duration::days(i64::from(settings.window_days));
    let earlier = super::recent(history, history.vendor_txns(key), position, window);
    let (mut count, mut total) = (1u32, i128::from(txn.amount_minor));
    for &p in earlier {
        let t = history.txn(p as usize);
        if super::counts_with(t, txn) && (part..under).contains(&t.amount_minor) {
            count += 1;
            total += i128::from(t.amount_minor);
        }
    }
    let bound = limit.percent(i64::from(settings.total_percent));
    let total = i64::try_from(total).unwrap_or(i64::MAX);
    if count < 2 || total <= bound.minor_floor(txn.exponent) {
        return None;
    }
    let over = if settings.total_percent == 100 {
        format!("over the {} limit", limit.grouped(txn.exponent))
    } else {
        format!(
            "over {} % of the {} limit",
            settings.total_percent,
            limit.grouped(txn.exponent)
        )
    };
    Some(Finding {
        strength: (limit.ratio_of_minor(total, txn.exponent) / 2.0).min(1.0),
        explanation: format!(
            "{count} payments to \"{}\" within {} days total {}, {over}, each under it",
            history.vendor_name(key),
            settings.window_days,
            grouped_minor(total, txn.exponent)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{at, Ledger};
    use crate::detect::RuleId;
    use crate::domain::Currency;
    use crate::ledger::SpendStatus;

    #[test]
    fn payments_under_the_limit_that_together_exceed_it() {
        let mut ledger = Ledger::new();
        ledger.push(at(2, 10), "acme", 400_000);
        ledger.push(at(3, 10), "acme", 350_000);
        ledger.push(at(4, 9), "acme", 300_000);
        let factor = ledger.factor(RuleId::SplitPayment).unwrap();
        assert_eq!(
            factor.explanation,
            "3 payments to \"acme\" within 3 days total 10,500.00, over the 10,000.00 limit, each under it"
        );
        assert_eq!(factor.strength, 0.525);
        ledger.txns[2].amount_minor = 250_000;
        assert!(
            ledger.factor(RuleId::SplitPayment).is_none(),
            "exactly the limit"
        );
        ledger.txns[2].amount_minor = 250_001;
        assert!(ledger.factor(RuleId::SplitPayment).is_some());
    }

    #[test]
    fn payments_at_the_limit_outside_the_window_or_in_another_currency_do_not_count() {
        let mut ledger = Ledger::new();
        ledger.push(at(2, 10), "acme", 1_000_000);
        ledger.push(at(3, 10), "acme", 300_000);
        assert!(
            ledger.factor(RuleId::SplitPayment).is_none(),
            "the first is large itself"
        );
        let mut ledger = Ledger::new();
        ledger.push(at(1, 10), "acme", 600_000);
        ledger.push(at(4, 11), "acme", 600_000);
        assert!(
            ledger.factor(RuleId::SplitPayment).is_none(),
            "3 days and an hour apart"
        );
        ledger.txns[0].occurred_at = at(1, 11);
        assert!(ledger.factor(RuleId::SplitPayment).is_some());
        ledger.txns[0].currency = Currency::parse("EUR").unwrap();
        assert!(ledger.factor(RuleId::SplitPayment).is_none());
    }

    #[test]
    fn everyday_payments_below_a_fifth_of_the_limit_are_not_parts() {
        let mut ledger = Ledger::new();
        ledger.series("acme", 2, &[199_999, 199_999, 199_999]);
        ledger.push(at(4, 13), "acme", 900_000);
        assert!(ledger.factor(RuleId::SplitPayment).is_none());
        ledger.txns[2].amount_minor = 200_000;
        assert!(
            ledger.factor(RuleId::SplitPayment).is_some(),
            "2,000.00 + 9,000.00"
        );
    }

    #[test]
    fn a_pending_payment_and_its_posting_are_not_two_parts() {
        let mut ledger = Ledger::new();
        ledger.push(at(2, 10), "acme", 600_000).status = SpendStatus::Pending;
        ledger.push(at(3, 10), "acme", 600_000);
        assert!(ledger.factor(RuleId::SplitPayment).is_none());
    }

    #[test]
    fn the_tuned_percentage_moves_the_bound() {
        let mut ledger = Ledger::new();
        ledger.series("acme", 2, &[600_000, 600_000]);
        ledger.config.split_payment.total_percent = 120;
        assert!(ledger.factor(RuleId::SplitPayment).is_none());
        ledger.config.split_payment.total_percent = 110;
        let factor = ledger.factor(RuleId::SplitPayment).unwrap();
        assert!(factor
            .explanation
            .contains("over 110 % of the 10,000.00 limit"));
    }
}
