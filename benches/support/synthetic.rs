//! A synthetic tenant ledger for detection benchmarks: a few hundred vendors with their own amount
//! distributions, weekly and monthly rhythms, a few accounts, mostly USD with some EUR, business
//! hours mostly, and about 1.5 % injected anomalies of every rule's kind, each labelled.
//!
//! Use from a bench with `#[path = "support/synthetic.rs"] mod synthetic;`.
//!
//! Invariant: deterministic for `(rows, seed)`; exactly `rows` transactions (anomalies from 100 rows), already in the order
//! `History::new` keeps (sorted by `occurred_at`, ids increasing with position), so `labels[i]`
//! labels `History::new(txns).txn(i)`. A label names the anomaly that was injected; `None` is an
//! ordinary payment (which a rule may still flag: ordinary ledgers have coincidences too, such as
//! a vendor's first payment or two equal amounts in one week).
#![allow(dead_code)] // each bench uses part of this module

use auditpulse::detect::{RuleId, Txn};
use auditpulse::domain::{AccountId, Currency, SpendId};
use auditpulse::ledger::{Source, SpendStatus};
use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

/// A generated ledger with its labels.
pub struct Synthetic {
    pub txns: Vec<Txn>,
    /// Aligned with `txns`: the injected anomaly's rule, or `None`.
    pub labels: Vec<Option<RuleId>>,
    /// The approved-vendor list (normalised names): every ordinary vendor and every new vendor,
    /// not the handful that only `unapproved_vendor` anomalies pay.
    pub approved: Vec<String>,
}

/// Ordinary vendors; subscriptions are the first `MONTHLY + WEEKLY` of them.
const VENDORS: usize = 300;
const MONTHLY: usize = 45;
const WEEKLY: usize = 30;
const UNAPPROVED: usize = 8;
/// The large-payment limit the anomalies are built around, in USD cents.
const LIMIT: i64 = 1_000_000;
/// Anomalies per 1,000 rows.
const ANOMALY_PER_MILLE: usize = 15;

const WORDS_A: [&str; 24] = [
    "north", "blue", "summit", "river", "granite", "harbor", "maple", "silver", "cedar", "eagle",
    "pioneer", "atlas", "beacon", "copper", "delta", "ember", "falcon", "golden", "horizon",
    "iron", "juniper", "keystone", "lumen", "meridian",
];
const WORDS_B: [&str; 12] = [
    "bay", "ridge", "field", "stone", "light", "brook", "crest", "gate", "wood", "vale", "point",
    "park",
];
const WORDS_C: [&str; 24] = [
    "logistics",
    "software",
    "catering",
    "supplies",
    "consulting",
    "cloud",
    "freight",
    "office",
    "media",
    "security",
    "energy",
    "legal",
    "print",
    "travel",
    "hosting",
    "analytics",
    "staffing",
    "telecom",
    "facilities",
    "labs",
    "packaging",
    "design",
    "insurance",
    "networks",
];

/// A unique normalised vendor name per `index` (words only: `normalize` drops trailing digits).
fn vendor_name(index: usize, with_middle: bool) -> String {
    let mut words = vec![WORDS_A[index % 24]];
    let mut rest = index / 24;
    if with_middle {
        words.push(WORDS_B[rest % 12]);
        rest /= 12;
    }
    words.push(WORDS_C[rest % 24]);
    rest /= 24;
    while rest > 0 {
        words.push(WORDS_B[rest % 12]);
        rest /= 12;
    }
    words.join(" ")
}

#[derive(Clone, Copy, PartialEq)]
enum Rhythm {
    Monthly { day: u32 },
    Weekly { weekday: u32 },
    Irregular,
}

struct Vendor {
    name: String,
    rhythm: Rhythm,
    /// Median payment in minor units.
    median: f64,
    /// Log-normal spread; 0 for fixed-price subscriptions.
    sigma: f64,
    weight: f64,
    account: usize,
    currency: usize,
    source: Source,
}

/// A transaction before ids are assigned.
struct Draft {
    at: chrono::DateTime<Utc>,
    vendor: String,
    amount: i64,
    account: usize,
    currency: usize,
    source: Source,
    label: Option<RuleId>,
}

const CURRENCIES: [&str; 2] = ["USD", "EUR"];
const ACCOUNT_WEIGHTS: [f64; 4] = [0.6, 0.25, 0.1, 0.05];

struct Gen {
    rng: ChaCha8Rng,
    start: NaiveDate,
    days: i64,
    vendors: Vec<Vendor>,
    drafts: Vec<Draft>,
}

/// `rows` transactions for one tenant, deterministic for `seed`.
pub fn generate(rows: usize, seed: u64) -> Synthetic {
    let mut gen = Gen::new(rows, seed);
    let anomalies = gen.anomaly_budget(rows);
    let ordinary = rows.saturating_sub(anomalies);
    gen.subscriptions(ordinary / 10);
    let irregular = ordinary.saturating_sub(gen.drafts.len());
    gen.irregular(irregular);
    if anomalies > 0 {
        let per_kind = gen.per_kind(rows);
        gen.anomalies(per_kind);
    }
    gen.finish()
}

impl Gen {
    fn new(rows: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // About 900 payments a day, between two months and three years of history.
        let days = (rows / 900).clamp(60, 1100) as i64;
        let vendors = (0..VENDORS).map(|i| vendor(&mut rng, i)).collect();
        let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
        Gen {
            rng,
            start,
            days,
            vendors,
            drafts: Vec::with_capacity(rows),
        }
    }

    /// Rows the anomalies will take: ~1.5 %, shared equally by the nine kinds.
    /// (Below 100 rows there are none.)
    fn anomaly_budget(&self, rows: usize) -> usize {
        if rows < 100 {
            return 0;
        }
        self.per_kind(rows) * 9
    }

    fn per_kind(&self, rows: usize) -> usize {
        (rows * ANOMALY_PER_MILLE / 1000 / 9).max(1)
    }

    fn day(&self, offset: i64) -> NaiveDate {
        self.start + Duration::days(offset)
    }

    /// A business-hours time on `date`: 08:00–18:59, busiest mid-day.
    fn business_time(&mut self, date: NaiveDate) -> chrono::DateTime<Utc> {
        let hour = 8 + (self.rng.gen_range(0..11) + self.rng.gen_range(0..11)) / 2;
        self.at(date, hour)
    }

    fn at(&mut self, date: NaiveDate, hour: u32) -> chrono::DateTime<Utc> {
        let (minute, second) = (self.rng.gen_range(0..60), self.rng.gen_range(0..60));
        let time = date.and_hms_opt(hour, minute, second).unwrap_or_default();
        Utc.from_utc_datetime(&time)
    }

    /// A working day: weekdays, with month ends busier (invoices) and a rare Saturday.
    fn working_day(&mut self) -> NaiveDate {
        loop {
            let offset = self.rng.gen_range(0..self.days);
            let date = self.day(offset);
            let weekend = date.weekday().number_from_monday() > 5;
            if weekend && !(date.weekday() == Weekday::Sat && self.rng.gen_bool(0.02)) {
                continue;
            }
            let month_end = date.day() >= 26 || date.day() <= 2;
            if month_end || self.rng.gen_bool(0.7) {
                return date;
            }
        }
    }

    fn amount(&mut self, v: usize) -> i64 {
        let vendor = &self.vendors[v];
        let (median, sigma) = (vendor.median, vendor.sigma);
        if sigma == 0.0 {
            return median as i64;
        }
        let z = normal(&mut self.rng);
        let mut minor = (median * (sigma * z).exp()).round().clamp(100.0, 900_000.0) as i64;
        if minor % 100_000 == 0 {
            minor += self.rng.gen_range(1..100);
        }
        minor
    }

    fn push(&mut self, at: chrono::DateTime<Utc>, v: usize, amount: i64, label: Option<RuleId>) {
        let vendor = &self.vendors[v];
        let account = if self.rng.gen_bool(0.9) {
            vendor.account
        } else {
            pick_weighted(&mut self.rng, &ACCOUNT_WEIGHTS)
        };
        self.drafts.push(Draft {
            at,
            vendor: vendor.name.clone(),
            amount,
            account,
            currency: vendor.currency,
            source: vendor.source,
            label,
        });
    }

    /// Monthly and weekly subscriptions on their day, at most `budget` rows.
    fn subscriptions(&mut self, budget: usize) {
        let mut due = Vec::new();
        for offset in 0..self.days {
            let date = self.day(offset);
            for (v, vendor) in self.vendors.iter().enumerate() {
                let hit = match vendor.rhythm {
                    Rhythm::Monthly { day } => date.day() == day,
                    Rhythm::Weekly { weekday } => date.weekday().num_days_from_monday() == weekday,
                    Rhythm::Irregular => false,
                };
                if hit {
                    due.push((date, v));
                }
            }
        }
        due.shuffle(&mut self.rng);
        due.truncate(budget);
        for (date, v) in due {
            let at = self.business_time(date);
            let amount = self.amount(v);
            self.push(at, v, amount, None);
        }
    }

    /// Ordinary payments to the irregular vendors, by their weights.
    fn irregular(&mut self, count: usize) {
        let mut total = 0.0;
        let cumulative: Vec<f64> = self
            .vendors
            .iter()
            .map(|v| {
                total += v.weight;
                total
            })
            .collect();
        for _ in 0..count {
            let x = self.rng.gen::<f64>() * total;
            let v = cumulative.partition_point(|&c| c <= x).min(VENDORS - 1);
            let date = self.working_day();
            let hour_late = self.rng.gen_bool(0.03);
            let at = if hour_late {
                let hour = self.rng.gen_range(19..22);
                self.at(date, hour)
            } else {
                self.business_time(date)
            };
            let amount = self.amount(v);
            self.push(at, v, amount, None);
        }
    }

    fn finish(mut self) -> Synthetic {
        self.drafts.sort_by_key(|d| d.at);
        let mut approved: Vec<String> = self.vendors.iter().map(|v| v.name.clone()).collect();
        let unapproved: Vec<String> = (0..UNAPPROVED).map(unapproved_name).collect();
        let mut extra: Vec<String> = self
            .drafts
            .iter()
            .filter(|d| d.label == Some(RuleId::NewVendor))
            .map(|d| d.vendor.clone())
            .collect();
        approved.append(&mut extra);
        approved.retain(|name| !unapproved.contains(name));
        let currencies: Vec<(Currency, u32)> = CURRENCIES
            .iter()
            .map(|c| Currency::iso(c).unwrap_or_else(|_| unreachable!("{c} is ISO 4217")))
            .collect();
        let (txns, labels) = self
            .drafts
            .into_iter()
            .enumerate()
            .map(|(i, d)| (txn(i, &d, &currencies), d.label))
            .unzip();
        Synthetic {
            txns,
            labels,
            approved,
        }
    }
}

fn unapproved_name(index: usize) -> String {
    format!("{} unlisted", vendor_name(index * 7 + 3, true))
}

fn txn(index: usize, d: &Draft, currencies: &[(Currency, u32)]) -> Txn {
    let (currency, exponent) = currencies[d.currency];
    Txn {
        id: SpendId::from_uuid(Uuid::from_u128(index as u128 + 1)),
        source: d.source,
        account: Some(AccountId::from_uuid(Uuid::from_u128(
            0xACC0 + d.account as u128,
        ))),
        occurred_at: d.at,
        booked_on: d.at.date_naive(),
        amount_minor: d.amount,
        currency,
        exponent,
        status: SpendStatus::Posted,
        vendor: Some(d.vendor.clone()),
        category: None,
    }
}

fn vendor(rng: &mut ChaCha8Rng, index: usize) -> Vendor {
    let rhythm = if index < MONTHLY {
        Rhythm::Monthly {
            day: rng.gen_range(1..=28),
        }
    } else if index < MONTHLY + WEEKLY {
        Rhythm::Weekly {
            weekday: rng.gen_range(0..5),
        }
    } else {
        Rhythm::Irregular
    };
    // Medians log-uniform from 5.00 to 3,000.00; subscriptions a fixed price with cents.
    let median = (500f64.ln() + rng.gen::<f64>() * (300_000f64 / 500.0).ln()).exp();
    let (median, sigma) = match rhythm {
        Rhythm::Monthly { .. } => ((median / 100.0).floor() * 100.0 + 99.0, 0.0),
        Rhythm::Weekly { .. } => (median, 0.15),
        Rhythm::Irregular => (median, rng.gen_range(0.2..0.6)),
    };
    let source = match rhythm {
        Rhythm::Monthly { .. } => Source::Gateway,
        _ if rng.gen_bool(0.7) => Source::Plaid,
        _ => Source::Csv,
    };
    Vendor {
        name: vendor_name(index, false),
        rhythm,
        median,
        sigma,
        // Zipf-like: a few vendors take most payments.
        weight: if rhythm == Rhythm::Irregular {
            1.0 / (1.0 + index as f64 - 75.0)
        } else {
            0.0
        },
        account: pick_weighted(rng, &ACCOUNT_WEIGHTS),
        currency: usize::from(rng.gen_bool(0.05)),
        source,
    }
}

/// A standard normal deviate (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn pick_weighted(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.gen::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

#[path = "synthetic_anomalies.rs"]
mod anomalies;
