//! The file's encoding: UTF-8 with or without a BOM, UTF-16 with a BOM, otherwise the legacy
//! encoding `chardetng` detects (Windows-1252 for most bank exports), or the encoding the mapping
//! names; chosen from the file's first [`DETECT_BYTES`], so the file can then be decoded as it
//! streams.
//!
//! Invariant: the choice depends on the first MiB only; a file whose first MiB is UTF-8 is read as
//! strict UTF-8 and refused (naming the byte) if it is not valid further on, never read with
//! replacement characters; a file that claims UTF-8 by a BOM or an override is held to it too.

use encoding_rs::{Encoding, UTF_8};

/// How much of the file decides its encoding.
pub const DETECT_BYTES: usize = 1 << 20;

/// The encoding to read the file with, and the bytes (a byte order mark) to skip first.
pub struct Choice {
    pub encoding: &'static Encoding,
    pub skip: usize,
}

/// Chooses from the file's first bytes, with `force` overriding detection.
pub fn choose(head: &[u8], force: Option<&'static Encoding>) -> Choice {
    let bom = Encoding::for_bom(head);
    let encoding = match (force, bom) {
        (Some(forced), _) => forced,
        (None, Some((found, _))) => found,
        (None, None) if looks_utf8(head) => UTF_8,
        (None, None) => detect(head),
    };
    let skip = match bom {
        Some((found, len)) if found == encoding => len,
        _ if encoding == UTF_8 && head.starts_with(b"\xEF\xBB\xBF") => 3,
        _ => 0,
    };
    Choice { encoding, skip }
}

/// Valid UTF-8, allowing a character cut off where the head was cut from a longer file.
fn looks_utf8(head: &[u8]) -> bool {
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() >= DETECT_BYTES,
    }
}

/// The legacy encoding a non-UTF-8 file is most likely in.
fn detect(bytes: &[u8]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    let sample = &bytes[..bytes.len().min(DETECT_BYTES)];
    detector.feed(sample, true);
    detector.guess(None, chardetng::Utf8Detection::Deny)
}

/// The encoding a mapping names by its WHATWG label (`windows-1252`, `latin1`, `utf-8`).
pub fn by_label(label: &str) -> Result<&'static Encoding, String> {
    Encoding::for_label(label.trim().as_bytes())
        .ok_or_else(|| format!("{label:?} is not an encoding label such as windows-1252"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::import::text::{Decoding, TextError};
    use encoding_rs::WINDOWS_1252;

    /// The whole file decoded as it would stream.
    fn decode(
        bytes: &[u8],
        force: Option<&'static Encoding>,
    ) -> Result<(String, &'static str), String> {
        let choice = choose(&bytes[..bytes.len().min(DETECT_BYTES)], force);
        let mut decoding = Decoding::new(&bytes[choice.skip..], choice.encoding);
        let mut out = String::new();
        loop {
            match decoding.fill(&mut out) {
                Ok(true) => {}
                Ok(false) => return Ok((out, choice.encoding.name())),
                Err(TextError::Invalid(m)) => return Err(m),
                Err(TextError::Io(e)) => return Err(e.to_string()),
            }
        }
    }

    fn text(bytes: &[u8]) -> (String, &'static str) {
        decode(bytes, None).unwrap()
    }

    #[test]
    fn utf8_with_or_without_bom() {
        assert_eq!(text("Café;1".as_bytes()), ("Café;1".to_owned(), "UTF-8"));
        let bom = b"\xEF\xBB\xBFCaf\xC3\xA9;1";
        assert_eq!(text(bom), ("Café;1".to_owned(), "UTF-8"));
    }

    #[test]
    fn windows_1252_is_detected() {
        let file = b"Datum;Empf\xE4nger;Betrag\n01.02.2024;M\xFCller Caf\xE9;-3,50 \x80\n";
        let (decoded, name) = text(file);
        assert_eq!(name, "windows-1252");
        assert!(decoded.contains("Empfänger") && decoded.contains("Müller Café"));
        assert!(decoded.contains('€'));
    }

    #[test]
    fn utf16_with_bom() {
        let mut file = vec![0xFF, 0xFE];
        for unit in "Date,Amount".encode_utf16() {
            file.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(text(&file), ("Date,Amount".to_owned(), "UTF-16LE"));
    }

    #[test]
    fn an_override_wins_and_a_false_utf8_claim_is_refused() {
        let d = decode(b"Caf\xE9", Some(WINDOWS_1252)).unwrap();
        assert_eq!(d.0, "Caf\u{e9}");
        let latin = decode("Café".as_bytes(), Some(by_label("latin1").unwrap())).unwrap();
        assert_eq!(latin.0, "CafÃ©");
        assert!(decode(b"Caf\xE9", Some(UTF_8)).is_err());
        assert!(decode(b"\xEF\xBB\xBFCaf\xE9", None).is_err());
        assert!(by_label("klingon").is_err());
    }

    #[test]
    fn a_utf8_first_mebibyte_holds_the_rest_to_utf8() {
        let mut file = "Date,Amount,Name\n"
            .repeat(DETECT_BYTES / 16 + 1)
            .into_bytes();
        file.extend_from_slice(b"2024-01-01,1,Caf\xE9\n");
        let err = decode(&file, None).unwrap_err();
        assert!(err.contains("not valid UTF-8"), "{err}");
    }
}
