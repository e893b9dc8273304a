//! The isolation forest's features, built from the ledger: what an auditor would look at to say a
//! payment is unusual for this tenant, as numbers a tree can cut.
//!
//! | column | meaning |
//! |---|---|
//! | `log_amount` | `ln(1 + |amount|)` in major units (dollars, not cents), so currencies with different exponents read alike and a tenfold amount is one step |
//! | `vendor_frequency` | `ln(1 + n)`, `n` = the vendor's payments in the previous 90 days (0 for a new vendor) |
//! | `vendor_ratio` | `ln(1 + amount) − ln(1 + median)`, the median of the vendor's payments in the previous 90 days (its latest [`MEDIAN_OF`] when it had more); 0 without history |
//! | `hour` | hour of day in UTC with minutes as a fraction, 0 ≤ h < 24 |
//! | `weekday` | 0 = Monday … 6 = Sunday |
//! | `days_since_vendor` | `ln(1 + d)`, `d` = days since the vendor's previous payment, at most 90 (90 for a new vendor) |
//! | `account_share` | the share of the tenant's earlier payments made from this account, in [0, 1] |
//!
//! Hour and weekday are plain numbers, not sine/cosine pairs: a tree isolates by cutting one
//! column at a time, and "03:00" or "Saturday" is one or two cuts at the end of a single column,
//! while a cyclic pair spreads the same signal over two columns that must both be cut. The
//! wrap-around (23:00 next to 00:00) matters little for payments, which cluster in the day. The
//! account is its share of payments rather than an ordinal: account ids have no order, so an
//! ordinal would make cuts group unrelated accounts, while a small share says what matters (a
//! rarely used account) and reads the same in every tenant. Logarithms give multiplicative
//! differences (10× the median) the same width wherever they are on the scale.
//!
//! Only payments (money out) count as earlier activity; a refund still gets a row.
//!
//! Invariant: a row uses only the transaction and those before it (smaller positions), so a row
//! computed when the transaction arrives equals the one a back-fill computes; [`rows`] and [`row`]
//! give bit-identical rows.

use std::collections::{HashMap, VecDeque};

use chrono::{Datelike, Duration, Timelike};

use super::{History, Txn};
use crate::domain::time::Timestamp;
use crate::domain::AccountId;

/// Features per row.
pub const WIDTH: usize = 7;

/// What each column is.
pub const NAMES: [&str; WIDTH] = [
    "log_amount",
    "vendor_frequency",
    "vendor_ratio",
    "hour",
    "weekday",
    "days_since_vendor",
    "account_share",
];

/// One transaction's features.
pub type Row = [f64; WIDTH];

/// How far back a vendor's history reaches, in days.
pub const WINDOW_DAYS: i64 = 90;

/// The vendor median is over at most this many of its latest payments in the window.
pub const MEDIAN_OF: usize = 1_000;

/// What a row needs about the vendor's earlier payments.
struct VendorPast {
    /// Payments in the window.
    count: usize,
    /// The median of the latest `MEDIAN_OF` of them, in minor units.
    median: Option<f64>,
    previous: Option<Timestamp>,
}

/// The features of the transaction at `position`.
pub fn row(history: &History, position: usize) -> Row {
    let txn = history.txn(position);
    let mut amounts = Vec::new();
    let mut previous = None;
    let mut count = 0;
    if let Some(key) = history.vendor_of(position) {
        let list = history.vendor_txns(key);
        let window = Duration::days(WINDOW_DAYS);
        let payments = || {
            let earlier = history.earlier_within(list, position, window);
            earlier
                .iter()
                .map(|&p| history.txn(p as usize))
                .filter(|t| t.is_payment())
        };
        count = payments().count();
        amounts = payments()
            .skip(count.saturating_sub(MEDIAN_OF))
            .map(|t| t.amount_minor)
            .collect();
        previous = history
            .earlier(list, position)
            .iter()
            .rev()
            .map(|&p| history.txn(p as usize))
            .find(|t| t.is_payment())
            .map(|t| t.occurred_at);
    }
    let earlier = &history.txns()[..position];
    let payments = earlier.iter().filter(|t| t.is_payment()).count();
    let same_account = earlier
        .iter()
        .filter(|t| t.is_payment() && t.account == txn.account)
        .count();
    amounts.sort_unstable();
    let past = VendorPast {
        count,
        median: median(&amounts),
        previous,
    };
    assemble(txn, &past, share(same_account, payments))
}

/// Every transaction's features, in the history's order: one pass with each vendor's running
/// window, equal to [`row`] at every position.
pub fn rows(history: &History) -> Vec<Row> {
    let mut windows: HashMap<u32, Window> = HashMap::new();
    let mut accounts: HashMap<Option<AccountId>, usize> = HashMap::new();
    let mut payments = 0usize;
    let mut out = Vec::with_capacity(history.len());
    for (position, txn) in history.txns().iter().enumerate() {
        let vendor = history.vendor_of(position);
        let window = vendor.map(|key| {
            let window = windows.entry(key).or_default();
            window.evict_before(txn.occurred_at - Duration::days(WINDOW_DAYS));
            window
        });
        let past = match &window {
            Some(w) => VendorPast {
                count: w.times.len(),
                median: median(&w.sorted),
                previous: w.previous,
            },
            None => VendorPast {
                count: 0,
                median: None,
                previous: None,
            },
        };
        let same_account = accounts.get(&txn.account).copied().unwrap_or(0);
        out.push(assemble(txn, &past, share(same_account, payments)));
        if txn.is_payment() {
            if let Some(window) = window {
                window.push(txn.occurred_at, txn.amount_minor);
            }
            *accounts.entry(txn.account).or_default() += 1;
            payments += 1;
        }
    }
    out
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn assemble(txn: &Txn, past: &VendorPast, account_share: f64) -> Row {
    let log_amount = log_major(txn.amount_minor.unsigned_abs(), txn.exponent);
    let ratio = past.median.map_or(0.0, |m| {
        log_amount - (1.0 + m / 10f64.powi(exp(txn.exponent))).ln()
    });
    let days = past.previous.map_or(WINDOW_DAYS as f64, |at| {
        let seconds = (txn.occurred_at - at).num_seconds().max(0) as f64;
        (seconds / 86_400.0).min(WINDOW_DAYS as f64)
    });
    let at = txn.occurred_at;
    let hour = f64::from(at.hour()) + f64::from(at.minute()) / 60.0;
    [
        log_amount,
        (1.0 + past.count as f64).ln(),
        ratio,
        hour,
        f64::from(at.weekday().num_days_from_monday()),
        (1.0 + days).ln(),
        account_share,
    ]
}

fn exp(exponent: u32) -> i32 {
    i32::try_from(exponent.min(18)).unwrap_or(18)
}

fn log_major(minor: u64, exponent: u32) -> f64 {
    (1.0 + minor as f64 / 10f64.powi(exp(exponent))).ln()
}

/// The median of `sorted` (ascending) in minor units: the mean of the two middle ones for an
/// even count.
fn median(sorted: &[i64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2] as f64),
        _ => Some((sorted[n / 2 - 1] as f64 + sorted[n / 2] as f64) / 2.0),
    }
}

/// A vendor's payments in the window: times in order, the latest `MEDIAN_OF` amounts sorted.
#[derive(Default)]
struct Window {
    times: VecDeque<(Timestamp, i64)>,
    sorted: Vec<i64>,
    previous: Option<Timestamp>,
}

impl Window {
    fn evict_before(&mut self, since: Timestamp) {
        while let Some(&(at, amount)) = self.times.front() {
            if at >= since {
                break;
            }
            // The oldest is among the latest `MEDIAN_OF` only when the window holds no more.
            if self.times.len() <= MEDIAN_OF {
                self.remove(amount);
            }
            self.times.pop_front();
        }
    }

    fn push(&mut self, at: Timestamp, amount: i64) {
        self.times.push_back((at, amount));
        let slot = self.sorted.partition_point(|&a| a < amount);
        self.sorted.insert(slot, amount);
        if self.times.len() > MEDIAN_OF {
            let (_, dropped) = self.times[self.times.len() - 1 - MEDIAN_OF];
            self.remove(dropped);
        }
        self.previous = Some(at);
    }

    fn remove(&mut self, amount: i64) {
        let slot = self.sorted.partition_point(|&a| a < amount);
        if self.sorted.get(slot) == Some(&amount) {
            self.sorted.remove(slot);
        }
    }
}

#[cfg(test)]
#[path = "features_tests.rs"]
mod tests;
