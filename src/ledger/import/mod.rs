//! Bank-file import: format detection and streaming readers that turn an OFX/QFX or CSV file into
//! ledger records, one at a time, in bounded memory.
//!
//! Invariant: readers do no I/O beyond the reader they are given and never log; what they hand
//! out or refuse is decided by the bytes (and the mapping and account) alone, so the same file
//! always gives the same records with the same source references. A refused file may already have
//! handed records to the sink: the caller keeps nothing of a file that ends in an error.

pub mod csv;
mod detect;
mod error;
pub mod ofx;
pub(crate) mod text;

#[cfg(test)]
mod read_tests;

use std::io::{Read, Seek};

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::{Currency, Money};

pub use self::csv::CsvMapping;
pub use detect::detect;
pub use error::{ImportError, Problem};

/// The longest line (CSV record) or element (OFX tag, text, comment) a file may hold.
pub const MAX_LINE: usize = 1 << 20;

/// OFX text is handed to the tokenizer in chunks of about this size.
const OFX_CHUNK: usize = 64 * 1024;

/// A bank-file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OFX 1.x/2.x and QFX.
    Ofx,
    Csv,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Ofx => "ofx",
            Format::Csv => "csv",
        }
    }
}

/// How to read one file.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions<'a> {
    pub format: Format,
    /// Required for CSV.
    pub csv_mapping: Option<&'a CsvMapping>,
    /// The ledger account id: keys the source references (never the bank's account number).
    pub account: &'a str,
    /// Files with more rows (transactions) are refused.
    pub max_rows: u64,
}

/// One transaction read from a file, ready for the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The file line the row (or `<STMTTRN>`) starts on.
    pub line: usize,
    /// Unique per account within the file, stable across re-reads: the bank's FITID, an
    /// `ofx-sha256:` id when it has none, or a `csv-sha256:` row hash.
    pub source_ref: String,
    /// OFX: `DTPOSTED` in UTC; CSV: midnight UTC of the booking date.
    pub occurred_at: DateTime<Utc>,
    /// The date as the bank wrote it.
    pub booked_on: NaiveDate,
    /// Positive = money out.
    pub amount: Money,
    pub counterparty: Option<String>,
    pub description: Option<String>,
    /// OFX `TRNTYPE` lower-cased; CSV: the mapping's category column.
    pub category: Option<String>,
}

/// What a file that was read whole held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Records handed to the sink.
    pub rows: u64,
    pub format: Format,
    /// The encoding the file was read as (`UTF-8`, `windows-1252`...).
    pub encoding: &'static str,
    /// OFX: bank and credit-card statements read; CSV: 0.
    pub statements: u64,
    /// The currencies of the records, in order of first appearance.
    pub currencies: Vec<Currency>,
}

/// Reads the whole file, calling `sink` for each good record in file order. Streams: memory stays
/// bounded whatever the file size; reads the input twice at most. Once any problem is found,
/// `sink` is no longer called but reading continues to list every bad row. `sink` returning Err
/// stops reading and returns that error as [`ImportError::Sink`].
pub fn read<R: Read + Seek>(
    input: R,
    options: &ReadOptions<'_>,
    sink: &mut dyn FnMut(Record) -> Result<(), crate::Error>,
) -> Result<Summary, ImportError> {
    let mut currencies = Vec::new();
    let mut rows = 0u64;
    let mut deliver = |record: Record| {
        if !currencies.contains(&record.amount.currency) {
            currencies.push(record.amount.currency);
        }
        rows += 1;
        sink(record).map_err(ImportError::Sink)
    };
    let (format, encoding, statements) = match options.format {
        Format::Ofx => read_ofx(input, options, &mut deliver)?,
        Format::Csv => read_csv(input, options, &mut deliver)?,
    };
    Ok(Summary {
        rows,
        format,
        encoding,
        statements,
        currencies,
    })
}

type Deliver<'d> = dyn FnMut(Record) -> Result<(), ImportError> + 'd;

fn read_ofx<R: Read + Seek>(
    input: R,
    options: &ReadOptions<'_>,
    deliver: &mut Deliver<'_>,
) -> Result<(Format, &'static str, u64), ImportError> {
    let stream_options = ofx::StreamOptions {
        account: options.account,
        chunk: OFX_CHUNK,
        max_transactions: options.max_rows,
    };
    let mut each = |t: ofx::Transaction, accounts: usize| {
        // A second account makes the file a refusal: hand out nothing from then on.
        if accounts > 1 {
            return Ok(());
        }
        deliver(record_from_ofx(t))
    };
    let summary = ofx::stream(input, &stream_options, &mut each).map_err(|e| match e {
        ofx::StreamError::Ofx(e) => ImportError::from(e),
        ofx::StreamError::ElementTooLong { line } => ImportError::LineTooLong {
            line,
            limit: MAX_LINE,
        },
        ofx::StreamError::TooManyTransactions { limit } => ImportError::TooManyRows { limit },
        ofx::StreamError::Io(e) => ImportError::Io(e),
        ofx::StreamError::Stopped(e) => e,
    })?;
    if summary.accounts > 1 {
        return Err(ImportError::SeveralAccounts {
            count: summary.accounts,
        });
    }
    Ok((Format::Ofx, summary.encoding, summary.statements))
}

fn record_from_ofx(t: ofx::Transaction) -> Record {
    Record {
        line: t.line,
        source_ref: t.fitid,
        occurred_at: t.posted_at,
        booked_on: t.posted_on,
        amount: t.amount,
        counterparty: t.name,
        description: t.memo,
        category: Some(t.kind.to_ascii_lowercase()).filter(|k| !k.is_empty()),
    }
}

fn read_csv<R: Read + Seek>(
    input: R,
    options: &ReadOptions<'_>,
    deliver: &mut Deliver<'_>,
) -> Result<(Format, &'static str, u64), ImportError> {
    let mapping = options.csv_mapping.ok_or_else(|| {
        ImportError::Mapping("a CSV file needs a mapping naming its columns".to_owned())
    })?;
    let stream_options = csv::StreamOptions {
        account: options.account,
        max_rows: options.max_rows,
    };
    let mut each = |row: csv::Row| deliver(record_from_csv(row));
    let summary = csv::stream(input, mapping, &stream_options, &mut each).map_err(|e| match e {
        csv::StreamError::Csv(e) => ImportError::from(e),
        csv::StreamError::LineTooLong { line } => ImportError::LineTooLong {
            line,
            limit: MAX_LINE,
        },
        csv::StreamError::TooManyRows { limit } => ImportError::TooManyRows { limit },
        csv::StreamError::Io(e) => ImportError::Io(e),
        csv::StreamError::Stopped(e) => e,
    })?;
    Ok((Format::Csv, summary.encoding, 0))
}

fn record_from_csv(row: csv::Row) -> Record {
    Record {
        line: row.line,
        source_ref: row.source_ref,
        occurred_at: row.posted_on.and_time(chrono::NaiveTime::MIN).and_utc(),
        booked_on: row.posted_on,
        amount: row.amount,
        counterparty: row.counterparty,
        description: row.description,
        category: row.category,
    }
}
