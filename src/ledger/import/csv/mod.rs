//! CSV bank files into rows of spend, as pure logic over the file's bytes and a saved
//! [`CsvMapping`].
//!
//! Invariant: a file is read whole or refused: [`parse`] returns every row, amounts in integer
//! minor units of their ISO 4217 currency with positive meaning money out, each with a source
//! reference stable across re-imports, or a [`CsvError`] listing every bad row (line, column,
//! reason; at most [`MAX_PROBLEMS`] listed, all counted). Descriptions and counterparties are
//! never quoted in an error.

mod amount;
mod columns;
mod date;
mod decode;
mod error;
mod mapping;
mod row;

#[cfg(test)]
mod parse_tests;

use ::csv::{Reader, ReaderBuilder, StringRecord};
use chrono::NaiveDate;

use crate::domain::Money;

pub use error::{CsvError, Problem, MAX_PROBLEMS};
pub use mapping::{Amounts, Column, CsvMapping, SignConvention};
pub use row::PREFIX as SOURCE_REF_PREFIX;

use columns::{Slots, HEADER_SEARCH};
use date::DateFormat;
use error::Problems;
use mapping::Layout;

/// A whole CSV file that was read without a problem.
#[derive(Debug)]
pub struct CsvFile {
    /// The encoding the file was read as (`UTF-8`, `windows-1252`...).
    pub encoding: &'static str,
    pub delimiter: char,
    /// The date format used (the resolved one when the mapping says `auto`).
    pub date_format: String,
    pub rows: Vec<Row>,
}

/// One transaction row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The file's line where the row starts, counting from 1.
    pub line: usize,
    /// `csv-sha256:...` over the account, the line and the row's fields.
    pub source_ref: String,
    /// The date as the bank states it.
    pub posted_on: NaiveDate,
    /// Positive = money out.
    pub amount: Money,
    pub description: Option<String>,
    pub counterparty: Option<String>,
}

/// Reads a whole CSV file for the ledger account `account` (its id, which keys the source
/// references; not the bank's account number).
pub fn parse(bytes: &[u8], mapping: &CsvMapping, account: &str) -> Result<CsvFile, CsvError> {
    let layout = mapping.validate().map_err(CsvError::Mapping)?;
    let decoded = decode::decode(bytes, layout.encoding).map_err(CsvError::Encoding)?;
    let (body, sep_line) = strip_sep_line(&decoded.text);
    let delimiter = layout.delimiter.or(sep_line).unwrap_or(b',');
    let skipped = usize::from(sep_line.is_some()) + layout.skip_lines;
    let body = skip_lines(body, layout.skip_lines);
    let text = Text {
        body,
        delimiter,
        first_line: skipped,
    };
    let (slots, data_start) = find_header(&text, mapping, &layout)?;
    let date_format = match &layout.date_format {
        DateFormat::Fixed(format) => format.clone(),
        DateFormat::Auto => resolve_dates(&text, &slots, data_start)?,
    };
    let reading = row::Reading {
        slots: &slots,
        date_format: &date_format,
        separators: layout.separators,
        sign: layout.sign,
        default_currency: layout.default_currency,
        account,
    };
    let rows = read_rows(&text, data_start, &reading)?;
    Ok(CsvFile {
        encoding: decoded.encoding.name(),
        delimiter: char::from(delimiter),
        date_format,
        rows,
    })
}

/// The part of the file CSV is read from and where it sits in the file.
struct Text<'a> {
    body: &'a str,
    delimiter: u8,
    /// Lines of the file before `body`.
    first_line: usize,
}

impl Text<'_> {
    fn reader(&self) -> Reader<&[u8]> {
        ReaderBuilder::new()
            .delimiter(self.delimiter)
            .flexible(true)
            .has_headers(false)
            .from_reader(self.body.as_bytes())
    }

    /// Records with the file line each starts on, from record number `from` (0-based) on.
    fn records(
        &self,
        from: usize,
    ) -> impl Iterator<Item = Result<(usize, StringRecord), CsvError>> + '_ {
        let mut lines = Lines::new(self.body.as_bytes(), self.first_line);
        self.reader().into_records().skip(from).map(move |record| {
            let record = record.map_err(|e| CsvError::Malformed {
                line: lines.line_at(e.position().map_or(0, byte)),
                reason: "is not readable CSV".to_owned(),
            })?;
            let line = lines.line_at(record.position().map_or(0, byte));
            Ok((line, record))
        })
    }
}

fn byte(position: &::csv::Position) -> usize {
    usize::try_from(position.byte()).unwrap_or(usize::MAX)
}

/// File line numbers from byte offsets, counted once over the text. (The `csv` crate's own line
/// count is one short after `\r\n` line ends, which most bank exports use.)
struct Lines<'a> {
    body: &'a [u8],
    at: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    fn new(body: &'a [u8], lines_before: usize) -> Self {
        Self {
            body,
            at: 0,
            line: lines_before + 1,
        }
    }

    /// The line of the first character at or after `byte` that is not a line break.
    fn line_at(&mut self, byte: usize) -> usize {
        let mut start = byte.min(self.body.len());
        while matches!(self.body.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start >= self.at {
            let breaks = self.body[self.at..start].iter().filter(|&&b| b == b'\n');
            self.line += breaks.count();
            self.at = start;
        }
        self.line
    }
}

/// Excel's `sep=;` first line: the delimiter, and the text after it.
fn strip_sep_line(text: &str) -> (&str, Option<u8>) {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let first = first.trim_end_matches('\r').trim_matches('"');
    match first.strip_prefix("sep=").map(str::as_bytes) {
        Some([d]) if d.is_ascii() && !matches!(d, b'"' | b'\r' | b'\n') => (rest, Some(*d)),
        _ => (text, None),
    }
}

fn skip_lines(text: &str, lines: usize) -> &str {
    let mut rest = text;
    for _ in 0..lines {
        rest = rest.split_once('\n').map_or("", |(_, after)| after);
    }
    rest
}

/// The columns, and the record number the data starts at.
fn find_header(
    text: &Text,
    mapping: &CsvMapping,
    layout: &Layout,
) -> Result<(Slots, usize), CsvError> {
    if !layout.header {
        let slots = columns::resolve(mapping, None).ok_or_else(|| columns::wanted(mapping))?;
        return Ok((slots, 0));
    }
    let any_named = mapping
        .columns()
        .iter()
        .any(|(_, c)| matches!(c, Column::Name(_)));
    let search = if any_named { HEADER_SEARCH } else { 1 };
    let mut seen = 0;
    for record in text.records(0).take(search) {
        let (_, record) = record?;
        seen += 1;
        if let Some(slots) = columns::resolve(mapping, Some(&record)) {
            return Ok((slots, seen));
        }
    }
    Err(if seen == 0 {
        CsvError::NoRows
    } else {
        columns::wanted(mapping)
    })
}

/// `auto`: the first date that shows its order decides the format for the whole file.
fn resolve_dates(text: &Text, slots: &Slots, data_start: usize) -> Result<String, CsvError> {
    for record in text.records(data_start) {
        let (_, record) = record?;
        let Some(cell) = record.get(slots.date.index) else {
            continue;
        };
        if let Some(format) = date::format_for(date::hint(cell), cell) {
            return Ok(format);
        }
    }
    Err(CsvError::Dates(format!(
        "the {} column never shows a day above 12, so day and month cannot be told apart: \
         set date_format (such as %d.%m.%Y or %m/%d/%Y)",
        slots.date.name
    )))
}

fn read_rows(text: &Text, data_start: usize, reading: &row::Reading) -> Result<Vec<Row>, CsvError> {
    let mut rows = Vec::new();
    let mut problems = Problems::default();
    for record in text.records(data_start) {
        let (line, record) = record?;
        if record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        match reading.row(&record, line) {
            Ok(row) if problems.is_empty() => rows.push(row),
            Ok(_) => {}
            Err(found) => found.into_iter().for_each(|p| problems.push(p)),
        }
    }
    if !problems.is_empty() {
        return Err(problems.into_error());
    }
    if rows.is_empty() {
        return Err(CsvError::NoRows);
    }
    Ok(rows)
}
