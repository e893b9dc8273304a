//! One `STMTTRN` from raw fields to a [`Transaction`]: required fields checked, date, currency
//! and amount read, names kept, the FITID taken or generated.
//!
//! Invariant: a draft becomes a transaction only if every field reads; otherwise every problem of
//! it is returned at once, each with the line of the field (or of the `<STMTTRN>` if absent).

use std::borrow::Cow;

use super::error::Problem;
use super::fitid::Fallbacks;
use super::{amount, date, Transaction};
use crate::domain::{Currency, Money};

/// A leaf's value and line.
pub struct Field<'a> {
    pub value: Cow<'a, str>,
    pub line: usize,
}

/// What a transaction takes from its statement.
pub struct Context {
    pub currency: Option<Currency>,
    pub exponent: u32,
}

/// The raw fields of one `STMTTRN` as they are read.
pub struct Draft<'a> {
    line: usize,
    kind: Option<Field<'a>>,
    posted: Option<Field<'a>>,
    amount: Option<Field<'a>>,
    fitid: Option<Field<'a>>,
    name: Option<Field<'a>>,
    payee: Option<Field<'a>>,
    memo: Option<Field<'a>>,
    check_number: Option<Field<'a>>,
    currency: Option<Field<'a>>,
    original_currency: Option<Field<'a>>,
}

impl<'a> Draft<'a> {
    pub fn new(line: usize) -> Self {
        Self {
            line,
            kind: None,
            posted: None,
            amount: None,
            fitid: None,
            name: None,
            payee: None,
            memo: None,
            check_number: None,
            currency: None,
            original_currency: None,
        }
    }

    /// Line of the `<STMTTRN>` tag.
    pub fn line(&self) -> usize {
        self.line
    }

    /// Records a leaf found under `parent` inside this transaction; unknown fields are ignored.
    pub fn set(&mut self, parent: &str, tag: &str, field: Field<'a>) {
        let slot = match (parent, tag) {
            ("STMTTRN", "TRNTYPE") => &mut self.kind,
            ("STMTTRN", "DTPOSTED") => &mut self.posted,
            ("STMTTRN", "TRNAMT") => &mut self.amount,
            ("STMTTRN", "FITID") => &mut self.fitid,
            ("STMTTRN", "NAME") => &mut self.name,
            ("STMTTRN", "PAYEE") | ("PAYEE", "NAME") => &mut self.payee,
            ("STMTTRN", "MEMO") => &mut self.memo,
            ("STMTTRN", "CHECKNUM") => &mut self.check_number,
            ("CURRENCY", "CURSYM") => &mut self.currency,
            ("ORIGCURRENCY", "CURSYM") => &mut self.original_currency,
            _ => return,
        };
        *slot = Some(field);
    }

    /// The transaction, or every problem it has.
    pub fn finish(
        self,
        context: &Context,
        account: &str,
        fallbacks: &mut Fallbacks,
    ) -> Result<Transaction, Vec<Problem>> {
        let mut problems = Vec::new();
        let kind = self.required(&self.kind, "TRNTYPE", &mut problems);
        let posted = self.posted(&mut problems);
        let currency = self.currency(context, &mut problems);
        let original_currency = self.original_currency.as_ref().and_then(|f| {
            let parsed = amount::currency(&f.value);
            parsed
                .map_err(|r| problems.push(problem(f, "ORIGCURRENCY", r)))
                .ok()
        });
        let exponent = currency.map_or(context.exponent, |(_, e)| e);
        let minor = self.minor(exponent, &mut problems);
        let (Some(kind), Some(posted), Some((currency, _)), Some(minor)) =
            (kind, posted, currency, minor)
        else {
            return Err(problems);
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        let (fitid, fitid_generated) = match text(&self.fitid) {
            Some(fitid) => (fitid, false),
            None => (fallbacks.next(account, &self.content()), true),
        };
        Ok(Transaction {
            line: self.line,
            fitid,
            fitid_generated,
            kind: kind.value.to_ascii_uppercase(),
            posted_at: posted.utc,
            posted_on: posted.local_date,
            amount: Money::new(minor, currency),
            original_currency: original_currency.map(|(c, _)| c),
            name: text(&self.name).or_else(|| text(&self.payee)),
            memo: text(&self.memo),
            check_number: text(&self.check_number),
        })
    }

    /// `DTPOSTED`, required.
    fn posted(&self, problems: &mut Vec<Problem>) -> Option<date::OfxDate> {
        let field = self.required(&self.posted, "DTPOSTED", problems)?;
        date::parse(&field.value)
            .map_err(|r| problems.push(problem(field, "DTPOSTED", r)))
            .ok()
    }

    /// `TRNAMT`, required, in minor units with positive = money out.
    fn minor(&self, exponent: u32, problems: &mut Vec<Problem>) -> Option<i64> {
        let field = self.required(&self.amount, "TRNAMT", problems)?;
        amount::money_out_minor(&field.value, exponent)
            .map_err(|r| problems.push(problem(field, "TRNAMT", r)))
            .ok()
    }

    /// A present, non-empty field, or a problem saying it is missing.
    fn required<'f>(
        &self,
        field: &'f Option<Field<'a>>,
        name: &'static str,
        problems: &mut Vec<Problem>,
    ) -> Option<&'f Field<'a>> {
        match field {
            Some(f) if !f.value.is_empty() => Some(f),
            Some(f) => {
                problems.push(problem(f, name, "is empty".to_owned()));
                None
            }
            None => {
                let reason = "is missing".to_owned();
                problems.push(Problem {
                    line: self.line,
                    field: name,
                    reason,
                });
                None
            }
        }
    }

    /// `CURRENCY` when the transaction names one, else the statement's `CURDEF`.
    fn currency(&self, context: &Context, problems: &mut Vec<Problem>) -> Option<(Currency, u32)> {
        if let Some(f) = self.currency.as_ref().filter(|f| !f.value.is_empty()) {
            return amount::currency(&f.value)
                .map_err(|r| problems.push(problem(f, "CURRENCY", r)))
                .ok();
        }
        if let Some(currency) = context.currency {
            return Some((currency, context.exponent));
        }
        let reason = "is missing: neither the statement nor the transaction names a currency";
        problems.push(Problem {
            line: self.line,
            field: "CURDEF",
            reason: reason.to_owned(),
        });
        None
    }

    /// The fields the fallback FITID hashes, as written.
    fn content<'s>(&'s self) -> [&'s str; 8] {
        let raw = |f: &'s Option<Field<'a>>| f.as_ref().map_or("", |f| f.value.as_ref());
        [
            raw(&self.kind),
            raw(&self.posted),
            raw(&self.amount),
            raw(&self.name),
            raw(&self.payee),
            raw(&self.memo),
            raw(&self.check_number),
            raw(&self.currency),
        ]
    }
}

fn problem(field: &Field<'_>, name: &'static str, reason: String) -> Problem {
    Problem {
        line: field.line,
        field: name,
        reason,
    }
}

fn text(field: &Option<Field<'_>>) -> Option<String> {
    field
        .as_ref()
        .filter(|f| !f.value.is_empty())
        .map(|f| f.value.clone().into_owned())
}
