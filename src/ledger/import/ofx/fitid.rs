//! The fallback FITID for transactions whose bank left it empty: a SHA-256 of the ledger account id
//! and the transaction's fields as written, plus how many identical transactions came before it in
//! the file.
//!
//! Invariant: the same file gives the same ids on every read (so a re-import adds nothing), and two
//! identical transactions in one file (two coffees on the same day) get different ids. The bank's
//! account number is never hashed: an unkeyed hash of it and clear fields could be brute-forced.
//! Memory per file is one small counter per distinct content (8-byte key: a collision of two
//! contents only raises an ordinal, and the id still hashes the whole content, so ids stay distinct
//! and stable).

use std::collections::HashMap;

use sha2::{Digest, Sha256};

/// Prefix that tells a generated id from a bank's.
pub const PREFIX: &str = "ofx-sha256:";

/// Counts of the contents seen so far in one file.
#[derive(Default)]
pub struct Fallbacks {
    seen: HashMap<u64, u32>,
}

impl Fallbacks {
    /// The id for the next transaction with this ledger account and content.
    pub fn next(&mut self, account: &str, fields: &[&str]) -> String {
        let mut hasher = Sha256::new();
        for part in std::iter::once(account).chain(fields.iter().copied()) {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        let content: [u8; 32] = hasher.finalize().into();
        let mut key = [0u8; 8];
        key.copy_from_slice(&content[..8]);
        let ordinal = self.seen.entry(u64::from_be_bytes(key)).or_insert(0);
        let id = Sha256::new()
            .chain_update(content)
            .chain_update(ordinal.to_be_bytes())
            .finalize();
        *ordinal += 1;
        format!("{PREFIX}{}", hex::encode(&id[..16]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_distinct_per_account_and_per_repeat() {
        let fields = ["DEBIT", "20240101", "-4.50", "COFFEE"];
        let first = Fallbacks::default().next("acct-1", &fields);
        let mut file = Fallbacks::default();
        assert_eq!(file.next("acct-1", &fields), first);
        let repeat = file.next("acct-1", &fields);
        assert_ne!(repeat, first);
        assert!(first.starts_with(PREFIX) && first.len() == PREFIX.len() + 32);
        assert!(!first.contains("acct"));
        assert_ne!(Fallbacks::default().next("acct-2", &fields), first);
        let moved = ["DEBIT", "20240101", "-4.5", "0COFFEE"];
        assert_ne!(Fallbacks::default().next("acct-1", &moved), first);
        let shifted = ["DEBIT", "20240101", "-4.50C", "OFFEE"];
        assert_ne!(Fallbacks::default().next("acct-1", &shifted), first);
    }
}
