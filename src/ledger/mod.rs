//! The ledger capability: bank spend from Plaid and imported bank files lands here.
//!
//! Invariant: everything the ledger reads from outside is turned into integer minor units and UTC
//! time before the rest of the system sees it.

pub mod import;
