//! Incremental decoding of a bank file into UTF-8 text, a block at a time: strict UTF-8 validated
//! across block boundaries, or any `encoding_rs` encoding (Windows-1252, ISO-8859-1, UTF-16...).
//!
//! Invariant: memory is one input block and the text decoded from it, whatever the file's size;
//! the text handed out equals what decoding the whole file at once gives; strict UTF-8 that is not
//! valid (and UTF-16 with unpaired surrogates) is refused naming the byte, never replaced.

use std::io::{self, Read};

use encoding_rs::{CoderResult, Decoder, Encoding, UTF_16BE, UTF_16LE, UTF_8};

/// Bytes read from the input at a time.
pub const BLOCK: usize = 64 * 1024;

/// Why text could not be produced.
#[derive(Debug)]
pub enum TextError {
    /// The bytes are not valid in the encoding (a message naming the byte offset).
    Invalid(String),
    Io(io::Error),
}

impl From<io::Error> for TextError {
    fn from(e: io::Error) -> Self {
        TextError::Io(e)
    }
}

/// Text from a byte stream, block by block.
pub struct Decoding<R> {
    input: R,
    /// `None`: strict UTF-8.
    decoder: Option<Decoder>,
    /// Refuse replacement characters (UTF-16).
    strict: bool,
    encoding: &'static Encoding,
    block: Vec<u8>,
    /// Strict UTF-8: the start of a character cut by the block boundary.
    carry: Vec<u8>,
    /// Bytes consumed from the input, for error messages.
    consumed: u64,
    done: bool,
}

impl<R: Read> Decoding<R> {
    /// Decodes `input` (positioned after any byte order mark) as `encoding`.
    pub fn new(input: R, encoding: &'static Encoding) -> Self {
        let decoder = (encoding != UTF_8).then(|| encoding.new_decoder_without_bom_handling());
        Self {
            input,
            decoder,
            strict: encoding == UTF_16LE || encoding == UTF_16BE,
            encoding,
            block: vec![0; BLOCK],
            carry: Vec::new(),
            consumed: 0,
            done: false,
        }
    }

    /// Replaces what is not valid in a non-UTF-8 encoding (UTF-16 included) instead of refusing.
    pub fn lossy(mut self) -> Self {
        self.strict = false;
        self
    }

    /// Appends the next decoded text to `out`; `Ok(false)` once the input is exhausted (text
    /// appended by that last call, the decoder's flush, still counts).
    pub fn fill(&mut self, out: &mut String) -> Result<bool, TextError> {
        if self.done {
            return Ok(false);
        }
        let read = read_some(&mut self.input, &mut self.block)?;
        let last = read == 0;
        let offset = self.consumed;
        self.consumed += read as u64;
        match self.decoder.as_mut() {
            None => self.utf8(read, last, out)?,
            Some(decoder) => {
                let src = &self.block[..read];
                let needed = decoder
                    .max_utf8_buffer_length(src.len())
                    .unwrap_or(src.len() * 3 + 16);
                out.reserve(needed);
                let (result, _, replaced) = decoder.decode_to_string(src, out, last);
                debug_assert!(matches!(result, CoderResult::InputEmpty));
                if replaced && self.strict {
                    return Err(TextError::Invalid(format!(
                        "the file is not valid {} (near byte {offset})",
                        self.encoding.name()
                    )));
                }
            }
        }
        self.done = last;
        Ok(!last)
    }

    fn utf8(&mut self, read: usize, last: bool, out: &mut String) -> Result<(), TextError> {
        let mut bytes = std::mem::take(&mut self.carry);
        bytes.extend_from_slice(&self.block[..read]);
        let start = self.consumed - bytes.len() as u64;
        match std::str::from_utf8(&bytes) {
            Ok(text) => out.push_str(text),
            Err(e) if e.error_len().is_none() && !last => {
                let valid = e.valid_up_to();
                out.push_str(std::str::from_utf8(&bytes[..valid]).unwrap_or_default());
                self.carry = bytes[valid..].to_vec();
            }
            Err(e) => {
                return Err(TextError::Invalid(format!(
                    "the file is not valid UTF-8 (byte {})",
                    start + e.valid_up_to() as u64
                )))
            }
        }
        Ok(())
    }
}

/// Reads into `buf`, retrying on interruption; 0 only at the end of the input.
pub fn read_some(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match input.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Reads up to `limit` bytes from the start of `input` (fewer only at its end).
pub fn read_head(input: &mut impl Read, limit: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(limit.min(BLOCK));
    input.take(limit as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Whether the rest of `input` is valid UTF-8, checked a block at a time.
pub fn is_utf8(input: &mut impl Read) -> io::Result<bool> {
    let mut decoding = Decoding::new(input, UTF_8);
    let mut sink = String::with_capacity(BLOCK + 4);
    loop {
        sink.clear();
        match decoding.fill(&mut sink) {
            Ok(true) => {}
            Ok(false) => return Ok(true),
            Err(TextError::Invalid(_)) => return Ok(false),
            Err(TextError::Io(e)) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::WINDOWS_1252;

    fn all(bytes: &[u8], encoding: &'static Encoding, block: usize) -> Result<String, String> {
        let mut d = Decoding::new(bytes, encoding);
        d.block = vec![0; block];
        let mut out = String::new();
        loop {
            match d.fill(&mut out) {
                Ok(true) => {}
                Ok(false) => return Ok(out),
                Err(TextError::Invalid(m)) => return Err(m),
                Err(TextError::Io(e)) => return Err(e.to_string()),
            }
        }
    }

    #[test]
    fn characters_cut_by_a_block_boundary_decode_whole() {
        let text = "Café € 😀 Müller";
        for block in 1..8 {
            assert_eq!(all(text.as_bytes(), UTF_8, block).unwrap(), text, "{block}");
            let plain = text.replace('😀', "");
            let (latin, _, _) = WINDOWS_1252.encode(&plain);
            assert_eq!(all(&latin, WINDOWS_1252, block).unwrap(), plain);
        }
    }

    #[test]
    fn invalid_utf8_is_refused_with_its_byte_even_across_blocks() {
        let err = all(b"abc\xE9def", UTF_8, 2).unwrap_err();
        assert!(err.contains("byte 3"), "{err}");
        let cut = all(b"abc\xE2\x82", UTF_8, 4).unwrap_err();
        assert!(cut.contains("byte 3"), "{cut}");
        assert!(!is_utf8(&mut &b"ok\xE9"[..]).unwrap());
        assert!(is_utf8(&mut "ok é".as_bytes()).unwrap());
    }
}
