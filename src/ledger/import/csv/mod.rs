//! CSV bank files into rows of spend, as pure logic over the file's bytes and a saved
//! [`CsvMapping`].
//!
//! Invariant: a file is read whole or refused: [`parse`] returns (and [`stream`] hands out, in
//! bounded memory) every row, amounts in integer
//! minor units of their ISO 4217 currency with positive meaning money out, each with a source
//! reference stable across re-imports, or a [`CsvError`] listing every bad row (line, column,
//! reason; at most [`MAX_PROBLEMS`] listed, all counted). Descriptions and counterparties are
//! never quoted in an error.

mod amount;
mod columns;
mod date;
mod decode;
mod error;
mod mapping;
mod row;
mod source;
mod stream;

#[cfg(test)]
mod parse_tests;

use std::convert::Infallible;
use std::io::Cursor;

use chrono::NaiveDate;

use crate::domain::Money;

pub use error::{CsvError, Problem, MAX_PROBLEMS};
pub use mapping::MAX_FOOTER_LINES;
pub use mapping::{Amounts, Column, CsvMapping, SignConvention};
pub use row::PREFIX as SOURCE_REF_PREFIX;
pub use source::MAX_LINE;
pub use stream::{stream, StreamError, StreamOptions, StreamSummary};

/// A whole CSV file that was read without a problem.
#[derive(Debug)]
pub struct CsvFile {
    /// The encoding the file was read as (`UTF-8`, `windows-1252`...).
    pub encoding: &'static str,
    pub delimiter: char,
    /// The date format used (the resolved one when the mapping says `auto`).
    pub date_format: String,
    pub rows: Vec<Row>,
}

/// One transaction row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The file's line where the row starts, counting from 1.
    pub line: usize,
    /// `csv-sha256:...` over the account, the line and the row's fields.
    pub source_ref: String,
    /// The date as the bank states it.
    pub posted_on: NaiveDate,
    /// Positive = money out.
    pub amount: Money,
    pub description: Option<String>,
    pub counterparty: Option<String>,
    /// The mapping's category column, when it has one and the cell is filled.
    pub category: Option<String>,
}

/// Reads a whole CSV file for the ledger account `account` (its id, which keys the source
/// references; not the bank's account number): [`stream`] over the bytes, rows collected.
pub fn parse(bytes: &[u8], mapping: &CsvMapping, account: &str) -> Result<CsvFile, CsvError> {
    let mut rows = Vec::new();
    let options = StreamOptions {
        account,
        max_rows: u64::MAX,
    };
    let summary = stream(Cursor::new(bytes), mapping, &options, &mut |row| {
        rows.push(row);
        Ok::<(), Infallible>(())
    })
    .map_err(|e| match e {
        StreamError::Csv(e) => e,
        StreamError::LineTooLong { line } => CsvError::Malformed {
            line,
            reason: "is longer than 1 MiB".to_owned(),
        },
        // Neither happens on bytes in memory without a row limit.
        StreamError::TooManyRows { .. } | StreamError::Io(_) => CsvError::Malformed {
            line: 0,
            reason: "could not be read".to_owned(),
        },
        StreamError::Stopped(never) => match never {},
    })?;
    Ok(CsvFile {
        encoding: summary.encoding,
        delimiter: summary.delimiter,
        date_format: summary.date_format,
        rows,
    })
}
