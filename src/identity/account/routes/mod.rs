//! Routes of the caller's own account.

pub mod me;
pub mod password;
