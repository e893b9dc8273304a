//! Detection rules benchmark: generates the synthetic 1,000,000-row ledger (seed 42;
//! `DETECT_BENCH_ROWS` to change the count), builds the History, and times `rules::evaluate` +
//! `score::risk` over every row on one thread, printing rows/s; then, per rule, precision and
//! recall against the injected labels (a row counts as flagged by a rule when that rule's factor
//! is present), and how many rows alert.
//!
//! The configuration is the default (medium preset) with the timing rule switched on (it is off
//! by default) so that its injected anomalies are measured too; time zone UTC, the generator's.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark reports on stdout and fails loudly

#[path = "support/synthetic.rs"]
mod synthetic;

use std::collections::HashSet;
use std::time::Instant;

use auditpulse::detect::config::DetectionConfig;
use auditpulse::detect::rules::{evaluate, Context};
use auditpulse::detect::score::risk;
use auditpulse::detect::{History, RuleId};

const SEED: u64 = 42;

fn main() {
    let rows: usize = std::env::var("DETECT_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let started = Instant::now();
    let ledger = synthetic::generate(rows, SEED);
    let generated = started.elapsed();
    let started = Instant::now();
    let history = History::new(ledger.txns);
    println!(
        "{rows} rows generated in {:.2} s, History built in {:.2} s",
        generated.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );

    let mut config = DetectionConfig::default();
    config.timing.enabled = true;
    let approved: HashSet<String> = ledger.approved.into_iter().collect();
    let ctx = Context {
        history: &history,
        config: &config,
        approved: &approved,
        snoozes: &[],
        time_zone: chrono_tz::UTC,
        now: auditpulse::domain::time::now(),
    };

    // Which rules fired per row, as a bit per `RuleId::ALL` index; the score per row.
    let mut fired = vec![0u16; history.len()];
    let mut scores = vec![0u8; history.len()];
    let started = Instant::now();
    for position in 0..history.len() {
        let factors = evaluate(&ctx, position);
        scores[position] = risk(&config, &factors);
        for factor in &factors {
            fired[position] |= 1 << bit(factor.rule);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "rules::evaluate + score::risk: {} rows in {elapsed:.2} s = {:.0} rows/s (one thread)",
        history.len(),
        history.len() as f64 / elapsed
    );
    report(&fired, &scores, &ledger.labels, config.alert_threshold);
    per_rule_cost(&ctx);
}

/// Each rule alone over every 10th row, to show where the time goes.
fn per_rule_cost(ctx: &Context<'_>) {
    println!("each rule alone, every 10th row:");
    for &rule in RuleId::ALL {
        if rule == RuleId::Forest {
            continue;
        }
        let mut config = ctx.config.clone();
        for &other in RuleId::ALL {
            set_enabled(&mut config, other, other == rule);
        }
        let alone = Context {
            config: &config,
            ..*ctx
        };
        let started = Instant::now();
        let mut fired = 0usize;
        for position in (0..ctx.history.len()).step_by(10) {
            fired += evaluate(&alone, position).len();
        }
        let per_row = started.elapsed().as_secs_f64() * 1e6 / (ctx.history.len() / 10) as f64;
        println!(
            "  {:<18} {per_row:>7.2} µs/row ({fired} fired)",
            rule.as_str()
        );
    }
}

fn set_enabled(config: &mut DetectionConfig, rule: RuleId, on: bool) {
    match rule {
        RuleId::LargeAmount => config.large_amount.enabled = on,
        RuleId::UnapprovedVendor => config.unapproved_vendor.enabled = on,
        RuleId::NewVendor => config.new_vendor.enabled = on,
        RuleId::VendorOutlier => config.vendor_outlier.enabled = on,
        RuleId::Duplicate => config.duplicate.enabled = on,
        RuleId::SplitPayment => config.split_payment.enabled = on,
        RuleId::Velocity => config.velocity.enabled = on,
        RuleId::Timing => config.timing.enabled = on,
        RuleId::RoundAmount => config.round_amount.enabled = on,
        RuleId::Forest => config.forest.enabled = on,
    }
}

fn bit(rule: RuleId) -> usize {
    RuleId::ALL.iter().position(|r| *r == rule).unwrap()
}

fn report(fired: &[u16], scores: &[u8], labels: &[Option<RuleId>], threshold: u8) {
    println!("rule               flagged  injected  true-pos  precision  recall");
    for &rule in RuleId::ALL {
        if rule == RuleId::Forest {
            continue;
        }
        let mask = 1u16 << bit(rule);
        let flagged = fired.iter().filter(|f| *f & mask != 0).count();
        let injected = labels.iter().filter(|l| **l == Some(rule)).count();
        let hits = fired
            .iter()
            .zip(labels)
            .filter(|(f, l)| *f & mask != 0 && **l == Some(rule))
            .count();
        println!(
            "{:<18} {flagged:>8} {injected:>9} {hits:>9} {:>10.3} {:>7.3}",
            rule.as_str(),
            ratio(hits, flagged),
            ratio(hits, injected)
        );
    }
    let alerts = scores.iter().filter(|s| **s >= threshold).count();
    let anomalies = labels.iter().filter(|l| l.is_some()).count();
    let caught = scores
        .iter()
        .zip(labels)
        .filter(|(s, l)| **s >= threshold && l.is_some())
        .count();
    println!(
        "alerts (score >= {threshold}): {alerts} rows, {caught} of {anomalies} injected anomalies \
         (precision {:.3}, recall {:.3})",
        ratio(caught, alerts),
        ratio(caught, anomalies)
    );
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}
