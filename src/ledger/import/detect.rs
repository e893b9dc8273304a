//! Which reader a file goes to, judged from its first bytes and never from its name: OFX by its
//! header or `<OFX>` root, CSV for any other text; archives, PDFs, spreadsheets, HTML pages and
//! binary files are refused with what to do instead.
//!
//! Invariant: the same first bytes always give the same answer; a file the CSV reader would only
//! turn into garbage (NUL bytes without a UTF-16 byte order mark, control characters) is never
//! called CSV.

use super::{Format, ImportError};
use crate::ledger::import::ofx;

/// Compressed-file signatures.
const COMPRESSED: [&[u8]; 9] = [
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"PK\x07\x08",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c",
    b"\x28\xb5\x2f\xfd",
    b"Rar!\x1a\x07",
];

/// From the first bytes of the file (at least the first 4 KiB when the file is that long).
pub fn detect(head: &[u8]) -> Result<Format, ImportError> {
    let refuse = |why: &str| Err(ImportError::NotRecognised(why.to_owned()));
    if head.is_empty() {
        return refuse("the file is empty");
    }
    if COMPRESSED.iter().any(|sig| head.starts_with(sig)) {
        return refuse("compressed files are not accepted: unzip it first");
    }
    if head.starts_with(b"%PDF-") {
        return refuse(
            "PDF statements are not accepted: download the OFX/QFX or CSV export from your bank",
        );
    }
    if head.starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        return refuse("spreadsheets are not accepted: save it as CSV first");
    }
    let utf16 = head.starts_with(b"\xff\xfe") || head.starts_with(b"\xfe\xff");
    if !utf16 && is_binary(head) {
        return refuse("this is a binary file, not an OFX/QFX or CSV bank export");
    }
    if ofx::is_ofx(head) {
        return Ok(Format::Ofx);
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(1024)]);
    let start = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    let lower = start
        .get(..start.len().min(16))
        .unwrap_or("")
        .to_ascii_lowercase();
    if lower.starts_with("<?xml") {
        return refuse("an XML file without an <?OFX ...?> header is not OFX");
    }
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        return refuse("this is a web page, not a bank export (the download may have failed)");
    }
    Ok(Format::Csv)
}

/// NUL bytes, or control characters other than tab, line breaks, form feed and DOS end-of-file.
fn is_binary(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(4096)];
    let controls = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1a))
        .count();
    sample.contains(&0) || controls * 100 > sample.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(head: &[u8]) -> String {
        detect(head).unwrap_err().to_string()
    }

    #[test]
    fn ofx_and_csv_are_told_by_their_content() {
        let sgml = b"\xef\xbb\xbf\r\nOFXHEADER:100\r\nDATA:OFXSGML\r\n\r\n<OFX>";
        assert_eq!(detect(sgml).unwrap(), Format::Ofx);
        let xml = b"<?xml version=\"1.0\"?>\n<?OFX OFXHEADER=\"200\"?><OFX>";
        assert_eq!(detect(xml).unwrap(), Format::Ofx);
        assert_eq!(detect(b"  <OFX><SIGNONMSGSRSV1>").unwrap(), Format::Ofx);
        assert_eq!(detect(b"Date,Amount\n2024-01-01,5\n").unwrap(), Format::Csv);
        assert_eq!(detect(b"Datum;Empf\xe4nger\n").unwrap(), Format::Csv);
        let mut utf16 = vec![0xff, 0xfe];
        "Date,Amount"
            .encode_utf16()
            .for_each(|u| utf16.extend(u.to_le_bytes()));
        assert_eq!(detect(&utf16).unwrap(), Format::Csv);
        assert_eq!(Format::Ofx.as_str(), "ofx");
        assert_eq!(Format::Csv.as_str(), "csv");
    }

    #[test]
    fn archives_pdfs_and_binaries_are_refused_saying_what_to_do() {
        for zip in [&b"PK\x03\x04\x14\x00"[..], b"\x1f\x8b\x08\x00", b"BZh91AY"] {
            assert_eq!(
                refusal(zip),
                "compressed files are not accepted: unzip it first"
            );
        }
        assert!(refusal(b"%PDF-1.7\n%\xe2\xe3").contains("PDF statements are not accepted"));
        assert!(refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00").contains("save it as CSV"));
        assert!(refusal(b"\x7fELF\x02\x01\x01\x00\x00").contains("binary file"));
        assert!(refusal(b"<?xml version=\"1.0\"?><html/>").contains("not OFX"));
        assert!(refusal(b"<!DOCTYPE html><html>").contains("web page"));
        assert!(refusal(b"").contains("empty"));
    }
}
