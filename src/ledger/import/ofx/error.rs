//! Why a file is refused: not OFX, broken markup at a line, no statement, or bad transactions.
//!
//! Invariant: no message holds an account number or a FITID: problems name a line, a field and a
//! reason, and quote only dates, amounts and currency codes.

use std::fmt;

/// At most this many bad transactions are listed; the total is still counted.
pub const MAX_PROBLEMS: usize = 100;

/// One unreadable field of one transaction (or statement).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub field: &'static str,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {} {}", self.line, self.field, self.reason)
    }
}

/// A refused file: nothing from it is to be stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OfxError {
    #[error("not an OFX file: {0}")]
    NotOfx(String),
    #[error("line {line}: {reason}")]
    Malformed { line: usize, reason: String },
    #[error("no bank or credit-card statement in the file{0}")]
    NoStatement(String),
    #[error("{total} unreadable field(s): {}", list(.problems))]
    BadTransactions {
        /// The first [`MAX_PROBLEMS`] problems, in the order they were found.
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
