//! Benford's law per vendor and per account: the first-digit distribution of their payments
//! against Benford's, by mean absolute deviation (MAD) with Nigrini's first-digit conformity
//! bands: close conformity up to 0.006, acceptable up to 0.012, marginal up to 0.015,
//! nonconformity above.
//!
//! Invariant: pure; only subjects with at least the minimum number of payments are judged, and
//! only payments (credits are left out). The first digit is the leading digit of the amount in
//! minor units, which is the amount's own first significant digit in any currency. Findings are
//! in a stable order: vendors by name, then accounts by id.

use serde::Serialize;

use super::History;

/// How closely a subject's first digits follow Benford's law (Nigrini's bands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Conformity {
    Close,
    Acceptable,
    Marginal,
    Nonconformity,
}

impl Conformity {
    /// The band of a first-digit MAD.
    pub fn of(mad: f64) -> Self {
        match mad {
            m if m <= 0.006 => Conformity::Close,
            m if m <= 0.012 => Conformity::Acceptable,
            m if m <= 0.015 => Conformity::Marginal,
            _ => Conformity::Nonconformity,
        }
    }
}

/// A judgement about one vendor's or account's payments.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BenfordFinding {
    /// `vendor` or `account`.
    pub subject: String,
    /// The vendor's normalised name or the account's id.
    pub value: String,
    pub payments: u64,
    /// Mean absolute deviation of the observed from Benford's proportions over digits 1–9.
    pub mad: f64,
    pub conformity: Conformity,
    /// Share of payments whose first digit is 1, 2, … 9.
    pub observed: [f64; 9],
    /// Benford's share for first digits 1 … 9: log10(1 + 1/d).
    pub expected: [f64; 9],
}

impl BenfordFinding {
    /// Whether a reviewer should look (marginal or nonconformity).
    pub fn is_concern(&self) -> bool {
        matches!(
            self.conformity,
            Conformity::Marginal | Conformity::Nonconformity
        )
    }
}

/// Benford's first-digit proportions.
pub fn expected() -> [f64; 9] {
    std::array::from_fn(|i| (1.0 + 1.0 / (i as f64 + 1.0)).log10())
}

/// The findings over `history` for subjects with at least `min_payments` payments.
pub fn findings(history: &History, min_payments: usize) -> Vec<BenfordFinding> {
    let mut vendors: Vec<(String, &[u32])> = history
        .vendors()
        .map(|(key, list)| (history.vendor_name(key).to_owned(), list))
        .collect();
    vendors.sort_by(|a, b| a.0.cmp(&b.0));
    let mut accounts: Vec<_> = history.accounts().collect();
    accounts.sort_by_key(|(account, _)| *account);
    let vendors = vendors
        .into_iter()
        .map(|(name, list)| ("vendor", name, list));
    let accounts = accounts
        .into_iter()
        .map(|(account, list)| ("account", account.to_string(), list));
    vendors
        .chain(accounts)
        .filter_map(|(subject, value, list)| judge(history, subject, value, list, min_payments))
        .collect()
}

fn judge(
    history: &History,
    subject: &str,
    value: String,
    list: &[u32],
    min_payments: usize,
) -> Option<BenfordFinding> {
    let mut counts = [0u64; 9];
    for &position in list {
        let amount = history.txn(position as usize).amount_minor;
        if amount > 0 {
            counts[first_digit(amount.unsigned_abs()) - 1] += 1;
        }
    }
    let payments: u64 = counts.iter().sum();
    if payments < min_payments as u64 {
        return None;
    }
    let observed = counts.map(|c| c as f64 / payments as f64);
    let expected = expected();
    let mad = observed
        .iter()
        .zip(expected)
        .map(|(o, e)| (o - e).abs())
        .sum::<f64>()
        / 9.0;
    Some(BenfordFinding {
        subject: subject.to_owned(),
        value,
        payments,
        mad,
        conformity: Conformity::of(mad),
        observed,
        expected,
    })
}

/// The leading decimal digit of a positive amount (1–9).
fn first_digit(mut amount: u64) -> usize {
    while amount >= 10 {
        amount /= 10;
    }
    amount as usize
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;
    use crate::detect::Txn;
    use crate::domain::{AccountId, Currency, SpendId};
    use crate::ledger::{Source, SpendStatus};

    fn txn(i: usize, vendor: &str, account: AccountId, amount_minor: i64) -> Txn {
        let occurred_at =
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::hours(i as i64);
        Txn {
            id: SpendId::new(),
            source: Source::Csv,
            account: Some(account),
            occurred_at,
            booked_on: occurred_at.date_naive(),
            amount_minor,
            currency: Currency::parse("USD").unwrap(),
            exponent: 2,
            status: SpendStatus::Posted,
            vendor: Some(vendor.to_owned()),
            category: None,
        }
    }

    /// `n` amounts whose mantissas are evenly spread on a log scale: Benford's law exactly, in
    /// the limit.
    fn benford_amounts(n: usize) -> Vec<i64> {
        (0..n)
            .map(|i| (10f64.powf(2.0 + 3.0 * (i as f64 + 0.5) / n as f64)).round() as i64)
            .collect()
    }

    #[test]
    fn log_uniform_amounts_conform_and_uniform_first_digits_do_not() {
        let (card, bank) = (AccountId::new(), AccountId::new());
        let mut txns = Vec::new();
        for (i, amount) in benford_amounts(300).into_iter().enumerate() {
            txns.push(txn(i, "natural", card, amount));
        }
        for i in 0..180 {
            let amount = (i % 9 + 1) as i64 * 10_000 + 123;
            txns.push(txn(1000 + i, "invented", bank, amount));
        }
        for i in 0..99 {
            txns.push(txn(2000 + i, "small", bank, 5_000));
        }
        txns.push(txn(3000, "natural", card, -900));
        let findings = findings(&History::new(txns), 100);
        let by = |value: &str| findings.iter().find(|f| f.value == value).unwrap();
        assert_eq!(findings.len(), 4, "two vendors and two accounts judged");
        let natural = by("natural");
        assert_eq!(
            (natural.subject.as_str(), natural.payments),
            ("vendor", 300)
        );
        assert_eq!(natural.conformity, Conformity::Close, "{natural:?}");
        assert!(!natural.is_concern());
        let invented = by("invented");
        assert_eq!(invented.conformity, Conformity::Nonconformity);
        assert!((invented.observed[8] - 1.0 / 9.0).abs() < 1e-12);
        assert!(invented.mad > 0.015 && invented.is_concern());
        assert!(findings.iter().all(|f| f.value != "small"), "99 payments");
        let bank = by(&bank.to_string());
        assert_eq!((bank.subject.as_str(), bank.payments), ("account", 279));
        assert_eq!(findings[0].value, "invented", "vendors by name first");
    }

    #[test]
    fn expected_proportions_and_bands_are_nigrinis() {
        let expected = expected();
        assert!(
            (expected[0] - std::f64::consts::LOG10_2).abs() < 1e-12
                && (expected[8] - 0.04576).abs() < 1e-5
        );
        assert!((expected.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(Conformity::of(0.006), Conformity::Close);
        assert_eq!(Conformity::of(0.0061), Conformity::Acceptable);
        assert_eq!(Conformity::of(0.012), Conformity::Acceptable);
        assert_eq!(Conformity::of(0.015), Conformity::Marginal);
        assert_eq!(Conformity::of(0.0151), Conformity::Nonconformity);
        assert_eq!((first_digit(7), first_digit(1_234_567)), (7, 1));
    }
}
