//! Bank-file import: pure readers that turn a file's bytes into statements and transactions.
//!
//! Invariant: readers do no I/O and never log; what they return or refuse is decided by the bytes
//! alone, so the same file always gives the same result.

pub mod csv;
pub mod ofx;
pub(crate) mod text;
