//! Fuzz target for the CSV reader: the first byte picks one of a few mappings (named or numbered
//! columns, auto or fixed dates, single or split amounts, footer rows, category and currency
//! columns), the rest is the file, read by `ledger::import::csv::parse`.
//!
//! Invariant checked: the reader never panics, and it is deterministic: a second read of the same
//! bytes gives the same rows and source references (or the same error), so a re-import adds
//! nothing; every row's source reference has the `csv-sha256:` prefix.
#![forbid(unsafe_code)]
#![no_main]

use auditpulse::ledger::import::csv::{parse, CsvFile, CsvMapping, Row, SOURCE_REF_PREFIX};
use libfuzzer_sys::fuzz_target;

const MAPPINGS: [&str; 4] = [
    r#"{"date": "Date", "date_format": "auto", "amount": {"single": "Amount"},
        "description": "Description", "default_currency": "USD"}"#,
    r#"{"date": 1, "date_format": "%d.%m.%Y", "amount": {"split": {"debit": 2, "credit": 3}},
        "decimal_separator": ",", "thousands_separator": ".", "header": false,
        "delimiter": ";", "skip_footer_lines": 1, "default_currency": "EUR"}"#,
    r#"{"date": "date", "date_format": "%Y-%m-%d", "amount": {"single": "amount"},
        "currency": "currency", "category": "category", "counterparty": "payee",
        "sign": "positive_is_money_out", "skip_lines": 1}"#,
    r#"{"date": 1, "date_format": "auto", "amount": {"single": 2}, "header": true,
        "default_currency": "JPY", "encoding": "windows-1252", "skip_footer_lines": 2}"#,
];

fn view(file: &CsvFile) -> (&'static str, char, &str, &[Row]) {
    (file.encoding, file.delimiter, &file.date_format, &file.rows)
}

fuzz_target!(|input: &[u8]| {
    let Some((&first, data)) = input.split_first() else {
        return;
    };
    let Ok(mapping) = serde_json::from_str::<CsvMapping>(MAPPINGS[usize::from(first) % 4]) else {
        panic!("a fuzz mapping does not deserialize");
    };
    match (parse(data, &mapping, "acct"), parse(data, &mapping, "acct")) {
        (Ok(a), Ok(b)) => {
            assert!(view(&a) == view(&b), "re-parse differs");
            assert!(a.rows.iter().all(|r| r.source_ref.starts_with(SOURCE_REF_PREFIX)));
        }
        (Err(a), Err(b)) => assert_eq!(a, b, "re-parse error differs"),
        _ => panic!("re-parse changed success into failure or back"),
    }
});
