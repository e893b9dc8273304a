//! Fuzz target for the streaming OFX reader: the first byte picks a chunk size, the rest is the
//! file, read by `ledger::import::ofx::stream` and by `parse_for`.
//!
//! Invariant checked: streaming hands out exactly the transactions `parse_for` returns, in order,
//! or refuses the file with the same error, whatever the chunk size (so no cut is made where the
//! tokenizer would read across it); and it never panics.
#![forbid(unsafe_code)]
#![no_main]

use std::io::Cursor;

use auditpulse::ledger::import::ofx::{parse_for, stream, StreamError, StreamOptions, Transaction};
use libfuzzer_sys::fuzz_target;

const ACCOUNT: &str = "fuzz-account";

fuzz_target!(|input: &[u8]| {
    let Some((&first, data)) = input.split_first() else {
        return;
    };
    let chunk = usize::from(first) * usize::from(first);
    let options = StreamOptions {
        account: ACCOUNT,
        chunk,
        max_transactions: u64::MAX,
    };
    let mut streamed: Vec<Transaction> = Vec::new();
    let result = stream(Cursor::new(data), &options, &mut |t, _| {
        streamed.push(t);
        Ok::<(), ()>(())
    });
    match (parse_for(data, ACCOUNT), result) {
        (Ok(file), Ok(summary)) => {
            let whole: Vec<&Transaction> = file.transactions().collect();
            let streamed: Vec<&Transaction> = streamed.iter().collect();
            assert!(whole == streamed, "streamed transactions differ (chunk {chunk})");
            assert_eq!(summary.statements, file.statements.len() as u64);
        }
        (Err(whole), Err(StreamError::Ofx(streamed))) => {
            assert_eq!(whole, streamed, "streamed refusal differs (chunk {chunk})")
        }
        (whole, streamed) => panic!(
            "parse {} but stream {} (chunk {chunk})",
            if whole.is_ok() { "read" } else { "refused" },
            match streamed {
                Ok(_) => "read".to_owned(),
                Err(e) => format!("{e:?}"),
            }
        ),
    }
});
