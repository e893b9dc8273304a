//! Round amount: a payment that is an exact multiple of the round figure (default 1,000.00) in
//! its currency, from `min_amount` up.
//!
//! Invariant: the multiple is tested exactly in integers (`amount × 10^4` against
//! `figure × 10^exponent`), so 1,000 JPY and 1,000.000 KWD are round and 999.99 USD is not. A
//! fixed strength of 0.3: a round figure alone does not alert.

use super::Context;
use crate::detect::config::grouped_minor;
use crate::detect::Finding;

const STRENGTH: f64 = 0.3;

pub(super) fn check(ctx: &Context<'_>, position: usize) -> Option<Finding> {
    let settings = &ctx.config.round_amount;
    let txn = ctx.history.txn(position);
    if txn.amount_minor < settings.min_amount.minor_ceil(txn.exponent) {
        return None;
    }
    let amount = i128::from(txn.amount_minor) * 10_000;
    let figure =
        i128::from(settings.figure.ten_thousandths()) * 10i128.saturating_pow(txn.exponent);
    if figure <= 0 || amount % figure != 0 {
        return None;
    }
    Some(Finding {
        strength: STRENGTH,
        explanation: format!(
            "{} is an exact multiple of {}",
            grouped_minor(txn.amount_minor, txn.exponent),
            settings.figure.grouped(txn.exponent)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{at, Ledger};
    use crate::detect::config::Amount;
    use crate::detect::RuleId;
    use crate::domain::Currency;

    fn round(amount_minor: i64, currency: &str, exponent: u32) -> Option<String> {
        let mut ledger = Ledger::new();
        let txn = ledger.push(at(2, 10), "acme", amount_minor);
        (txn.currency, txn.exponent) = (Currency::parse(currency).unwrap(), exponent);
        ledger.factor(RuleId::RoundAmount).map(|f| f.explanation)
    }

    #[test]
    fn exact_multiples_in_each_currency() {
        assert_eq!(
            round(500_000, "USD", 2).as_deref(),
            Some("5,000.00 is an exact multiple of 1,000.00")
        );
        assert_eq!(round(499_999, "USD", 2), None);
        assert_eq!(round(500_001, "USD", 2), None);
        assert_eq!(
            round(3_000, "JPY", 0).as_deref(),
            Some("3,000 is an exact multiple of 1,000")
        );
        assert_eq!(round(3_001, "JPY", 0), None);
        assert!(round(2_000_000, "KWD", 3).is_some());
        assert_eq!(round(2_000_001, "KWD", 3), None);
        assert_eq!(round(-500_000, "USD", 2), None);
    }

    #[test]
    fn the_figure_and_minimum_are_the_tenants() {
        let mut ledger = Ledger::new();
        ledger.push(at(2, 10), "acme", 100_000);
        assert!(
            ledger.factor(RuleId::RoundAmount).is_some(),
            "1,000.00 itself"
        );
        ledger.config.round_amount.min_amount = Amount::major(1_200);
        assert!(ledger.factor(RuleId::RoundAmount).is_none());
        ledger.config.round_amount.min_amount = Amount::major(100);
        ledger.config.round_amount.figure = Amount::parse("250.00").unwrap();
        ledger.txns[0].amount_minor = 75_000;
        assert!(ledger.factor(RuleId::RoundAmount).is_some());
    }
}
