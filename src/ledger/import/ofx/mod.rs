//! OFX/QFX bank files (1.x SGML, 2.x XML, and XML headers over SGML bodies) into bank and
//! credit-card statements, as pure logic over the file's bytes.
//!
//! Invariant: a file is read whole or refused: [`parse`] returns (and [`stream`] hands out, in
//! bounded memory, the same) every transaction of every bank
//! (`STMTRS`) and credit-card (`CCSTMTRS`) statement, amounts in integer minor units with positive
//! meaning money out and times in UTC, or an [`OfxError`] naming lines and reasons. Account numbers
//! stay in a [`SecretString`]: never printed, never in an error.

pub(crate) mod amount;
mod date;
mod error;
mod fitid;
mod header;
mod statement;
mod stream;
mod tokens;
mod transaction;

#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
mod parse_tests;
#[cfg(test)]
mod stream_tests;

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::{Currency, Money};
use crate::secret::SecretString;

pub use error::{OfxError, Problem, MAX_PROBLEMS};
pub use header::Flavor;
pub use stream::{stream, StreamError, StreamOptions, StreamSummary, MAX_ELEMENT};

/// A whole OFX file that was read without a problem.
#[derive(Debug)]
pub struct OfxFile {
    pub flavor: Flavor,
    pub statements: Vec<Statement>,
}

impl OfxFile {
    /// Transactions over every statement.
    pub fn transactions(&self) -> impl Iterator<Item = &Transaction> {
        self.statements.iter().flat_map(|s| s.transactions.iter())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementKind {
    /// `STMTRS`: checking, savings, money market, credit line.
    Bank,
    /// `CCSTMTRS`.
    CreditCard,
}

/// The account a statement is for. `number` is whole, for the caller to encrypt.
#[derive(Clone, Debug)]
pub struct Account {
    pub kind: StatementKind,
    /// `BANKID` (routing number or bank code); absent on credit cards.
    pub bank_id: Option<String>,
    /// `ACCTID`, never printed.
    pub number: SecretString,
    /// `ACCTTYPE` upper-cased (`CHECKING`, `SAVINGS`...); absent on credit cards.
    pub account_type: Option<String>,
}

/// One statement: an account, its default currency and its transactions in file order.
#[derive(Clone, Debug)]
pub struct Statement {
    pub line: usize,
    pub account: Account,
    /// `CURDEF`, when the bank filled it in.
    pub currency: Option<Currency>,
    pub transactions: Vec<Transaction>,
}

/// One `STMTTRN`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    /// Line of the `<STMTTRN>` tag.
    pub line: usize,
    /// The bank's `FITID`, or a content hash (`ofx-sha256:...`) when the bank left it empty.
    pub fitid: String,
    pub fitid_generated: bool,
    /// `TRNTYPE` upper-cased (`DEBIT`, `POS`, `CHECK`...).
    pub kind: String,
    /// `DTPOSTED` as an instant.
    pub posted_at: DateTime<Utc>,
    /// `DTPOSTED`'s calendar date as the bank wrote it, before conversion to UTC.
    pub posted_on: NaiveDate,
    /// `TRNAMT`, positive = money out, in `CURRENCY` if given, else the statement's `CURDEF`.
    pub amount: Money,
    /// `ORIGCURRENCY`: the currency the amount was converted from, when the bank says.
    pub original_currency: Option<Currency>,
    /// `NAME`, or `PAYEE`'s name.
    pub name: Option<String>,
    pub memo: Option<String>,
    pub check_number: Option<String>,
}

/// Whether the file's first bytes show an OFX header or an `<OFX>` root.
pub fn is_ofx(head: &[u8]) -> bool {
    header::sniff(head).is_ok()
}

/// Reads a whole OFX/QFX file, with generated FITIDs keyed by no ledger account (see
/// [`parse_for`]).
pub fn parse(bytes: &[u8]) -> Result<OfxFile, OfxError> {
    parse_for(bytes, "")
}

/// Reads a whole OFX/QFX file for the ledger account `account` (its id, which keys the generated
/// FITIDs; never the bank's account number).
pub fn parse_for(bytes: &[u8], account: &str) -> Result<OfxFile, OfxError> {
    let decoded = header::decode(bytes).map_err(OfxError::NotOfx)?;
    let before = &decoded.text[..decoded.body_start];
    let first_line = 1 + before.bytes().filter(|&b| b == b'\n').count();
    let body = &decoded.text[decoded.body_start..];
    let statements = statement::read(tokens::Elements::new(body, first_line), account)?;
    Ok(OfxFile {
        flavor: decoded.flavor,
        statements,
    })
}
