//! Streaming CSV: the encoding chosen from the file's first MiB, then the file decoded block by
//! block into the `csv` reader; rows handed out one at a time, trailing footer rows held back.
//!
//! Invariant: memory is bounded whatever the file's length (one decoded block, one record, the
//! footer rows held back, the first [`MAX_PROBLEMS`] problems); the file is read once with a fixed
//! date format and at most twice with `auto` (the first pass stops at the first date that settles
//! the format); once a problem is found no row is handed out, but every bad row is still listed.

use std::collections::VecDeque;
use std::io::{self, Read, Seek, SeekFrom};

use ::csv::{Reader, ReaderBuilder, StringRecord};

use super::columns::{self, Slots, HEADER_SEARCH};
use super::date::{self, DateFormat};
use super::decode::{self, DETECT_BYTES};
use super::error::{CsvError, Problems};
use super::mapping::{Column, CsvMapping, Layout};
use super::row::Reading;
use super::source::{ours, Source, SourceError};
use super::Row;
use crate::ledger::import::text::{self, Decoding};

/// How to stream.
pub struct StreamOptions<'a> {
    /// The ledger account id that keys the source references.
    pub account: &'a str,
    /// More data rows than this refuses the file as soon as one more is seen.
    pub max_rows: u64,
}

/// A file streamed to its end without a problem.
#[derive(Debug)]
pub struct StreamSummary {
    pub encoding: &'static str,
    pub delimiter: char,
    pub date_format: String,
    pub rows: u64,
}

/// Why streaming stopped.
#[derive(Debug)]
pub enum StreamError<E> {
    Csv(CsvError),
    /// A record longer than 1 MiB starts at this line.
    LineTooLong {
        line: usize,
    },
    TooManyRows {
        limit: u64,
    },
    Io(io::Error),
    /// The callback said stop.
    Stopped(E),
}

impl<E> From<io::Error> for StreamError<E> {
    fn from(e: io::Error) -> Self {
        match ours(&e) {
            Some(SourceError::LineTooLong { line }) => StreamError::LineTooLong { line: *line },
            Some(SourceError::Invalid(reason)) => {
                StreamError::Csv(CsvError::Encoding(reason.clone()))
            }
            None => StreamError::Io(e),
        }
    }
}

impl<E> From<SourceError> for StreamError<E> {
    fn from(e: SourceError) -> Self {
        StreamError::from(io::Error::other(e))
    }
}

impl<E> From<CsvError> for StreamError<E> {
    fn from(e: CsvError) -> Self {
        StreamError::Csv(e)
    }
}

type Result<T, E> = std::result::Result<T, StreamError<E>>;

/// Reads the file from its start, calling `each` with every good row in file order.
pub fn stream<R: Read + Seek, E>(
    mut input: R,
    mapping: &CsvMapping,
    options: &StreamOptions<'_>,
    each: &mut dyn FnMut(Row) -> std::result::Result<(), E>,
) -> Result<StreamSummary, E> {
    let layout = mapping.validate().map_err(CsvError::Mapping)?;
    input.seek(SeekFrom::Start(0))?;
    let head = text::read_head(&mut input, DETECT_BYTES)?;
    let choice = decode::choose(&head, layout.encoding);
    drop(head);
    let mut pass = Pass::open(&mut input, &choice, &layout)?;
    let mut slots = pass.find_header(mapping, &layout)?;
    let date_format = match &layout.date_format {
        DateFormat::Fixed(format) => format.clone(),
        DateFormat::Auto => {
            let format = pass.resolve_dates(&slots)?;
            drop(pass);
            pass = Pass::open(&mut input, &choice, &layout)?;
            slots = pass.find_header(mapping, &layout)?;
            format
        }
    };
    let reading = Reading {
        slots: &slots,
        date_format: &date_format,
        separators: layout.separators,
        sign: layout.sign,
        default_currency: layout.default_currency,
        account: options.account,
    };
    let rows = pass.read_rows(&reading, layout.skip_footer_lines, options.max_rows, each)?;
    Ok(StreamSummary {
        encoding: choice.encoding.name(),
        delimiter: char::from(pass.delimiter),
        date_format,
        rows,
    })
}

/// One read of the file through the `csv` reader.
struct Pass<R: Read> {
    reader: Reader<Source<R>>,
    delimiter: u8,
    record: StringRecord,
}

impl<R: Read + Seek> Pass<R> {
    /// Starts a read: the BOM skipped, a `sep=` line and the preamble dropped.
    fn open<E>(mut input: R, choice: &decode::Choice, layout: &Layout) -> Result<Self, E> {
        input.seek(SeekFrom::Start(choice.skip as u64))?;
        let mut source = Source::new(Decoding::new(input, choice.encoding));
        let sep_line = sep_line(source.first_line()?);
        if sep_line.is_some() {
            source.drop_line()?;
        }
        for _ in 0..layout.skip_lines {
            source.drop_line()?;
        }
        let delimiter = layout.delimiter.or(sep_line).unwrap_or(b',');
        source.set_delimiter(delimiter);
        let reader = ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(false)
            .from_reader(source);
        Ok(Self {
            reader,
            delimiter,
            record: StringRecord::new(),
        })
    }
}

impl<R: Read> Pass<R> {
    /// Reads the next record into `self.record`; the file line it starts on.
    fn next<E>(&mut self) -> Result<Option<usize>, E> {
        match self.reader.read_record(&mut self.record) {
            Ok(false) => Ok(None),
            Ok(true) => {
                let byte = self.record.position().map_or(0, ::csv::Position::byte);
                Ok(Some(self.reader.get_mut().line_at(byte)))
            }
            Err(e) => {
                let byte = e.position().map_or(0, ::csv::Position::byte);
                let line = self.reader.get_mut().line_at(byte);
                match e.into_kind() {
                    ::csv::ErrorKind::Io(io) => Err(StreamError::from(io)),
                    _ => Err(StreamError::Csv(CsvError::Malformed {
                        line,
                        reason: "is not readable CSV".to_owned(),
                    })),
                }
            }
        }
    }

    /// The columns, the header row (after any preamble) read past when there is one.
    fn find_header<E>(&mut self, mapping: &CsvMapping, layout: &Layout) -> Result<Slots, E> {
        if !layout.header {
            let slots = columns::resolve(mapping, None).ok_or_else(|| columns::wanted(mapping))?;
            return Ok(slots);
        }
        let any_named = mapping
            .columns()
            .iter()
            .any(|(_, c)| matches!(c, Column::Name(_)));
        let search = if any_named { HEADER_SEARCH } else { 1 };
        let mut seen = 0;
        while seen < search {
            if self.next()?.is_none() {
                break;
            }
            seen += 1;
            if let Some(slots) = columns::resolve(mapping, Some(&self.record)) {
                return Ok(slots);
            }
        }
        Err(StreamError::Csv(if seen == 0 {
            CsvError::NoRows
        } else {
            columns::wanted(mapping)
        }))
    }

    /// `auto`: the first date that shows its order decides the format for the whole file.
    fn resolve_dates<E>(&mut self, slots: &Slots) -> Result<String, E> {
        while self.next()?.is_some() {
            let Some(cell) = self.record.get(slots.date.index) else {
                continue;
            };
            if let Some(format) = date::format_for(date::hint(cell), cell) {
                return Ok(format);
            }
        }
        Err(StreamError::Csv(CsvError::Dates(format!(
            "the {} column never shows a day above 12, so day and month cannot be told apart: \
             set date_format (such as %d.%m.%Y or %m/%d/%Y)",
            slots.date.name
        ))))
    }

    /// Every data row: good ones to `each` until a problem is found, the last `skip_footer_lines`
    /// non-blank records held back and dropped at the end.
    fn read_rows<E>(
        &mut self,
        reading: &Reading,
        footer: usize,
        max_rows: u64,
        each: &mut dyn FnMut(Row) -> std::result::Result<(), E>,
    ) -> Result<u64, E> {
        let mut held: VecDeque<(usize, StringRecord)> = VecDeque::new();
        let mut problems = Problems::default();
        let mut rows = 0u64;
        while let Some(line) = self.next()? {
            if self.record.iter().all(|field| field.trim().is_empty()) {
                continue;
            }
            let held_back;
            let (line, record) = if footer == 0 {
                (line, &self.record)
            } else {
                held.push_back((line, self.record.clone()));
                if held.len() <= footer {
                    continue;
                }
                let Some(oldest) = held.pop_front() else {
                    continue;
                };
                held_back = oldest;
                (held_back.0, &held_back.1)
            };
            rows += 1;
            if rows > max_rows {
                return Err(StreamError::TooManyRows { limit: max_rows });
            }
            match reading.row(record, line) {
                Ok(row) if problems.is_empty() => each(row).map_err(StreamError::Stopped)?,
                Ok(_) => {}
                Err(found) => found.into_iter().for_each(|p| problems.push(p)),
            }
        }
        if !problems.is_empty() {
            return Err(StreamError::Csv(problems.into_error()));
        }
        if rows == 0 {
            return Err(StreamError::Csv(CsvError::NoRows));
        }
        Ok(rows)
    }
}

/// Excel's `sep=;` first line: the delimiter it names.
fn sep_line(first: &str) -> Option<u8> {
    let first = first.trim_end_matches('\r').trim_matches('"');
    match first.strip_prefix("sep=").map(str::as_bytes) {
        Some([d]) if d.is_ascii() && !matches!(d, b'"' | b'\r' | b'\n') => Some(*d),
        _ => None,
    }
}
