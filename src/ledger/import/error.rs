//! Why an imported file is refused, whatever its format, and how a refusal reaches the client: a
//! 422 whose first detail is the one-sentence reason and whose others are the listed problems.
//!
//! Invariant: no message quotes a description, a counterparty, an account number or a FITID: a
//! problem names a line, a column (or OFX field) and a reason, quoting only dates, amounts and
//! currency codes, as the readers write them.

use std::fmt;

use super::csv::{self, CsvError};
use super::ofx::{self, OfxError};
use crate::error::{Error, FieldError};

/// One unreadable field of one row or transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    /// The CSV column's header name (or `column N`), or the OFX field (`TRNAMT`).
    pub column: String,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {} {}", self.line, self.column, self.reason)
    }
}

/// A refused import: nothing the sink received from it is to be kept.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Not a bank file this reader takes (compressed, PDF, binary, not OFX...).
    #[error("{0}")]
    NotRecognised(String),
    /// The CSV mapping is missing or invalid.
    #[error("invalid CSV mapping: {0}")]
    Mapping(String),
    #[error("cannot decode the file: {0}")]
    Encoding(String),
    #[error("line {line}: {reason}")]
    Malformed { line: usize, reason: String },
    /// A CSV header, date-format or empty-file refusal, as one sentence.
    #[error("{0}")]
    Unreadable(String),
    #[error("{total} problem(s) in the file, such as {}", first(.problems))]
    Problems {
        /// The first 100 problems, in file order.
        problems: Vec<Problem>,
        total: u64,
    },
    #[error("the file has more than {limit} rows")]
    TooManyRows { limit: u64 },
    #[error("line {line} is longer than {limit} bytes")]
    LineTooLong { line: usize, limit: usize },
    #[error(
        "this file holds statements for {count} accounts; import each account's file separately"
    )]
    SeveralAccounts { count: usize },
    #[error("the file could not be read")]
    Io(#[source] std::io::Error),
    /// The sink refused a record.
    #[error("storing a record failed: {0}")]
    Sink(#[source] Error),
}

fn first(problems: &[Problem]) -> String {
    problems
        .first()
        .map_or_else(String::new, |p| format!("{p}"))
}

impl From<CsvError> for ImportError {
    fn from(e: CsvError) -> Self {
        match e {
            CsvError::Mapping(m) => ImportError::Mapping(m),
            CsvError::Encoding(m) => ImportError::Encoding(m),
            CsvError::Malformed { line, reason } => ImportError::Malformed { line, reason },
            CsvError::BadRows { problems, total } => ImportError::Problems {
                problems: problems.into_iter().map(from_csv).collect(),
                total: total as u64,
            },
            other @ (CsvError::NoHeader(_) | CsvError::NoRows | CsvError::Dates(_)) => {
                ImportError::Unreadable(other.to_string())
            }
        }
    }
}

fn from_csv(p: csv::Problem) -> Problem {
    Problem {
        line: p.line,
        column: p.column,
        reason: p.reason,
    }
}

impl From<OfxError> for ImportError {
    fn from(e: OfxError) -> Self {
        match e {
            OfxError::NotOfx(reason) => {
                ImportError::NotRecognised(format!("not an OFX file: {reason}"))
            }
            OfxError::Malformed { line, reason } => ImportError::Malformed { line, reason },
            OfxError::BadTransactions { problems, total } => ImportError::Problems {
                problems: problems.into_iter().map(from_ofx).collect(),
                total: total as u64,
            },
            other @ OfxError::NoStatement(_) => ImportError::Unreadable(other.to_string()),
        }
    }
}

fn from_ofx(p: ofx::Problem) -> Problem {
    Problem {
        line: p.line,
        column: p.field.to_owned(),
        reason: p.reason,
    }
}

impl From<ImportError> for Error {
    /// A 422 `validation_failed`: the sentence first (field empty: the file itself), then one
    /// detail per listed problem (field `line N`); I/O failures are server errors, a sink's error
    /// is passed on as it is.
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Sink(inner) => inner,
            ImportError::Io(io) => {
                Error::Internal(anyhow::Error::new(io).context("reading an import"))
            }
            other => {
                let mut fields = vec![FieldError::new("", other.to_string())];
                if let ImportError::Problems { problems, .. } = &other {
                    fields.extend(problems.iter().map(|p| {
                        FieldError::new(
                            format!("line {}", p.line),
                            format!("{} {}", p.column, p.reason),
                        )
                    }));
                }
                Error::Validation(fields)
            }
        }
    }
}
