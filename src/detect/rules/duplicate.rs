//! Duplicate payment: the same amount to the same normalised counterparty within `window_days`,
//! from any source (a Plaid transaction and the same payment in an imported file count).
//!
//! Invariant: a pending transaction and its posted successor (same source and account, one
//! pending and one posted) are one payment, never a duplicate of each other; payments below
//! `min_amount` are not judged. A fixed strength of 0.8: a duplicate alone alerts.

use chrono::Duration;

use super::Context;
use crate::detect::config::grouped_minor;
use crate::detect::Finding;

const STRENGTH: f64 = 0.8;

pub(super) fn check(ctx: &Context<'_>, position: usize) -> Option<Finding> {
    let settings = &ctx.config.duplicate;
    let history = ctx.history;
    let txn = history.txn(position);
    let key = history.vendor_of(position)?;
    if txn.amount_minor < settings.min_amount.minor_ceil(txn.exponent) {
        return None;
    }
    let window = Duration::days(i64::from(settings.window_days));
    let earlier = super::recent(history, history.vendor_txns(key), position, window);
    let twin = earlier
        .iter()
        .rev()
        .map(|&p| history.txn(p as usize))
        .find(|t| {
            t.amount_minor == txn.amount_minor
                && t.currency == txn.currency
                && !super::pending_and_posted(t, txn)
        })?;
    let days = (txn.occurred_at - twin.occurred_at).num_days();
    Some(Finding {
        strength: STRENGTH,
        explanation: format!(
            "{} {} was also paid to \"{}\" {} ({}, {} on {})",
            grouped_minor(txn.amount_minor, txn.exponent),
            txn.currency,
            history.vendor_name(key),
            super::days_text(days),
            twin.source.as_str(),
            twin.status.as_str(),
            twin.booked_on
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{at, Ledger};
    use crate::detect::RuleId;
    use crate::domain::{AccountId, Currency};
    use crate::ledger::{Source, SpendStatus};

    #[test]
    fn the_same_amount_within_the_window_is_a_duplicate() {
        let mut ledger = Ledger::new();
        ledger.push(at(2, 10), "acme", 123_456);
        ledger.push(at(4, 9), "acme", 123_456);
        let factor = ledger.factor(RuleId::Duplicate).unwrap();
        assert_eq!(factor.strength, 0.8);
        assert_eq!(
            factor.explanation,
            "1,234.56 USD was also paid to \"acme\" 1 day earlier (csv, posted on 2026-03-02)"
        );
        ledger.txns[1].occurred_at = at(9, 10);
        assert!(ledger.factor(RuleId::Duplicate).is_some(), "exactly 7 days");
        ledger.txns[1].occurred_at = at(9, 11);
        assert!(
            ledger.factor(RuleId::Duplicate).is_none(),
            "7 days and an hour"
        );
    }

    #[test]
    fn other_amounts_vendors_currencies_and_credits_are_not_duplicates() {
        let mut ledger = Ledger::new();
        ledger.push(at(2, 10), "acme", 123_456);
        ledger.push(at(2, 11), "globex", 123_456);
        ledger.push(at(2, 12), "acme", 123_455);
        assert!(ledger.factor(RuleId::Duplicate).is_none());
        let eur = ledger.push(at(2, 13), "acme", 123_456);
        eur.currency = Currency::parse("EUR").unwrap();
        assert!(ledger.factor(RuleId::Duplicate).is_none());
        ledger.push(at(2, 14), "acme", -123_456);
        assert!(ledger.factor(RuleId::Duplicate).is_none());
    }

    #[test]
    fn the_same_payment_from_two_sources_is_a_duplicate() {
        let mut ledger = Ledger::new();
        let plaid = ledger.push(at(2, 10), "acme", 50_000);
        (plaid.source, plaid.status) = (Source::Plaid, SpendStatus::Pending);
        ledger.push(at(3, 0), "acme", 50_000);
        let factor = ledger.factor(RuleId::Duplicate).unwrap();
        assert!(
            factor
                .explanation
                .ends_with("(plaid, pending on 2026-03-02)"),
            "{factor:?}"
        );
    }

    #[test]
    fn a_pending_payment_and_its_posted_successor_are_one_payment() {
        let mut ledger = Ledger::new();
        ledger.push(at(2, 10), "acme", 50_000).status = SpendStatus::Pending;
        ledger.push(at(4, 10), "acme", 50_000);
        assert!(ledger.factor(RuleId::Duplicate).is_none());
        ledger.txns[0].account = Some(AccountId::new());
        assert!(
            ledger.factor(RuleId::Duplicate).is_some(),
            "another account"
        );
        ledger.txns[0].account = Some(ledger.account);
        ledger.push(at(5, 10), "acme", 50_000);
        assert!(
            ledger.factor(RuleId::Duplicate).is_some(),
            "a second posted payment"
        );
    }

    #[test]
    fn small_payments_are_not_judged_and_yen_compare_in_yen() {
        let mut ledger = Ledger::new();
        ledger.series("acme", 2, &[2_499, 2_499]);
        assert!(ledger.factor(RuleId::Duplicate).is_none());
        let mut ledger = Ledger::new();
        for day in [2, 3] {
            let yen = ledger.push(at(day, 10), "acme", 25);
            (yen.currency, yen.exponent) = (Currency::parse("JPY").unwrap(), 0);
        }
        assert!(ledger.factor(RuleId::Duplicate).is_some());
        ledger.txns[1].amount_minor = 24;
        ledger.txns[0].amount_minor = 24;
        assert!(ledger.factor(RuleId::Duplicate).is_none());
    }
}
