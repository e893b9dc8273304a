//! Fuzz target for the OFX reader: arbitrary bytes into `ledger::import::ofx::parse`.
//!
//! Invariant checked: the reader never panics, and it is deterministic: reading the same bytes
//! twice gives the same statements (or the same error), so a re-import adds nothing. A bank's
//! empty FITID is always replaced by a non-empty generated id.
#![forbid(unsafe_code)]
#![no_main]

use auditpulse::domain::Currency;
use auditpulse::ledger::import::ofx::{parse, Flavor, OfxFile, StatementKind, Transaction};
use libfuzzer_sys::fuzz_target;

/// Generated FITIDs start with this (see `ledger::import::ofx::Transaction::fitid`).
const GENERATED_PREFIX: &str = "ofx-sha256:";

/// What a statement holds, with the account number compared as text (never printed).
type StatementView<'a> = (
    usize,
    StatementKind,
    Option<&'a str>,
    &'a str,
    Option<&'a str>,
    Option<Currency>,
    &'a [Transaction],
);

fn view(file: &OfxFile) -> (Flavor, Vec<StatementView<'_>>) {
    let statements = file
        .statements
        .iter()
        .map(|s| {
            (
                s.line,
                s.account.kind,
                s.account.bank_id.as_deref(),
                s.account.number.expose().as_str(),
                s.account.account_type.as_deref(),
                s.currency,
                s.transactions.as_slice(),
            )
        })
        .collect();
    (file.flavor, statements)
}

fn check_transaction(t: &Transaction) {
    assert!(!t.fitid.is_empty(), "empty FITID at line {}", t.line);
    if t.fitid_generated {
        assert!(
            t.fitid.starts_with(GENERATED_PREFIX),
            "generated FITID without prefix"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    match (parse(data), parse(data)) {
        (Ok(first), Ok(second)) => {
            assert!(view(&first) == view(&second), "re-parse differs");
            first.transactions().for_each(check_transaction);
        }
        (Err(first), Err(second)) => assert_eq!(first, second, "re-parse error differs"),
        _ => panic!("re-parse changed success into failure or back"),
    }
});
