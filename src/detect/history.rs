//! The ledger as detection sees it: a tenant's payments in time order, with the indexes every rule
//! and feature needs (by vendor, by account) built once, so scoring one transaction reads only the
//! slices around it.
//!
//! Invariant: `txns` is sorted by (`occurred_at`, `id`) and every index lists positions in that
//! order, so "earlier" means a smaller position and a window is one contiguous sub-slice. Only
//! what is stored in the clear is here (amounts, dates, normalised counterparty, account): scoring
//! never opens sealed fields.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::domain::time::Timestamp;
use crate::domain::{AccountId, Currency, SpendId};
use crate::ledger::{Source, SpendStatus};

/// One transaction as detection reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Txn {
    pub id: SpendId,
    pub source: Source,
    pub account: Option<AccountId>,
    pub occurred_at: Timestamp,
    /// The date as the bank states it.
    pub booked_on: NaiveDate,
    /// Integer minor units of `currency`; positive = money out (a payment), negative = money in.
    pub amount_minor: i64,
    pub currency: Currency,
    /// Minor units per major unit is `10^exponent` (2 for USD, 0 for JPY, 3 for KWD).
    pub exponent: u32,
    pub status: SpendStatus,
    /// The normalised counterparty (`ledger::counterparty::normalize`), if any.
    pub vendor: Option<String>,
    pub category: Option<String>,
}

impl Txn {
    /// Money out.
    pub fn is_payment(&self) -> bool {
        self.amount_minor > 0
    }
}

/// A vendor's position in [`History`]'s interned names.
pub type VendorKey = u32;

/// A tenant's transactions in time order with their indexes.
#[derive(Debug, Default)]
pub struct History {
    txns: Vec<Txn>,
    vendor_of: Vec<Option<VendorKey>>,
    vendor_names: Vec<String>,
    vendor_keys: HashMap<String, VendorKey>,
    by_vendor: Vec<Vec<u32>>,
    by_account: HashMap<AccountId, Vec<u32>>,
}

impl History {
    /// Sorts `txns` by time and builds the indexes.
    pub fn new(mut txns: Vec<Txn>) -> Self {
        txns.sort_by_key(|t| (t.occurred_at, t.id));
        let mut history = History {
            vendor_of: Vec::with_capacity(txns.len()),
            ..History::default()
        };
        for (position, txn) in txns.iter().enumerate() {
            let position = u32::try_from(position).unwrap_or(u32::MAX);
            let vendor = txn.vendor.as_deref().map(|name| history.intern(name));
            if let Some(key) = vendor {
                history.by_vendor[key as usize].push(position);
            }
            if let Some(account) = txn.account {
                history
                    .by_account
                    .entry(account)
                    .or_default()
                    .push(position);
            }
            history.vendor_of.push(vendor);
        }
        history.txns = txns;
        history
    }

    fn intern(&mut self, name: &str) -> VendorKey {
        if let Some(key) = self.vendor_keys.get(name) {
            return *key;
        }
        let key = VendorKey::try_from(self.vendor_names.len()).unwrap_or(VendorKey::MAX);
        self.vendor_names.push(name.to_owned());
        self.vendor_keys.insert(name.to_owned(), key);
        self.by_vendor.push(Vec::new());
        key
    }

    pub fn len(&self) -> usize {
        self.txns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.txns.is_empty()
    }

    /// Every transaction, in time order.
    pub fn txns(&self) -> &[Txn] {
        &self.txns
    }

    pub fn txn(&self, position: usize) -> &Txn {
        &self.txns[position]
    }

    /// The position of the transaction with `id`, if it is here.
    pub fn position(&self, id: SpendId) -> Option<usize> {
        self.txns.iter().position(|t| t.id == id)
    }

    /// The interned vendor of the transaction at `position`.
    pub fn vendor_of(&self, position: usize) -> Option<VendorKey> {
        self.vendor_of[position]
    }

    pub fn vendor_key(&self, name: &str) -> Option<VendorKey> {
        self.vendor_keys.get(name).copied()
    }

    pub fn vendor_name(&self, key: VendorKey) -> &str {
        &self.vendor_names[key as usize]
    }

    /// Every vendor with its transactions' positions, in time order.
    pub fn vendors(&self) -> impl Iterator<Item = (VendorKey, &[u32])> {
        self.by_vendor
            .iter()
            .enumerate()
            .map(|(key, list)| (key as VendorKey, list.as_slice()))
    }

    /// Every account with its transactions' positions, in time order.
    pub fn accounts(&self) -> impl Iterator<Item = (AccountId, &[u32])> {
        self.by_account
            .iter()
            .map(|(account, list)| (*account, list.as_slice()))
    }

    /// The positions of a vendor's transactions, in time order.
    pub fn vendor_txns(&self, key: VendorKey) -> &[u32] {
        &self.by_vendor[key as usize]
    }

    /// The positions of an account's transactions, in time order.
    pub fn account_txns(&self, account: AccountId) -> &[u32] {
        self.by_account.get(&account).map_or(&[], Vec::as_slice)
    }

    /// The entries of `list` (positions in time order) strictly before `position` whose time is
    /// within `window` before it: the recent history a rule compares against.
    pub fn earlier_within<'a>(
        &self,
        list: &'a [u32],
        position: usize,
        window: chrono::Duration,
    ) -> &'a [u32] {
        let end = list.partition_point(|&p| (p as usize) < position);
        let since = self.txns[position].occurred_at - window;
        let start = list[..end].partition_point(|&p| self.txns[p as usize].occurred_at < since);
        &list[start..end]
    }

    /// The entries of `list` strictly before `position`.
    pub fn earlier<'a>(&self, list: &'a [u32], position: usize) -> &'a [u32] {
        let end = list.partition_point(|&p| (p as usize) < position);
        &list[..end]
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;

    fn txn(day: u32, vendor: &str, amount_minor: i64) -> Txn {
        let occurred_at = Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0).unwrap();
        Txn {
            id: SpendId::new(),
            source: Source::Csv,
            account: None,
            occurred_at,
            booked_on: occurred_at.date_naive(),
            amount_minor,
            currency: Currency::parse("USD").unwrap(),
            exponent: 2,
            status: SpendStatus::Posted,
            vendor: Some(vendor.to_owned()),
            category: None,
        }
    }

    #[test]
    fn windows_hold_only_earlier_transactions_within_reach() {
        let history = History::new(vec![
            txn(10, "acme", 300),
            txn(1, "acme", 100),
            txn(5, "acme", 200),
            txn(6, "globex", 50),
        ]);
        let acme = history.vendor_key("acme").unwrap();
        let list = history.vendor_txns(acme);
        assert_eq!(list.len(), 3);
        let last = *list.last().unwrap() as usize;
        assert_eq!(history.txn(last).amount_minor, 300);
        let recent = history.earlier_within(list, last, Duration::days(7));
        let amounts: Vec<i64> = recent
            .iter()
            .map(|&p| history.txn(p as usize).amount_minor)
            .collect();
        assert_eq!(amounts, [200]);
        assert_eq!(history.earlier(list, last).len(), 2);
        assert_eq!(history.vendor_name(acme), "acme");
    }
}
