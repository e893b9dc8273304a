//! The reader's state machine: elements in, statements out, following the OFX paths
//! `...STMTRS>BANKTRANLIST>STMTTRN` and `...CCSTMTRS>BANKTRANLIST>STMTTRN`.
//!
//! Invariant: an `</X>` closes back to the nearest open `X` (closing whatever SGML left open in
//! between); each transaction is finished when its `STMTTRN` closes, so memory holds only the
//! statements built so far (when collecting) or only the transactions not yet handed out (when
//! streaming); the reader owns its state, so elements may come from text that is then dropped;
//! every problem is collected (the first [`MAX_PROBLEMS`]) before the file is refused, and a file
//! cut off inside a statement is refused.

use std::borrow::Cow;

use super::error::{OfxError, Problem, MAX_PROBLEMS};
use super::tokens::Element;
use super::transaction::{Draft, Field};
use super::{amount, Account, Statement, StatementKind};
use crate::secret::SecretString;

/// Reads every statement, or refuses the file. `account` is the ledger account id that keys
/// generated FITIDs.
pub fn read<'a>(
    elements: impl Iterator<Item = Result<Element<'a>, (usize, String)>>,
    account: &str,
) -> Result<Vec<Statement>, OfxError> {
    let mut reader = Reader::new(account, false);
    reader.elements(elements)?;
    reader.finish().map(|done| done.statements)
}

/// At most this many distinct account numbers are told apart (a count past it is "at least").
pub const MAX_ACCOUNTS: usize = 100;

pub struct Reader {
    /// Open tags, upper-cased, with their lines.
    stack: Vec<(String, usize)>,
    statements: Vec<Statement>,
    open: Option<Open>,
    problems: Vec<Problem>,
    total_problems: usize,
    saw_ofx: bool,
    saw_investment: bool,
    bank_status: Option<String>,
    last_line: usize,
    fallback_ids: super::fitid::Fallbacks,
    /// The ledger account id the fallback FITIDs hash.
    account: String,
    /// Streaming: transactions go to `ready` and statements are only counted.
    streaming: bool,
    ready: Vec<super::Transaction>,
    statement_count: u64,
    transactions_seen: u64,
    /// Distinct `ACCTID`s seen, the first [`MAX_ACCOUNTS`].
    numbers: Vec<SecretString>,
}

/// What a finished read found.
pub struct Finished {
    /// Empty when streaming.
    pub statements: Vec<Statement>,
    pub statement_count: u64,
}

/// The statement being read, and its transaction being read.
struct Open {
    statement: Statement,
    bank_id: Option<Cow<'static, str>>,
    number: Option<Cow<'static, str>>,
    account_type: Option<Cow<'static, str>>,
    exponent: u32,
    transaction: Option<Draft<'static>>,
}

impl Reader {
    pub fn new(account: &str, streaming: bool) -> Self {
        Self {
            stack: Vec::new(),
            statements: Vec::new(),
            open: None,
            problems: Vec::new(),
            total_problems: 0,
            saw_ofx: false,
            saw_investment: false,
            bank_status: None,
            last_line: 0,
            fallback_ids: super::fitid::Fallbacks::default(),
            account: account.to_owned(),
            streaming,
            ready: Vec::new(),
            statement_count: 0,
            transactions_seen: 0,
            numbers: Vec::new(),
        }
    }

    /// Feeds elements; a tokenizer error refuses the file.
    pub fn elements<'e>(
        &mut self,
        elements: impl Iterator<Item = Result<Element<'e>, (usize, String)>>,
    ) -> Result<(), OfxError> {
        for element in elements {
            let element = element.map_err(|(line, reason)| OfxError::Malformed { line, reason })?;
            self.element(element)?;
        }
        Ok(())
    }

    /// Streaming: the transactions finished since the last call, in file order.
    pub fn take_ready(&mut self) -> std::vec::Drain<'_, super::Transaction> {
        self.ready.drain(..)
    }

    pub fn has_problems(&self) -> bool {
        self.total_problems > 0
    }

    /// Distinct account numbers so far (at most [`MAX_ACCOUNTS`]).
    pub fn accounts(&self) -> usize {
        self.numbers.len()
    }

    /// `<STMTTRN>`s opened inside statements so far, good or bad.
    pub fn transactions_seen(&self) -> u64 {
        self.transactions_seen
    }

    fn element(&mut self, element: Element<'_>) -> Result<(), OfxError> {
        match element {
            Element::Open { tag, line } => self.open(tag, line),
            Element::Leaf { tag, value, line } => {
                self.last_line = line;
                // `<OFX></OFX>`: an empty file, but an OFX one.
                self.saw_ofx |= tag.eq_ignore_ascii_case("OFX");
                self.leaf(tag, Cow::Owned(value.into_owned()), line);
                Ok(())
            }
            Element::Close { tag, line } => self.close(tag, line),
        }
    }

    fn open(&mut self, tag: &str, line: usize) -> Result<(), OfxError> {
        self.last_line = line;
        let upper = tag.to_ascii_uppercase();
        let kind = match upper.as_str() {
            "OFX" => {
                self.saw_ofx = true;
                None
            }
            "STMTRS" => Some(StatementKind::Bank),
            "CCSTMTRS" => Some(StatementKind::CreditCard),
            "INVSTMTRS" => {
                self.saw_investment = true;
                None
            }
            "STMTTRN" => {
                self.open_transaction(line)?;
                None
            }
            _ => None,
        };
        if let Some(kind) = kind {
            if self.open.is_some() {
                return Err(malformed(
                    line,
                    format!("<{upper}> inside another statement"),
                ));
            }
            self.open = Some(Open::new(kind, line));
        }
        self.stack.push((upper, line));
        Ok(())
    }

    /// A `<STMTTRN>` inside an open one means a `</STMTTRN>` is missing: refused, not merged.
    fn open_transaction(&mut self, line: usize) -> Result<(), OfxError> {
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        if let Some(previous) = &open.transaction {
            let reason = format!(
                "<STMTTRN> inside the <STMTTRN> opened at line {}: a </STMTTRN> is missing",
                previous.line()
            );
            return Err(malformed(line, reason));
        }
        open.transaction = Some(Draft::new(line));
        self.transactions_seen += 1;
        Ok(())
    }

    fn leaf(&mut self, tag: &str, value: Cow<'static, str>, line: usize) {
        let parent = self.stack.last().map_or("", |(p, _)| p.as_str());
        let upper = tag.to_ascii_uppercase();
        let field = Field { value, line };
        if let Some(open) = self.open.as_mut() {
            if let Some(draft) = open.transaction.as_mut() {
                draft.set(parent, &upper, field);
                return;
            }
            match (parent, upper.as_str()) {
                ("STMTRS" | "CCSTMTRS", "CURDEF") => self.curdef(field),
                ("BANKACCTFROM" | "CCACCTFROM", "BANKID") => open.bank_id = Some(field.value),
                ("BANKACCTFROM" | "CCACCTFROM", "ACCTID") => {
                    note_account(&mut self.numbers, field.value.trim());
                    open.number = Some(field.value);
                }
                ("BANKACCTFROM", "ACCTTYPE") => open.account_type = Some(field.value),
                _ => {}
            }
            return;
        }
        if parent == "STATUS" && matches!(upper.as_str(), "CODE" | "MESSAGE") {
            self.status(&upper, &field.value);
        }
    }

    fn curdef(&mut self, field: Field<'static>) {
        let Some(open) = self.open.as_mut() else {
            return;
        };
        if field.value.is_empty() {
            return;
        }
        match amount::currency(&field.value) {
            Ok((currency, exponent)) => {
                open.statement.currency = Some(currency);
                open.exponent = exponent;
            }
            Err(reason) => self.problem(field.line, "CURDEF", reason),
        }
    }

    /// Remembers a non-zero status outside statements (sign-on refused, request failed).
    fn status(&mut self, tag: &str, value: &str) {
        match (tag, &mut self.bank_status) {
            ("CODE", _) if value != "0" => self.bank_status = Some(format!("code {value}")),
            ("MESSAGE", Some(status)) if !status.contains(':') => {
                status.push_str(": ");
                status.push_str(value);
            }
            _ => {}
        }
    }

    fn close(&mut self, tag: &str, line: usize) -> Result<(), OfxError> {
        self.last_line = line;
        let Some(at) = self
            .stack
            .iter()
            .rposition(|(open, _)| open.eq_ignore_ascii_case(tag))
        else {
            let tag = tag.to_ascii_uppercase();
            return Err(malformed(
                line,
                format!("</{tag}> closes nothing that is open"),
            ));
        };
        while self.stack.len() > at {
            if let Some((closed, _)) = self.stack.pop() {
                self.closed(&closed);
            }
        }
        Ok(())
    }

    fn closed(&mut self, tag: &str) {
        match tag {
            "STMTTRN" => self.finish_transaction(),
            "STMTRS" | "CCSTMTRS" => self.finish_statement(),
            _ => {}
        }
    }

    fn finish_transaction(&mut self) {
        let Some(open) = self.open.as_mut() else {
            return;
        };
        let Some(draft) = open.transaction.take() else {
            return;
        };
        let context = super::transaction::Context {
            currency: open.statement.currency,
            exponent: open.exponent,
        };
        match draft.finish(&context, &self.account, &mut self.fallback_ids) {
            Ok(transaction) if self.streaming => self.ready.push(transaction),
            Ok(transaction) => open.statement.transactions.push(transaction),
            Err(problems) => {
                for problem in problems {
                    self.problem(problem.line, problem.field, problem.reason);
                }
            }
        }
    }

    fn finish_statement(&mut self) {
        let Some(mut open) = self.open.take() else {
            return;
        };
        let number = open.number.take().unwrap_or_default();
        if number.trim().is_empty() {
            let line = open.statement.line;
            self.problem(
                line,
                "ACCTID",
                "is missing: the statement names no account".to_owned(),
            );
        }
        open.statement.account.number = SecretString::new(number.trim().to_owned());
        open.statement.account.bank_id = open.bank_id.take().map(|b| b.into_owned());
        open.statement.account.account_type = open
            .account_type
            .take()
            .filter(|t| !t.is_empty())
            .map(|t| t.to_ascii_uppercase());
        self.statement_count += 1;
        if !self.streaming {
            self.statements.push(open.statement);
        }
    }

    fn problem(&mut self, line: usize, field: &'static str, reason: String) {
        self.total_problems += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem {
                line,
                field,
                reason,
            });
        }
    }

    /// The statements (none kept when streaming), or why the file is refused.
    pub fn finish(mut self) -> Result<Finished, OfxError> {
        if let Some((tag, line)) = self.open.as_ref().and_then(|_| self.statement_tag()) {
            let reason = format!("the file ends inside the <{tag}> opened at line {line}");
            return Err(malformed(self.last_line, reason));
        }
        if !self.saw_ofx {
            return Err(OfxError::NotOfx("there is no <OFX> element".to_owned()));
        }
        if self.total_problems > 0 {
            return Err(OfxError::BadTransactions {
                problems: std::mem::take(&mut self.problems),
                total: self.total_problems,
            });
        }
        if self.statement_count == 0 {
            return Err(OfxError::NoStatement(self.why_no_statement()));
        }
        Ok(Finished {
            statements: self.statements,
            statement_count: self.statement_count,
        })
    }

    fn statement_tag(&self) -> Option<(String, usize)> {
        self.stack.iter().find_map(|(tag, line)| {
            matches!(tag.as_str(), "STMTRS" | "CCSTMTRS").then(|| (tag.clone(), *line))
        })
    }

    fn why_no_statement(&self) -> String {
        match (&self.bank_status, self.saw_investment) {
            (Some(status), _) => format!(" (the bank reported an error, {status})"),
            (None, true) => " (it holds an investment statement, which is not imported)".to_owned(),
            (None, false) => String::new(),
        }
    }
}

impl Open {
    fn new(kind: StatementKind, line: usize) -> Self {
        let account = Account {
            kind,
            bank_id: None,
            number: SecretString::default(),
            account_type: None,
        };
        Self {
            statement: Statement {
                line,
                account,
                currency: None,
                transactions: Vec::new(),
            },
            bank_id: None,
            number: None,
            account_type: None,
            exponent: 2,
            transaction: None,
        }
    }
}

/// Remembers a distinct account number (compared whole, never printed).
fn note_account(numbers: &mut Vec<SecretString>, number: &str) {
    if number.is_empty() || numbers.len() >= MAX_ACCOUNTS {
        return;
    }
    if !numbers.iter().any(|n| n.expose() == number) {
        numbers.push(SecretString::new(number.to_owned()));
    }
}

fn malformed(line: usize, reason: String) -> OfxError {
    OfxError::Malformed { line, reason }
}
