//! Header detection and decoding: which OFX this is, judged from the content, and its text.
//!
//! Invariant: the body handed to the tokenizer is the whole file decoded once (so line numbers
//! count from the file's first line), starting at the first tag after the header; a file that
//! shows no OFX header and no `<OFX>` root is refused before anything else reads it.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// How the file announced itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// `OFXHEADER:100` key:value lines, an SGML body (OFX 1.x, most QFX).
    Sgml,
    /// `<?xml ...?><?OFX OFXHEADER="200" ...?>` (OFX 2.x), whatever the body looks like.
    Xml,
    /// No header at all, but the body opens with `<OFX>`.
    Bare,
}

/// The decoded file and where its body starts.
pub struct Decoded<'a> {
    pub flavor: Flavor,
    pub text: Cow<'a, str>,
    /// Byte offset of the body in `text`.
    pub body_start: usize,
}

/// What the first bytes of a file say: its flavor, declared encoding and where its content starts.
pub struct Sniffed {
    pub flavor: Flavor,
    /// Declared (or assumed) encoding; UTF-8 falls back to Windows-1252 when the file is not.
    pub encoding: &'static Encoding,
    /// Length of a UTF-8 byte order mark, which is not part of the text.
    pub bom: usize,
    /// Offset, after the BOM, of the first byte that is not ASCII white space.
    pub start: usize,
}

/// Reads the header from the file's first bytes (the first 4 KiB after leading white space are
/// enough), or says why the file is not OFX.
pub fn sniff(bytes: &[u8]) -> Result<Sniffed, String> {
    let bom = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let bytes = &bytes[bom..];
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let head = &bytes[start..bytes.len().min(start + 4096)];
    let (flavor, encoding) = if starts_with_ignore_case(head, b"OFXHEADER:") {
        (Flavor::Sgml, sgml_encoding(head))
    } else if starts_with_ignore_case(head, b"<?xml") {
        if !contains_ignore_case(head, b"<?OFX") {
            return Err("an XML file without an <?OFX ...?> header is not OFX".to_owned());
        }
        (Flavor::Xml, xml_encoding(head))
    } else if starts_with_ignore_case(head, b"<OFX>") {
        (Flavor::Bare, UTF_8)
    } else {
        return Err(
            "the file does not start with an OFX header (OFXHEADER:100 or <?xml ...?> \
                    with <?OFX ...?>) nor with <OFX>"
                .to_owned(),
        );
    };
    Ok(Sniffed {
        flavor,
        encoding,
        bom,
        start,
    })
}

/// Detects the header and decodes the file, or says why it is not OFX.
pub fn decode(bytes: &[u8]) -> Result<Decoded<'_>, String> {
    let sniffed = sniff(bytes)?;
    let bytes = &bytes[sniffed.bom..];
    let text = decode_text(bytes, sniffed.encoding);
    let body_start = find_body_start(&text, sniffed.flavor, sniffed.start).unwrap_or(text.len());
    Ok(Decoded {
        flavor: sniffed.flavor,
        text,
        body_start,
    })
}

/// Declared UTF-8 or ASCII that is not valid UTF-8 is read as Windows-1252, what such files hold
/// in practice; Windows-1252 maps every byte, so decoding never fails.
fn decode_text<'b>(bytes: &'b [u8], encoding: &'static Encoding) -> Cow<'b, str> {
    if encoding == UTF_8 {
        if let Ok(text) = std::str::from_utf8(bytes) {
            return Cow::Borrowed(text);
        }
        return WINDOWS_1252.decode_without_bom_handling(bytes).0;
    }
    encoding.decode_without_bom_handling(bytes).0
}

/// `CHARSET:1252` / `CHARSET:ISO-8859-1` / `ENCODING:UTF-8` in a 1.x header.
fn sgml_encoding(head: &[u8]) -> &'static Encoding {
    let header_end = head.iter().position(|&b| b == b'<').unwrap_or(head.len());
    let header = String::from_utf8_lossy(&head[..header_end]);
    let field = |name: &str| {
        header.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    if field("ENCODING").is_some_and(|e| e.eq_ignore_ascii_case("UTF-8")) {
        return UTF_8;
    }
    match field("CHARSET")
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("1252" | "WINDOWS-1252" | "CP1252") => WINDOWS_1252,
        Some(label @ ("ISO-8859-1" | "8859-1" | "LATIN1")) => {
            Encoding::for_label(label.as_bytes()).unwrap_or(WINDOWS_1252)
        }
        _ => UTF_8,
    }
}

/// `encoding="..."` in the XML declaration; UTF-8 when absent or unknown.
fn xml_encoding(head: &[u8]) -> &'static Encoding {
    let decl_end = find(head, b"?>").unwrap_or(head.len());
    let decl = String::from_utf8_lossy(&head[..decl_end]).to_ascii_lowercase();
    decl.split_once("encoding=")
        .and_then(|(_, rest)| {
            let quote = rest.chars().next()?;
            // The "quote" is whatever follows `=`, possibly a multi-byte character.
            rest[quote.len_utf8()..].split(quote).next()
        })
        .and_then(|label| Encoding::for_label(label.as_bytes()))
        .unwrap_or(UTF_8)
}

/// Where the body starts: after the `<?OFX ...?>` processing instruction, or at the first `<`;
/// `None` when `text` does not show it (the body is empty, or, when streaming, not read yet).
/// A caller with only a prefix of the text must hold more than `start` bytes of it.
pub fn find_body_start(text: &str, flavor: Flavor, start: usize) -> Option<usize> {
    let from = text.get(start..).map_or(0, |_| start);
    let rest = &text[from..];
    let offset = match flavor {
        Flavor::Xml => position_ignore_case(rest.as_bytes(), b"<?OFX")
            .and_then(|at| rest[at..].find("?>").map(|end| at + end + 2)),
        Flavor::Sgml => rest.find('<'),
        Flavor::Bare => Some(0),
    };
    offset.map(|offset| from + offset)
}

fn starts_with_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack[..needle.len()].eq_ignore_ascii_case(needle)
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    position_ignore_case(haystack, needle).is_some()
}

fn position_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(bytes: &[u8]) -> String {
        let d = decode(bytes).unwrap();
        d.text[d.body_start..].to_owned()
    }

    #[test]
    fn the_flavor_comes_from_the_content() {
        let sgml = b"\r\n\r\nOFXHEADER:100\r\nDATA:OFXSGML\r\nCHARSET:1252\r\n\r\n<OFX></OFX>";
        assert_eq!(decode(sgml).unwrap().flavor, Flavor::Sgml);
        assert_eq!(body(sgml), "<OFX></OFX>");
        let xml =
            b"<?xml version=\"1.0\"?>\n<?OFX OFXHEADER=\"200\" VERSION=\"211\"?>\n<OFX></OFX>";
        assert_eq!(decode(xml).unwrap().flavor, Flavor::Xml);
        assert_eq!(body(xml), "\n<OFX></OFX>");
        let bare = b"\xEF\xBB\xBF  <OFX><SIGNONMSGSRSV1>";
        assert_eq!(decode(bare).unwrap().flavor, Flavor::Bare);
        assert_eq!(body(bare), "<OFX><SIGNONMSGSRSV1>");
    }

    #[test]
    fn files_that_are_not_ofx_are_refused() {
        for bytes in [
            &b""[..],
            b"Date,Amount\n2020-01-01,5",
            b"<?xml version=\"1.0\"?><html/>",
        ] {
            assert!(decode(bytes).is_err(), "{bytes:?}");
        }
    }

    #[test]
    fn charset_1252_is_decoded() {
        let file = b"OFXHEADER:100\nCHARSET:1252\n\n<OFX><NAME>Caf\xE9 \x80</OFX>";
        assert_eq!(body(file), "<OFX><NAME>Caf\u{e9} \u{20ac}</OFX>");
    }

    #[test]
    fn utf8_is_kept_and_invalid_utf8_falls_back_to_1252() {
        let utf8 = "OFXHEADER:100\nENCODING:UTF-8\nCHARSET:NONE\n\n<OFX>Café".as_bytes();
        assert_eq!(body(utf8), "<OFX>Café");
        let mislabelled = b"OFXHEADER:100\nENCODING:USASCII\n\n<OFX>Caf\xE9";
        assert_eq!(body(mislabelled), "<OFX>Caf\u{e9}");
        let latin =
            b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><?OFX OFXHEADER=\"200\"?><OFX>\xE9";
        assert_eq!(body(latin), "<OFX>\u{e9}");
    }

    #[test]
    fn a_multibyte_character_after_encoding_is_no_quote_to_split_on() {
        let file = b"<?xml version=\"1.0\" encoding=\xE2\x82\xACx\xE2\x82\xAC?><?OFX?><OFX>\xE9";
        assert_eq!(body(file), "<OFX>\u{e9}");
    }
}
