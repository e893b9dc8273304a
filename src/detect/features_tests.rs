//! Tests of the features: the one-pass `rows` equals `row` everywhere, and each column means what
//! the table in `features.rs` says.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::domain::{Currency, SpendId};
use crate::ledger::{Source, SpendStatus};

fn start() -> DateTime<Utc> {
    // A Monday.
    Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap()
}

fn txn(at: DateTime<Utc>, vendor: Option<&str>, amount_minor: i64, account: u128) -> Txn {
    Txn {
        id: SpendId::new(),
        source: Source::Csv,
        account: (account > 0).then(|| AccountId::from_uuid(uuid::Uuid::from_u128(account))),
        occurred_at: at,
        booked_on: at.date_naive(),
        amount_minor,
        currency: Currency::parse("USD").unwrap(),
        exponent: 2,
        status: SpendStatus::Posted,
        vendor: vendor.map(str::to_owned),
        category: None,
    }
}

fn column(name: &str) -> usize {
    NAMES.iter().position(|n| *n == name).unwrap()
}

#[test]
fn one_pass_rows_equal_rows_computed_one_at_a_time() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let vendors = ["acme", "globex", "initech"];
    let mut txns = Vec::new();
    // Enough payments to one vendor within 90 days to pass the median's cap, plus refunds,
    // payments without a vendor or account, equal times and a gap longer than the window.
    for i in 0..(MEDIAN_OF + 300) {
        let at = start() + Duration::minutes(rng.gen_range(0..60 * 24 * 60));
        txns.push(txn(at, Some("acme"), rng.gen_range(100..100_000), 1));
        if i % 7 == 0 {
            let vendor = vendors[rng.gen_range(0..3)];
            let amount = rng.gen_range(-5_000..50_000);
            let vendor = (i % 21 != 0).then_some(vendor);
            txns.push(txn(at, vendor, amount, rng.gen_range(0..3)));
        }
    }
    txns.push(txn(start() + Duration::days(200), Some("globex"), 4_200, 2));
    let history = History::new(txns);
    let all = rows(&history);
    assert_eq!(all.len(), history.len());
    for (position, expected) in all.iter().enumerate() {
        let one = row(&history, position);
        assert_eq!(
            one.map(f64::to_bits),
            expected.map(f64::to_bits),
            "position {position}"
        );
    }
}

#[test]
fn a_new_vendor_has_no_frequency_no_ratio_and_the_longest_gap() {
    let history = History::new(vec![txn(start(), Some("acme"), 12_345, 1)]);
    let r = row(&history, 0);
    assert_eq!(r[column("vendor_frequency")], 0.0);
    assert_eq!(r[column("vendor_ratio")], 0.0);
    assert_eq!(r[column("days_since_vendor")], (1.0 + 90.0f64).ln());
    assert_eq!(r[column("log_amount")], (1.0 + 123.45f64).ln());
    assert_eq!(r[column("account_share")], 0.0);
}

#[test]
fn ratio_frequency_and_gap_read_the_vendors_last_ninety_days() {
    let day = Duration::days(1);
    let history = History::new(vec![
        // 105 days before the last: neither counted nor in the median.
        txn(start(), Some("acme"), 9_999_900, 1),
        txn(start() + day * 100, Some("acme"), 10_000, 1),
        txn(start() + day * 101, Some("acme"), 10_000, 1),
        txn(start() + day * 102, Some("acme"), 30_000, 2),
        // A refund is not a payment: it does not count.
        txn(start() + day * 103, Some("acme"), -10_000, 1),
        txn(start() + day * 105, Some("acme"), 100_000, 1),
    ]);
    let r = row(&history, 5);
    assert_eq!(r[column("vendor_frequency")], (1.0 + 3.0f64).ln());
    let expected = (1.0 + 1000.0f64).ln() - (1.0 + 100.0f64).ln();
    assert!((r[column("vendor_ratio")] - expected).abs() < 1e-12);
    assert!((r[column("days_since_vendor")] - (1.0 + 3.0f64).ln()).abs() < 1e-12);
    // Four earlier payments, three of them from account 1.
    assert_eq!(r[column("account_share")], 0.75);
}

#[test]
fn hour_and_weekday_are_plain_numbers() {
    let saturday_night = start() + Duration::days(5) + Duration::minutes(3 * 60 + 30);
    let history = History::new(vec![txn(saturday_night, Some("acme"), 500, 1)]);
    let r = row(&history, 0);
    assert_eq!(r[column("hour")], 3.5);
    assert_eq!(r[column("weekday")], 5.0);
}
