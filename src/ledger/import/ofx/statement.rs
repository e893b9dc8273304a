//! The reader's state machine: elements in, statements out, following the OFX paths
//! `...STMTRS>BANKTRANLIST>STMTTRN` and `...CCSTMTRS>BANKTRANLIST>STMTTRN`.
//!
//! Invariant: an `</X>` closes back to the nearest open `X` (closing whatever SGML left open in
//! between); each transaction is finished when its `STMTTRN` closes, so memory holds only the
//! statements built so far; every problem is collected (the first [`MAX_PROBLEMS`]) before the
//! file is refused, and a file cut off inside a statement is refused.

use std::borrow::Cow;

use super::error::{OfxError, Problem, MAX_PROBLEMS};
use super::tokens::Element;
use super::transaction::{Draft, Field};
use super::{amount, Account, Statement, StatementKind};
use crate::secret::SecretString;

/// Reads every statement, or refuses the file.
pub fn read<'a>(
    elements: impl Iterator<Item = Result<Element<'a>, (usize, String)>>,
) -> Result<Vec<Statement>, OfxError> {
    let mut reader = Reader::default();
    for element in elements {
        let element = element.map_err(|(line, reason)| OfxError::Malformed { line, reason })?;
        reader.element(element)?;
    }
    reader.finish()
}

#[derive(Default)]
struct Reader<'a> {
    stack: Vec<(&'a str, usize)>,
    statements: Vec<Statement>,
    open: Option<Open<'a>>,
    problems: Vec<Problem>,
    total_problems: usize,
    saw_ofx: bool,
    saw_investment: bool,
    bank_status: Option<String>,
    last_line: usize,
    fallback_ids: super::fitid::Fallbacks,
}

/// The statement being read, and its transaction being read.
struct Open<'a> {
    statement: Statement,
    bank_id: Option<Cow<'a, str>>,
    number: Option<Cow<'a, str>>,
    account_type: Option<Cow<'a, str>>,
    exponent: u32,
    transaction: Option<Draft<'a>>,
}

impl<'a> Reader<'a> {
    fn element(&mut self, element: Element<'a>) -> Result<(), OfxError> {
        match element {
            Element::Open { tag, line } => self.open(tag, line),
            Element::Leaf { tag, value, line } => {
                self.last_line = line;
                // `<OFX></OFX>`: an empty file, but an OFX one.
                self.saw_ofx |= tag.eq_ignore_ascii_case("OFX");
                self.leaf(tag, value, line);
                Ok(())
            }
            Element::Close { tag, line } => self.close(tag, line),
        }
    }

    fn open(&mut self, tag: &'a str, line: usize) -> Result<(), OfxError> {
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
        self.stack.push((tag, line));
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
        Ok(())
    }

    fn leaf(&mut self, tag: &'a str, value: Cow<'a, str>, line: usize) {
        let parent = self
            .stack
            .last()
            .map_or("", |(p, _)| *p)
            .to_ascii_uppercase();
        let upper = tag.to_ascii_uppercase();
        let field = Field { value, line };
        if let Some(open) = self.open.as_mut() {
            if let Some(draft) = open.transaction.as_mut() {
                draft.set(&parent, &upper, field);
                return;
            }
            match (parent.as_str(), upper.as_str()) {
                ("STMTRS" | "CCSTMTRS", "CURDEF") => self.curdef(field),
                ("BANKACCTFROM" | "CCACCTFROM", "BANKID") => open.bank_id = Some(field.value),
                ("BANKACCTFROM" | "CCACCTFROM", "ACCTID") => open.number = Some(field.value),
                ("BANKACCTFROM", "ACCTTYPE") => open.account_type = Some(field.value),
                _ => {}
            }
            return;
        }
        if parent == "STATUS" && matches!(upper.as_str(), "CODE" | "MESSAGE") {
            self.status(&upper, &field.value);
        }
    }

    fn curdef(&mut self, field: Field<'a>) {
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

    fn close(&mut self, tag: &'a str, line: usize) -> Result<(), OfxError> {
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
                self.closed(closed);
            }
        }
        Ok(())
    }

    fn closed(&mut self, tag: &str) {
        if tag.eq_ignore_ascii_case("STMTTRN") {
            self.finish_transaction();
        } else if tag.eq_ignore_ascii_case("STMTRS") || tag.eq_ignore_ascii_case("CCSTMTRS") {
            self.finish_statement();
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
        let account = AccountKey::of(open);
        match draft.finish(&context, account.0.expose(), &mut self.fallback_ids) {
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
        self.statements.push(open.statement);
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

    fn finish(mut self) -> Result<Vec<Statement>, OfxError> {
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
        if self.statements.is_empty() {
            return Err(OfxError::NoStatement(self.why_no_statement()));
        }
        Ok(self.statements)
    }

    fn statement_tag(&self) -> Option<(String, usize)> {
        self.stack.iter().find_map(|(tag, line)| {
            let upper = tag.to_ascii_uppercase();
            matches!(upper.as_str(), "STMTRS" | "CCSTMTRS").then_some((upper, *line))
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

/// The account fields as the fallback FITID hashes them (the number included, never printed).
struct AccountKey(SecretString);

impl AccountKey {
    fn of(open: &Open<'_>) -> Self {
        let part = |v: &Option<Cow<'_, str>>| v.as_deref().unwrap_or("").trim().to_owned();
        Self(SecretString::new(format!(
            "{:?}\u{1f}{}\u{1f}{}\u{1f}{}",
            open.statement.account.kind,
            part(&open.bank_id),
            part(&open.number),
            part(&open.account_type)
        )))
    }
}

impl<'a> Open<'a> {
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

fn malformed(line: usize, reason: String) -> OfxError {
    OfxError::Malformed { line, reason }
}
