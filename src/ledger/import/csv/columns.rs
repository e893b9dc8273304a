//! Finding the mapping's columns in the file: the header row (after any preamble) and the index
//! and display name of every column the mapping uses.
//!
//! Invariant: a named column is matched to exactly one header cell (ignoring case and surrounding
//! spaces); a mapping whose names are not all in one row within the first [`HEADER_SEARCH`] rows
//! is refused, never matched in part.

use ::csv::StringRecord;

use super::error::CsvError;
use super::mapping::{Amounts, Column, CsvMapping};

/// How many rows a preamble may take before the header.
pub const HEADER_SEARCH: usize = 50;

/// One resolved column: its 0-based index and what problems call it.
#[derive(Clone, Debug)]
pub struct Slot {
    pub index: usize,
    pub name: String,
}

/// Where the amount is, resolved.
#[derive(Clone, Debug)]
pub enum AmountSlots {
    Single(Slot),
    Split { debit: Slot, credit: Slot },
}

/// Every column the reader reads.
#[derive(Clone, Debug)]
pub struct Slots {
    pub date: Slot,
    pub amount: AmountSlots,
    pub description: Option<Slot>,
    pub counterparty: Option<Slot>,
    pub category: Option<Slot>,
    pub currency: Option<Slot>,
}

/// Resolves the mapping against a header row (or none, for numbered columns only).
pub fn resolve(mapping: &CsvMapping, header: Option<&StringRecord>) -> Option<Slots> {
    let slot = |column: &Column| -> Option<Slot> {
        match column {
            Column::Number(n) => Some(Slot {
                index: n.checked_sub(1)?,
                name: header
                    .and_then(|h| h.get(n - 1))
                    .map(|h| h.trim().to_owned())
                    .filter(|h| !h.is_empty())
                    .unwrap_or_else(|| format!("column {n}")),
            }),
            Column::Name(name) => {
                let wanted = name.trim();
                let index = header?
                    .iter()
                    .position(|cell| cell.trim().eq_ignore_ascii_case(wanted))?;
                Some(Slot {
                    index,
                    name: wanted.to_owned(),
                })
            }
        }
    };
    let optional = |column: &Option<Column>| column.as_ref().map(slot);
    let amount = match &mapping.amount {
        Amounts::Single(c) => AmountSlots::Single(slot(c)?),
        Amounts::Split { debit, credit } => AmountSlots::Split {
            debit: slot(debit)?,
            credit: slot(credit)?,
        },
    };
    Some(Slots {
        date: slot(&mapping.date)?,
        amount,
        description: optional(&mapping.description).flatten_checked()?,
        counterparty: optional(&mapping.counterparty).flatten_checked()?,
        category: optional(&mapping.category).flatten_checked()?,
        currency: optional(&mapping.currency).flatten_checked()?,
    })
}

/// `None` (not mapped) is fine; `Some(None)` (mapped but not found) fails the whole resolution.
trait FlattenChecked {
    fn flatten_checked(self) -> Option<Option<Slot>>;
}

impl FlattenChecked for Option<Option<Slot>> {
    fn flatten_checked(self) -> Option<Option<Slot>> {
        match self {
            None => Some(None),
            Some(Some(slot)) => Some(Some(slot)),
            Some(None) => None,
        }
    }
}

/// The names the mapping looks for, for the error when no header row has them all.
pub fn wanted(mapping: &CsvMapping) -> CsvError {
    let names: Vec<String> = mapping
        .columns()
        .into_iter()
        .filter_map(|(_, c)| match c {
            Column::Name(n) => Some(format!("{:?}", n.trim())),
            Column::Number(_) => None,
        })
        .collect();
    CsvError::NoHeader(names.join(", "))
}
