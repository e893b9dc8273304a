//! What is wrong with a budget YAML file: every problem found, each with the line it is on and
//! the path of the key (`applications[1].monthly_budget`), shown one per line.
//!
//! Invariant: at most [`MAX_PROBLEMS`] problems are kept; past that the error says more were
//! found, so a file full of mistakes cannot make an unbounded answer.

use std::fmt;

use crate::error::{Error, FieldError};

/// Problems kept per file; the rest are counted, not listed.
pub const MAX_PROBLEMS: usize = 50;

/// One thing wrong, at a line (1-based) and a path inside `budget_rules` (empty for the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub path: String,
    pub message: String,
}

impl Problem {
    /// The `line N: path` a reader looks up.
    pub fn place(&self) -> String {
        if self.path.is_empty() {
            format!("line {}", self.line)
        } else {
            format!("line {}: {}", self.line, self.path)
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place(), self.message)
    }
}

/// Every problem of a refused file (at least one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub problems: Vec<Problem>,
    /// Problems found past [`MAX_PROBLEMS`] and not listed.
    pub more: usize,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        if self.more > 0 {
            write!(f, "\n... and {} more problems", self.more)?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportError {}

impl From<ImportError> for Error {
    fn from(e: ImportError) -> Self {
        let mut fields: Vec<FieldError> = e
            .problems
            .iter()
            .map(|p| FieldError::new(p.place(), p.message.clone()))
            .collect();
        if e.more > 0 {
            fields.push(FieldError::new(
                "",
                format!("... and {} more problems", e.more),
            ));
        }
        Error::Validation(fields)
    }
}

/// The problems found so far, capped at [`MAX_PROBLEMS`].
#[derive(Debug, Default)]
pub(super) struct Problems {
    list: Vec<Problem>,
    more: usize,
}

impl Problems {
    pub(super) fn add(&mut self, line: usize, path: &str, message: impl Into<String>) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(Problem {
                line,
                path: path.to_owned(),
                message: message.into(),
            });
        } else {
            self.more += 1;
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// `Ok(value)` when nothing was found, else every problem in file order.
    pub(super) fn finish<T>(mut self, value: T) -> Result<T, ImportError> {
        if self.list.is_empty() {
            return Ok(value);
        }
        // Stable: problems on one line keep the order they were found in.
        self.list.sort_by_key(|p| p.line);
        Err(ImportError {
            problems: self.list,
            more: self.more,
        })
    }
}
