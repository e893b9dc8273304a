//! A CSV mapping: which columns hold what and how the bank writes dates and numbers, as saved per
//! tenant by name, and its validation into the [`Layout`] the reader uses.
//!
//! Invariant: a mapping the reader accepts is unambiguous: one date column and format, either one
//! amount column or a debit and a credit column, distinct ASCII separators, a known encoding and
//! currency, and columns named only where the file has a header.

use serde::{Deserialize, Serialize};

use super::amount::Separators;
use super::date::DateFormat;
use super::decode::by_label;
use crate::domain::Currency;
use crate::ledger::import::ofx::amount::currency;

/// A column by header name (matched ignoring case and surrounding spaces) or by number from 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Column {
    Number(usize),
    Name(String),
}

/// Where the amount is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Amounts {
    /// One signed column; its sign is read with [`SignConvention`].
    Single(Column),
    /// Money out in `debit`, money in in `credit`; each row fills one of them. Their signs are
    /// ignored: a bank that writes debits as `-12.50` means money out all the same.
    Split { debit: Column, credit: Column },
}

/// What a positive number in a single amount column means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignConvention {
    /// The account holder's view most banks export (and OFX's): `-12.50` is money out.
    #[default]
    NegativeIsMoneyOut,
    /// Card statements that list charges as positive: `12.50` is money out.
    PositiveIsMoneyOut,
}

/// A saved mapping. Amounts come out with positive meaning money out, whatever the file's
/// convention; `CR`/`DR` markers on a cell override the convention.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvMapping {
    pub date: Column,
    /// A chrono format such as `%d.%m.%Y`, `%m/%d/%Y`, `%Y-%m-%d`, or `auto`.
    pub date_format: String,
    pub amount: Amounts,
    #[serde(default)]
    pub sign: SignConvention,
    #[serde(default = "dot")]
    pub decimal_separator: char,
    #[serde(default)]
    pub thousands_separator: Option<char>,
    #[serde(default)]
    pub description: Option<Column>,
    #[serde(default)]
    pub counterparty: Option<Column>,
    /// A column with the bank's own category for each row (`Groceries`, `Travel`...).
    #[serde(default)]
    pub category: Option<Column>,
    /// A column with each row's ISO 4217 code; empty cells take `default_currency`.
    #[serde(default)]
    pub currency: Option<Column>,
    /// The account's currency, for rows that do not name one.
    #[serde(default)]
    pub default_currency: Option<String>,
    /// The field delimiter; absent: a `sep=X` first line, else a comma.
    #[serde(default)]
    pub delimiter: Option<char>,
    /// Whether a header row names the columns (`true` unless said otherwise).
    #[serde(default = "yes")]
    pub header: bool,
    /// Lines before the header (or the first row) to skip: a bank's preamble of account details.
    /// With a header and named columns, preamble lines are also skipped up to the first row that
    /// holds every named column.
    #[serde(default)]
    pub skip_lines: usize,
    /// Non-blank rows at the end of the file that are not transactions (a `Total` or `Closing
    /// balance` row) and are not read. Blank lines anywhere are always ignored.
    #[serde(default)]
    pub skip_footer_lines: usize,
    /// A WHATWG encoding label (`windows-1252`) that overrides detection.
    #[serde(default)]
    pub encoding: Option<String>,
}

fn dot() -> char {
    '.'
}

fn yes() -> bool {
    true
}

/// What the reader takes from a validated mapping beyond its columns (resolved against the
/// file's header by `columns`).
#[derive(Clone, Debug)]
pub struct Layout {
    pub date_format: DateFormat,
    pub sign: SignConvention,
    pub separators: Separators,
    pub default_currency: Option<(Currency, u32)>,
    pub delimiter: Option<u8>,
    pub header: bool,
    pub skip_lines: usize,
    pub skip_footer_lines: usize,
    pub encoding: Option<&'static encoding_rs::Encoding>,
}

/// The most footer rows a mapping may skip (they are held in memory while the file streams).
pub const MAX_FOOTER_LINES: usize = 10;

impl CsvMapping {
    /// Checks the mapping; the error says what to change.
    pub fn validate(&self) -> Result<Layout, String> {
        let date_format = DateFormat::parse(&self.date_format)?;
        let separators = self.separators()?;
        let delimiter = self.delimiter.map(ascii("delimiter")).transpose()?;
        if delimiter.is_some_and(|d| matches!(d, b'"' | b'\n' | b'\r')) {
            return Err("the delimiter cannot be a quote or a line break".to_owned());
        }
        let default_currency = self.default_currency.as_deref().map(currency).transpose()?;
        if default_currency.is_none() && self.currency.is_none() {
            return Err("name a currency column or a default_currency".to_owned());
        }
        let encoding = self.encoding.as_deref().map(by_label).transpose()?;
        if self.skip_footer_lines > MAX_FOOTER_LINES {
            return Err(format!(
                "skip_footer_lines can be at most {MAX_FOOTER_LINES}"
            ));
        }
        self.check_columns()?;
        Ok(Layout {
            date_format,
            sign: self.sign,
            separators,
            default_currency,
            delimiter,
            header: self.header,
            skip_lines: self.skip_lines,
            skip_footer_lines: self.skip_footer_lines,
            encoding,
        })
    }

    fn separators(&self) -> Result<Separators, String> {
        let decimal = self.decimal_separator;
        if !matches!(decimal, '.' | ',') {
            return Err("the decimal separator must be . or ,".to_owned());
        }
        if let Some(t) = self.thousands_separator {
            if t == decimal || t.is_ascii_digit() || t == '-' || t == '+' {
                return Err(
                    "the thousands separator must differ from the decimal separator, \
                            digits and signs"
                        .to_owned(),
                );
            }
        }
        Ok(Separators {
            decimal,
            thousands: self.thousands_separator,
        })
    }

    /// Every column used, in mapping order, with what it is for.
    pub fn columns(&self) -> Vec<(&'static str, &Column)> {
        let mut all = vec![("date", &self.date)];
        match &self.amount {
            Amounts::Single(c) => all.push(("amount", c)),
            Amounts::Split { debit, credit } => {
                all.push(("debit", debit));
                all.push(("credit", credit));
            }
        }
        let optional = [
            ("description", &self.description),
            ("counterparty", &self.counterparty),
            ("category", &self.category),
            ("currency", &self.currency),
        ];
        all.extend(
            optional
                .into_iter()
                .filter_map(|(n, c)| c.as_ref().map(|c| (n, c))),
        );
        all
    }

    fn check_columns(&self) -> Result<(), String> {
        let columns = self.columns();
        for (role, column) in &columns {
            match column {
                Column::Number(0) => return Err(format!("the {role} column counts from 1")),
                Column::Name(name) if name.trim().is_empty() => {
                    return Err(format!("the {role} column has an empty name"))
                }
                Column::Name(_) if !self.header => {
                    return Err(format!(
                        "the {role} column is named but the file has no header: give a number"
                    ))
                }
                _ => {}
            }
        }
        let data = [&self.date].into_iter().chain(match &self.amount {
            Amounts::Single(c) => vec![c],
            Amounts::Split { debit, credit } => vec![debit, credit],
        });
        let data: Vec<&Column> = data.collect();
        for (i, a) in data.iter().enumerate() {
            if data[i + 1..].iter().any(|b| same(a, b)) {
                return Err("the date and amount columns must be different columns".to_owned());
            }
        }
        Ok(())
    }
}

fn same(a: &Column, b: &Column) -> bool {
    match (a, b) {
        (Column::Name(x), Column::Name(y)) => x.trim().eq_ignore_ascii_case(y.trim()),
        (Column::Number(x), Column::Number(y)) => x == y,
        _ => false,
    }
}

fn ascii(what: &'static str) -> impl Fn(char) -> Result<u8, String> {
    move |c| {
        u8::try_from(c)
            .ok()
            .filter(u8::is_ascii)
            .ok_or_else(|| format!("the {what} must be one ASCII character"))
    }
}
