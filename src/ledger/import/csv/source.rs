//! The decoded text a CSV reader reads: a [`Read`] of UTF-8 bytes over the incrementally decoded
//! file that drops the `sep=` and preamble lines it is told to, refuses over-long records as they
//! stream past, and maps the reader's byte positions back to the file's line numbers.
//!
//! Invariant: memory is one decoded block plus the line breaks the CSV reader has read ahead and
//! not yet asked about; a record (a line, or several inside quotes) longer than [`MAX_LINE`] fails
//! the read at the line it starts on, before more of it is read.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read};

use crate::ledger::import::text::{Decoding, TextError};

/// The longest record a file may hold.
pub const MAX_LINE: usize = 1 << 20;

/// Why the text stopped; carried inside an `io::Error` through the `csv` reader.
#[derive(Debug)]
pub enum SourceError {
    /// A record longer than [`MAX_LINE`] starts at this file line.
    LineTooLong { line: usize },
    /// The file is not valid in its encoding.
    Invalid(String),
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceError::LineTooLong { line } => write!(f, "line {line} is longer than 1 MiB"),
            SourceError::Invalid(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for SourceError {}

/// The `SourceError` inside an I/O error, if it is one of ours.
pub fn ours(e: &io::Error) -> Option<&SourceError> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<SourceError>())
}

pub struct Source<R> {
    decoding: Decoding<R>,
    buf: String,
    pos: usize,
    eof: bool,
    /// File lines dropped before the CSV text.
    lines_before: usize,
    /// Bytes handed to the reader.
    offset: u64,
    delimiter: u8,
    field: Field,
    /// Bytes of the current record so far, and the line it started on (from 1 after the drop).
    record_len: usize,
    record_line: usize,
    line: usize,
    /// Where the run of `\r`/`\n` holding each handed-out `\n` starts.
    breaks: VecDeque<u64>,
    break_run: Option<u64>,
    /// Line breaks before the reader's last asked-about position.
    counted: usize,
}

impl<R: Read> Source<R> {
    pub fn new(decoding: Decoding<R>) -> Self {
        Self {
            decoding,
            buf: String::new(),
            pos: 0,
            eof: false,
            lines_before: 0,
            offset: 0,
            delimiter: b',',
            field: Field::Start,
            record_len: 0,
            record_line: 1,
            line: 1,
            breaks: VecDeque::new(),
            break_run: None,
            counted: 0,
        }
    }

    fn refill(&mut self) -> Result<(), SourceError> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        match self.decoding.fill(&mut self.buf) {
            Ok(more) => self.eof = !more,
            Err(TextError::Invalid(reason)) => return Err(SourceError::Invalid(reason)),
            Err(TextError::Io(e)) => return Err(SourceError::Invalid(e.to_string())),
        }
        Ok(())
    }

    /// The delimiter the CSV reader splits fields on (quotes only open a field at its start).
    pub fn set_delimiter(&mut self, delimiter: u8) {
        self.delimiter = delimiter;
    }

    /// The first line not yet handed out (without its `\n`), before any is read as CSV.
    pub fn first_line(&mut self) -> Result<&str, SourceError> {
        loop {
            if let Some(end) = self.buf[self.pos..].find('\n') {
                return Ok(&self.buf[self.pos..self.pos + end]);
            }
            if self.eof {
                return Ok(&self.buf[self.pos..]);
            }
            if self.buf.len() - self.pos > MAX_LINE {
                let line = self.lines_before + 1;
                return Err(SourceError::LineTooLong { line });
            }
            self.refill()?;
        }
    }

    /// Drops the first line (through its `\n`, or the rest of the text when it has none).
    pub fn drop_line(&mut self) -> Result<(), SourceError> {
        let len = self.first_line()?.len();
        self.pos = (self.pos + len + 1).min(self.buf.len());
        self.lines_before += 1;
        Ok(())
    }

    /// The file line of the first character at or after the reader's byte `byte` that is not a
    /// line break; `byte` never goes back.
    pub fn line_at(&mut self, byte: u64) -> usize {
        while self.breaks.front().is_some_and(|&run| run <= byte) {
            self.breaks.pop_front();
            self.counted += 1;
        }
        self.lines_before + 1 + self.counted
    }

    /// Watches the bytes handed out: line breaks, quotes, record length.
    fn watch(&mut self, bytes: &[u8]) -> Result<(), SourceError> {
        for &b in bytes {
            let quoted = self.field == Field::Quoted;
            self.field = self.field.next(b, self.delimiter);
            if matches!(b, b'\r' | b'\n') {
                let run = *self.break_run.get_or_insert(self.offset);
                if b == b'\n' {
                    self.breaks.push_back(run);
                    self.line += 1;
                    if !quoted {
                        self.record_len = 0;
                        self.record_line = self.line;
                    }
                }
            } else {
                self.break_run = None;
            }
            self.offset += 1;
            self.record_len += 1;
            if self.record_len > MAX_LINE {
                let line = self.lines_before + self.record_line;
                return Err(SourceError::LineTooLong { line });
            }
        }
        Ok(())
    }
}

/// Where a byte falls in a CSV field, as the `csv` reader sees it: a quote opens quoting only at
/// the start of a field, `""` inside quotes is a quote, and a line break inside quotes is text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Start,
    Unquoted,
    Quoted,
    /// A quote inside quotes: the closing one, or the first of `""`.
    QuoteInQuoted,
}

impl Field {
    fn next(self, b: u8, delimiter: u8) -> Self {
        let ends = |b: u8| b == delimiter || b == b'\n' || b == b'\r';
        match self {
            Field::Start if b == b'"' => Field::Quoted,
            Field::Start | Field::Unquoted if ends(b) => Field::Start,
            Field::Start | Field::Unquoted => Field::Unquoted,
            Field::Quoted if b == b'"' => Field::QuoteInQuoted,
            Field::Quoted => Field::Quoted,
            Field::QuoteInQuoted if b == b'"' => Field::Quoted,
            Field::QuoteInQuoted if ends(b) => Field::Start,
            Field::QuoteInQuoted => Field::Unquoted,
        }
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.buf.len() {
            if self.eof {
                return Ok(0);
            }
            while self.pos == self.buf.len() && !self.eof {
                self.refill().map_err(io::Error::other)?;
            }
        }
        let available = &self.buf.as_bytes()[self.pos..];
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.pos += n;
        self.watch(&out[..n]).map_err(io::Error::other)?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::UTF_8;

    fn source(text: &str) -> Source<&[u8]> {
        Source::new(Decoding::new(text.as_bytes(), UTF_8))
    }

    #[test]
    fn dropped_lines_and_line_breaks_number_the_file() {
        let mut s = source("sep=;\r\npreamble\r\na;b\r\n\r\nc;d\n");
        assert_eq!(s.first_line().unwrap(), "sep=;\r");
        s.drop_line().unwrap();
        s.drop_line().unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        assert_eq!(text, "a;b\r\n\r\nc;d\n");
        assert_eq!(s.line_at(0), 3);
        // Record `c;d` starts at byte 5 (after the blank line) or is reported from byte 3.
        assert_eq!(s.line_at(3), 5);
    }

    #[test]
    fn a_record_over_a_mebibyte_fails_at_its_line_even_inside_quotes() {
        let long = format!("h\nok\n\"{}\n{}\"\n", "x".repeat(10), "y".repeat(MAX_LINE));
        let err = source(&long).read_to_end(&mut Vec::new()).unwrap_err();
        assert!(matches!(
            ours(&err),
            Some(SourceError::LineTooLong { line: 3 })
        ));
        let fine = format!("{}\n", "z".repeat(MAX_LINE - 1)).repeat(3);
        source(&fine).read_to_end(&mut Vec::new()).unwrap();
        // A quote inside an unquoted field (`55" TV`) opens nothing: lines stay short.
        let inch = format!(
            "a,55\" TV,1\n{}",
            format!("b,{},2\n", "y".repeat(1000)).repeat(2000)
        );
        source(&inch).read_to_end(&mut Vec::new()).unwrap();
    }
}
