//! The file's text: UTF-8 with or without a BOM, UTF-16 with a BOM, otherwise the legacy encoding
//! `chardetng` detects (Windows-1252 for most bank exports), or the encoding the mapping names.
//!
//! Invariant: the file is decoded once, whole, before any CSV is read, so line numbers count the
//! file's own lines; a file that claims UTF-8 (BOM or override) but is not is refused rather than
//! read with replacement characters.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

/// How much of a non-UTF-8 file the detector looks at.
const DETECT_BYTES: usize = 1 << 20;

/// The decoded text and the encoding it was read as.
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub encoding: &'static Encoding,
}

/// Decodes the file, with `force` overriding detection.
pub fn decode<'a>(
    bytes: &'a [u8],
    force: Option<&'static Encoding>,
) -> Result<Decoded<'a>, String> {
    let (bom, after_bom) = match Encoding::for_bom(bytes) {
        Some((encoding, len)) => (Some(encoding), &bytes[len..]),
        None => (None, bytes),
    };
    let encoding = match (force, bom) {
        (Some(forced), _) => forced,
        (None, Some(found)) => found,
        (None, None) if std::str::from_utf8(bytes).is_ok() => UTF_8,
        (None, None) => detect(bytes),
    };
    let body = if bom == Some(encoding) {
        after_bom
    } else {
        bytes
    };
    if encoding == UTF_8 {
        let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        let text = std::str::from_utf8(body)
            .map_err(|e| format!("the file is not valid UTF-8 (byte {})", e.valid_up_to()))?;
        return Ok(Decoded {
            text: Cow::Borrowed(text),
            encoding,
        });
    }
    let (text, had_errors) = encoding.decode_without_bom_handling(body);
    if had_errors && (encoding == UTF_16LE || encoding == UTF_16BE) {
        return Err(format!("the file is not valid {}", encoding.name()));
    }
    Ok(Decoded { text, encoding })
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
    use encoding_rs::WINDOWS_1252;

    fn text(bytes: &[u8]) -> (String, &'static str) {
        let d = decode(bytes, None).unwrap();
        (d.text.into_owned(), d.encoding.name())
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
        assert_eq!(d.text, "Caf\u{e9}");
        let latin = decode("Café".as_bytes(), Some(by_label("latin1").unwrap())).unwrap();
        assert_eq!(latin.text, "CafÃ©");
        assert!(decode(b"Caf\xE9", Some(UTF_8)).is_err());
        assert!(decode(b"\xEF\xBB\xBFCaf\xE9", None).is_err());
        assert!(by_label("klingon").is_err());
    }
}
