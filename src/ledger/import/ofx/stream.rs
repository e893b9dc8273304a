//! Streaming OFX: the file is decoded a block at a time and cut into chunks that end just before an
//! opening tag; each chunk goes through the same tokenizer and statement reader as [`super::parse`],
//! and finished transactions are handed out as they close.
//!
//! Invariant: the transactions handed out, and the refusal if any, are those `parse_for` gives for
//! the same bytes and account: a cut is only made before a `<X` that the tokenizer would reach as a
//! tag start (never inside a comment, CDATA section, declaration or tag), and what precedes an
//! opening tag never depends on it. Memory stays bounded: a chunk is about `chunk` bytes plus one
//! element, and an element (tag, comment, text run) longer than [`MAX_ELEMENT`] is refused without
//! being buffered further. Once a problem is found nothing more is handed out.

use std::io::{self, Read, Seek, SeekFrom};

use encoding_rs::{UTF_8, WINDOWS_1252};

use super::error::OfxError;
use super::statement::Reader;
use super::tokens::Elements;
use super::{header, Flavor, Transaction};
use crate::ledger::import::text::{self, Decoding, TextError};

/// The longest element (a tag, a text run, a comment) a file may hold.
pub const MAX_ELEMENT: usize = 1 << 20;

/// Bytes of the file's start read to find its header.
const HEAD: usize = MAX_ELEMENT + 4096;

/// How to stream.
pub struct StreamOptions<'a> {
    /// The ledger account id that keys generated FITIDs.
    pub account: &'a str,
    /// Text per chunk (a cut is made at the first opening tag past it); 0 cuts before every tag.
    pub chunk: usize,
    /// More `<STMTTRN>`s than this refuses the file as soon as it is seen.
    pub max_transactions: u64,
}

/// A file streamed to its end without a problem.
#[derive(Debug)]
pub struct StreamSummary {
    pub flavor: Flavor,
    pub encoding: &'static str,
    pub statements: u64,
    pub transactions: u64,
    /// Distinct account numbers (at most `statement::MAX_ACCOUNTS`).
    pub accounts: usize,
}

/// Why streaming stopped.
#[derive(Debug)]
pub enum StreamError<E> {
    Ofx(OfxError),
    /// An element longer than [`MAX_ELEMENT`] starts at this line.
    ElementTooLong {
        line: usize,
    },
    TooManyTransactions {
        limit: u64,
    },
    Io(io::Error),
    /// The callback said stop.
    Stopped(E),
}

impl<E> From<io::Error> for StreamError<E> {
    fn from(e: io::Error) -> Self {
        StreamError::Io(e)
    }
}

impl<E> From<TextError> for StreamError<E> {
    fn from(e: TextError) -> Self {
        match e {
            // Lossy decoding never refuses, and UTF-8 was checked first; kept for completeness.
            TextError::Invalid(reason) => StreamError::Ofx(OfxError::NotOfx(reason)),
            TextError::Io(e) => StreamError::Io(e),
        }
    }
}

/// Reads the file from its start, calling `each` with every good transaction in file order and
/// the number of distinct account numbers seen so far; reads it twice when it claims UTF-8 (once
/// to check that it is, as `parse` reads invalid UTF-8 as Windows-1252).
pub fn stream<R: Read + Seek, E>(
    mut input: R,
    options: &StreamOptions<'_>,
    each: &mut dyn FnMut(Transaction, usize) -> Result<(), E>,
) -> Result<StreamSummary, StreamError<E>> {
    input.seek(SeekFrom::Start(0))?;
    let head = text::read_head(&mut input, HEAD)?;
    let sniffed = header::sniff(&head).map_err(|r| StreamError::Ofx(OfxError::NotOfx(r)))?;
    let bom = sniffed.bom as u64;
    let mut encoding = sniffed.encoding;
    if encoding == UTF_8 {
        input.seek(SeekFrom::Start(bom))?;
        if !text::is_utf8(&mut input)? {
            encoding = WINDOWS_1252;
        }
    }
    input.seek(SeekFrom::Start(bom))?;
    let mut chunks = Chunks::new(Decoding::new(input, encoding).lossy());
    chunks.skip_header(sniffed.flavor, sniffed.start)?;
    let mut reader = Reader::new(options.account, true);
    loop {
        let (chunk, line, last) = chunks.next_chunk(options.chunk)?;
        reader
            .elements(Elements::new(chunk, line))
            .map_err(StreamError::Ofx)?;
        if reader.transactions_seen() > options.max_transactions {
            return Err(StreamError::TooManyTransactions {
                limit: options.max_transactions,
            });
        }
        let accounts = reader.accounts();
        let ready: Vec<Transaction> = reader.take_ready().collect();
        for transaction in ready {
            if !reader.has_problems() {
                each(transaction, accounts).map_err(StreamError::Stopped)?;
            }
        }
        if last {
            break;
        }
    }
    let transactions = reader.transactions_seen();
    let accounts = reader.accounts();
    let finished = reader.finish().map_err(StreamError::Ofx)?;
    Ok(StreamSummary {
        flavor: sniffed.flavor,
        encoding: encoding.name(),
        statements: finished.statement_count,
        transactions,
        accounts,
    })
}

/// Decoded text, cut into chunks at safe points.
struct Chunks<R> {
    decoding: Decoding<R>,
    buf: String,
    /// Start of the next chunk in `buf`.
    pos: usize,
    /// How far `buf` has been scanned for cut points (always at a token boundary).
    scan: usize,
    /// The last token scanned was an opening tag, or text after one: the tokenizer may still
    /// look ahead for its `</X>`, so only another opening tag is a cut point.
    after_open: bool,
    /// Line of `buf[pos]`.
    line: usize,
    eof: bool,
}

impl<R: Read> Chunks<R> {
    fn new(decoding: Decoding<R>) -> Self {
        Self {
            decoding,
            buf: String::new(),
            pos: 0,
            scan: 0,
            after_open: false,
            line: 1,
            eof: false,
        }
    }

    /// Reads more text, first dropping the chunks already handed out.
    fn more<E>(&mut self) -> Result<(), StreamError<E>> {
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.scan -= self.pos;
            self.pos = 0;
        }
        self.eof = !self.decoding.fill(&mut self.buf)?;
        Ok(())
    }

    /// Drops the header, counting its lines, as `header::decode` places the body.
    fn skip_header<E>(&mut self, flavor: Flavor, start: usize) -> Result<(), StreamError<E>> {
        let body = loop {
            if self.buf.len() > start {
                if let Some(at) = header::find_body_start(&self.buf, flavor, start) {
                    break at;
                }
            }
            if self.eof {
                break self.buf.len();
            }
            if self.buf.len() > HEAD {
                return Err(StreamError::ElementTooLong { line: 1 });
            }
            self.more()?;
        };
        self.line = 1 + count_lines(&self.buf[..body]);
        self.pos = body;
        self.scan = body;
        Ok(())
    }

    /// The next chunk, the line it starts on, and whether it is the last.
    fn next_chunk<E>(&mut self, target: usize) -> Result<(&str, usize, bool), StreamError<E>> {
        let end = loop {
            match self.find_cut(target) {
                Ok(Some(cut)) => break cut,
                Err(at) => {
                    let line = self.line + count_lines(&self.buf[self.pos..at]);
                    return Err(StreamError::ElementTooLong { line });
                }
                Ok(None) if self.eof => break self.buf.len(),
                Ok(None) => {
                    let stuck = self.buf.len() - self.scan > MAX_ELEMENT;
                    if stuck || self.buf.len() - self.pos > target.saturating_add(MAX_ELEMENT) {
                        let line = self.line + count_lines(&self.buf[self.pos..self.scan]);
                        return Err(StreamError::ElementTooLong { line });
                    }
                    self.more()?;
                }
            }
        };
        let line = self.line;
        let start = self.pos;
        self.line += count_lines(&self.buf[start..end]);
        self.pos = end;
        let last = self.eof && end == self.buf.len();
        Ok((&self.buf[start..end], line, last))
    }

    /// The first cut point at least `target` bytes past `pos`, scanning on from `scan`; `None`
    /// when the text read so far shows none (`scan` then rests at the start of what is unfinished).
    /// `Err` holds the offset of an element longer than [`MAX_ELEMENT`].
    fn find_cut(&mut self, target: usize) -> Result<Option<usize>, usize> {
        loop {
            // Text (a leaf's value, or an error the tokenizer reports where it stands) changes
            // nothing about what follows it.
            let Some(at) = self.buf[self.scan..].find('<') else {
                return Ok(None);
            };
            if at > MAX_ELEMENT {
                return Err(self.scan);
            }
            let lt = self.scan + at;
            let Some((end, kind)) = self.construct(lt) else {
                self.scan = lt;
                return Ok(None);
            };
            if end - lt > MAX_ELEMENT {
                return Err(lt);
            }
            let may_cut = match kind {
                Kind::Open => true,
                Kind::Close | Kind::Skipped => !self.after_open,
                Kind::Cdata => false,
            };
            if may_cut && lt > self.pos && lt - self.pos >= target {
                self.scan = lt;
                return Ok(Some(lt));
            }
            match kind {
                Kind::Open => self.after_open = true,
                Kind::Close => self.after_open = false,
                Kind::Skipped | Kind::Cdata => {}
            }
            self.scan = end;
        }
    }

    /// The construct starting at `lt` and where it ends, skipped the way the tokenizer skips it;
    /// `None` when more text is needed to tell.
    fn construct(&self, lt: usize) -> Option<(usize, Kind)> {
        let rest = &self.buf[lt..];
        if rest.len() < "<![CDATA[".len() && !self.eof {
            return None;
        }
        let (terminator, kind) = if rest.starts_with("<!--") {
            ("-->", Kind::Skipped)
        } else if rest.starts_with("<![CDATA[") {
            ("]]>", Kind::Cdata)
        } else if rest.starts_with("<!") || rest.starts_with("<?") {
            (">", Kind::Skipped)
        } else if rest.starts_with("</") {
            (">", Kind::Close)
        } else {
            (">", Kind::Open)
        };
        match rest.find(terminator) {
            Some(end) => Some((lt + end + terminator.len(), kind)),
            // At the end of the file the rest is one chunk: the tokenizer reports it.
            None if self.eof => Some((self.buf.len(), kind)),
            None => None,
        }
    }
}

/// What starts at a `<`.
#[derive(Clone, Copy)]
enum Kind {
    Open,
    Close,
    /// A comment, declaration or processing instruction.
    Skipped,
    Cdata,
}

fn count_lines(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count()
}
