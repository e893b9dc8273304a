//! One CSV record into a [`Row`]: date, currency and amount read, texts kept, the source reference
//! computed.
//!
//! Invariant: a record becomes a row only if every mapped cell reads; otherwise every problem of
//! it is returned at once. Amounts come out with positive meaning money out.

use ::csv::StringRecord;
use sha2::{Digest, Sha256};

use super::amount::{self, Marker, Separators};
use super::columns::{AmountSlots, Slot, Slots};
use super::error::Problem;
use super::mapping::SignConvention;
use super::Row;
use crate::domain::{Currency, Money};
use crate::ledger::import::ofx::amount::currency;

/// Prefix of every CSV source reference.
pub const PREFIX: &str = "csv-sha256:";

/// What every row is read with.
pub struct Reading<'a> {
    pub slots: &'a Slots,
    pub date_format: &'a str,
    pub separators: Separators,
    pub sign: SignConvention,
    pub default_currency: Option<(Currency, u32)>,
    pub account: &'a str,
}

impl Reading<'_> {
    /// The row, or every problem it has.
    pub fn row(&self, record: &StringRecord, line: usize) -> Result<Row, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut report = |slot: &Slot, reason: String| {
            problems.push(Problem {
                line,
                column: slot.name.clone(),
                reason,
            })
        };
        let posted_on = cell(record, &self.slots.date)
            .and_then(|c| super::date::read(c, self.date_format))
            .map_err(|r| report(&self.slots.date, r))
            .ok();
        let currency = self.currency(record).map_err(|(s, r)| report(s, r)).ok();
        let minor = currency.and_then(|(currency, exponent)| {
            self.money_out(record, currency, exponent)
                .map_err(|(s, r)| report(s, r))
                .ok()
        });
        let (Some(posted_on), Some((currency, _)), Some(minor)) = (posted_on, currency, minor)
        else {
            return Err(problems);
        };
        let text = |slot: &Option<Slot>| {
            let value = slot.as_ref().and_then(|s| record.get(s.index))?.trim();
            (!value.is_empty()).then(|| value.to_owned())
        };
        Ok(Row {
            line,
            source_ref: source_ref(self.account, line, record),
            posted_on,
            amount: Money::new(minor, currency),
            description: text(&self.slots.description),
            counterparty: text(&self.slots.counterparty),
            category: text(&self.slots.category),
        })
    }

    /// The row's currency cell, else the mapping's default.
    fn currency(&self, record: &StringRecord) -> Result<(Currency, u32), (&Slot, String)> {
        if let Some(slot) = &self.slots.currency {
            let code = record.get(slot.index).map(str::trim).unwrap_or("");
            if !code.is_empty() {
                return currency(code).map_err(|r| (slot, r));
            }
            return self.default_currency.ok_or((
                slot,
                "is empty and the mapping has no default_currency".to_owned(),
            ));
        }
        // The mapping's validation requires a currency column or a default.
        self.default_currency
            .ok_or((&self.slots.date, "has no currency".to_owned()))
    }

    /// Minor units, positive = money out.
    fn money_out(
        &self,
        record: &StringRecord,
        currency: Currency,
        exponent: u32,
    ) -> Result<i64, (&Slot, String)> {
        let too_large = |slot| (slot, "is too large".to_owned());
        match &self.slots.amount {
            AmountSlots::Single(slot) => {
                let written = cell(record, slot)
                    .and_then(|c| amount::read(c, self.separators, exponent))
                    .and_then(|w| same_currency(w, currency))
                    .map_err(|r| (slot, r))?;
                let magnitude = written.minor.checked_abs().ok_or_else(|| too_large(slot))?;
                Ok(match (written.marker, self.sign) {
                    (Some(Marker::Debit), _) => magnitude,
                    (Some(Marker::Credit), _) => -magnitude,
                    (None, SignConvention::NegativeIsMoneyOut) => -written.minor,
                    (None, SignConvention::PositiveIsMoneyOut) => written.minor,
                })
            }
            AmountSlots::Split { debit, credit } => {
                self.split(record, currency, exponent, debit, credit)
            }
        }
    }

    /// Debit and credit columns: one of them holds the amount (a zero in the other is allowed).
    fn split<'s>(
        &self,
        record: &StringRecord,
        currency: Currency,
        exponent: u32,
        debit: &'s Slot,
        credit: &'s Slot,
    ) -> Result<i64, (&'s Slot, String)> {
        let read = |slot: &'s Slot| -> Result<Option<i64>, (&'s Slot, String)> {
            let text = record.get(slot.index).map(str::trim).unwrap_or("");
            if text.is_empty() {
                return Ok(None);
            }
            let written = amount::read(text, self.separators, exponent)
                .and_then(|w| same_currency(w, currency))
                .map_err(|r| (slot, r))?;
            let magnitude = written.minor.checked_abs();
            magnitude.map(Some).ok_or((slot, "is too large".to_owned()))
        };
        let (out, into) = (read(debit)?, read(credit)?);
        match (out, into) {
            (Some(o), Some(i)) if o != 0 && i != 0 => Err((
                credit,
                format!(
                    "and {} are both filled: one row is one movement",
                    debit.name
                ),
            )),
            (Some(o), Some(0)) | (Some(o), None) => Ok(o),
            (_, Some(i)) => Ok(-i),
            (None, None) => Err((debit, format!("and {} are both empty", credit.name))),
        }
    }
}

/// A code written in the cell must be the row's currency.
fn same_currency(written: amount::Written, currency: Currency) -> Result<amount::Written, String> {
    match written.code {
        Some(code) if code != currency.as_str().as_bytes() => Err(format!(
            "names {} but the row's currency is {}",
            String::from_utf8_lossy(&code),
            currency.as_str()
        )),
        _ => Ok(written),
    }
}

fn cell<'r>(record: &'r StringRecord, slot: &Slot) -> Result<&'r str, String> {
    record
        .get(slot.index)
        .ok_or_else(|| "is missing: the row is too short".to_owned())
}

/// The row's idempotence key: a SHA-256 over the account, the line number and every field as
/// written, so the same file gives the same keys on every import and two identical rows (two
/// coffees on one day) differ by their line.
pub fn source_ref(account: &str, line: usize, record: &StringRecord) -> String {
    let mut hasher = Sha256::new();
    hasher.update((account.len() as u64).to_be_bytes());
    hasher.update(account.as_bytes());
    hasher.update((line as u64).to_be_bytes());
    for field in record.iter() {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    let digest = hasher.finalize();
    format!("{PREFIX}{}", hex::encode(&digest[..16]))
}
