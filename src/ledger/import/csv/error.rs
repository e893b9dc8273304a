//! Why a CSV file is refused: a bad mapping, an undecodable file, broken CSV, unresolvable dates,
//! or bad rows.
//!
//! Invariant: no message quotes a description, counterparty or any cell other than a date, an
//! amount or a currency code: problems name a line, a column and a reason.

use std::fmt;

/// At most this many bad rows are listed; the total is still counted.
pub const MAX_PROBLEMS: usize = 100;

/// One unreadable cell of one row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The file's line where the row starts, counting from 1.
    pub line: usize,
    /// The column's header name, or `column N` (from 1) in a file without a header.
    pub column: String,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {} {}", self.line, self.column, self.reason)
    }
}

/// A refused file: nothing from it is to be stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("invalid CSV mapping: {0}")]
    Mapping(String),
    #[error("cannot decode the file: {0}")]
    Encoding(String),
    #[error("line {line}: {reason}")]
    Malformed { line: usize, reason: String },
    #[error("the file has no header row naming {0}")]
    NoHeader(String),
    #[error("the file has no transaction rows")]
    NoRows,
    #[error("{0}")]
    Dates(String),
    #[error("{total} bad row problem(s): {}", list(.problems))]
    BadRows {
        /// The first [`MAX_PROBLEMS`] problems, in file order.
        problems: Vec<Problem>,
        total: usize,
    },
}

fn list(problems: &[Problem]) -> String {
    let shown: Vec<String> = problems.iter().take(5).map(Problem::to_string).collect();
    let more = problems.len().saturating_sub(5);
    if more == 0 {
        shown.join("; ")
    } else {
        format!("{}; and {more} more", shown.join("; "))
    }
}

/// Collects problems, keeping the first [`MAX_PROBLEMS`] and counting all.
#[derive(Default)]
pub struct Problems {
    listed: Vec<Problem>,
    total: usize,
}

/// Longest reason kept: a reason may quote a cell, and a cell may be up to a MiB long.
const MAX_REASON: usize = 200;

impl Problems {
    pub fn push(&mut self, mut problem: Problem) {
        self.total += 1;
        if self.listed.len() < MAX_PROBLEMS {
            if problem.reason.len() > MAX_REASON {
                let mut end = MAX_REASON;
                while !problem.reason.is_char_boundary(end) {
                    end -= 1;
                }
                problem.reason.truncate(end);
                problem.reason.push('…');
            }
            self.listed.push(problem);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub fn into_error(self) -> CsvError {
        CsvError::BadRows {
            problems: self.listed,
            total: self.total,
        }
    }
}
