//! A tolerant OFX tokenizer, one path for SGML (1.x) and XML (2.x) bodies, the way ofxtools reads
//! them: a tag followed by text is a leaf that closes itself (its `</X>` is optional), a tag
//! followed by `</X>` is an empty leaf, any other tag opens an aggregate, and `</X>` closes one.
//!
//! Invariant: every element carries the line it starts on; text is trimmed, entity-decoded and
//! CDATA-unwrapped; the tokenizer never allocates for a value that needs no decoding.

use std::borrow::Cow;

/// One element of the body, borrowed from the decoded text where possible.
#[derive(Debug, PartialEq, Eq)]
pub enum Element<'a> {
    Open {
        tag: &'a str,
        line: usize,
    },
    Leaf {
        tag: &'a str,
        value: Cow<'a, str>,
        line: usize,
    },
    Close {
        tag: &'a str,
        line: usize,
    },
}

/// A token and its line, or a line and what is wrong there.
type Scanned<'a> = Result<(Token<'a>, usize), (usize, String)>;

enum Token<'a> {
    Open(&'a str),
    Close(&'a str),
    Text(Cow<'a, str>),
}

/// Elements of an OFX body, in order; an `Err` (a line and a reason) ends the stream.
pub struct Elements<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    peeked: Option<Scanned<'a>>,
}

impl<'a> Elements<'a> {
    /// `first_line` is the line number at which `text` starts.
    pub fn new(text: &'a str, first_line: usize) -> Self {
        Self {
            text,
            pos: 0,
            line: first_line,
            peeked: None,
        }
    }

    fn advance_to(&mut self, to: usize) {
        let skipped = &self.text.as_bytes()[self.pos..to];
        self.line += skipped.iter().filter(|&&b| b == b'\n').count();
        self.pos = to;
    }

    fn find_from(&self, needle: &str) -> Option<usize> {
        self.text[self.pos..].find(needle).map(|at| self.pos + at)
    }

    /// The next token and the line it starts on.
    fn token(&mut self) -> Option<Scanned<'a>> {
        if let Some(peeked) = self.peeked.take() {
            return Some(peeked);
        }
        loop {
            let rest = &self.text[self.pos..];
            let blank = rest.len() - rest.trim_start().len();
            self.advance_to(self.pos + blank);
            let rest = &self.text[self.pos..];
            if rest.is_empty() {
                return None;
            }
            let line = self.line;
            let skip = if rest.starts_with("<!--") {
                Some("-->")
            } else if rest.starts_with("<?")
                || rest.starts_with("<!") && !rest.starts_with("<![CDATA[")
            {
                Some(">")
            } else {
                None
            };
            if let Some(end) = skip {
                let Some(at) = self.find_from(end) else {
                    return Some(Err((
                        line,
                        "a comment or declaration is never closed".to_owned(),
                    )));
                };
                self.advance_to(at + end.len());
                continue;
            }
            return Some(if rest.starts_with('<') && !rest.starts_with("<![CDATA[") {
                self.tag(line)
            } else {
                self.text_token(line)
            });
        }
    }

    fn tag(&mut self, line: usize) -> Scanned<'a> {
        let text = self.text;
        let end = self
            .find_from(">")
            .ok_or((line, "a tag is never closed with '>'".to_owned()))?;
        let inner = &text[self.pos + 1..end];
        self.advance_to(end + 1);
        let (closing, name) = match inner.strip_prefix('/') {
            Some(name) => (true, name),
            None => (false, inner.strip_suffix('/').unwrap_or(inner)),
        };
        let name = name
            .split(|c: char| c.is_ascii_whitespace())
            .next()
            .unwrap_or("");
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-:".contains(&b));
        if !valid {
            let reason = "a tag holds characters other than letters, digits and ._-:";
            return Err((line, reason.to_owned()));
        }
        Ok((
            if closing {
                Token::Close(name)
            } else {
                Token::Open(name)
            },
            line,
        ))
    }

    /// Text up to the next tag, with CDATA sections taken literally.
    fn text_token(&mut self, line: usize) -> Scanned<'a> {
        let text = self.text;
        let start = self.pos;
        let mut has_cdata = false;
        loop {
            let next = self.find_from("<").unwrap_or(text.len());
            self.advance_to(next);
            if !text[next..].starts_with("<![CDATA[") {
                break;
            }
            has_cdata = true;
            let end = self
                .find_from("]]>")
                .ok_or((line, "a CDATA section is never closed".to_owned()))?;
            self.advance_to(end + 3);
        }
        let raw = &text[start..self.pos];
        let value = if has_cdata || raw.contains('&') {
            Cow::Owned(unescape(raw).trim().to_owned())
        } else {
            Cow::Borrowed(raw.trim())
        };
        Ok((Token::Text(value), line))
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<Element<'a>, (usize, String)>;

    fn next(&mut self) -> Option<Self::Item> {
        let (token, line) = match self.token()? {
            Ok(token) => token,
            Err(e) => return Some(Err(e)),
        };
        Some(match token {
            Token::Close(tag) => Ok(Element::Close { tag, line }),
            // The text itself is not quoted: it could be anything, an account number included.
            Token::Text(_) => Err((line, "text outside any tag".to_owned())),
            Token::Open(tag) => Ok(self.after_open(tag, line)),
        })
    }
}

impl<'a> Elements<'a> {
    /// Decides whether `<tag>` is a leaf or opens an aggregate by looking one token ahead.
    fn after_open(&mut self, tag: &'a str, line: usize) -> Element<'a> {
        match self.token() {
            Some(Ok((Token::Text(value), _))) => {
                match self.token() {
                    Some(Ok((Token::Close(close), _))) if close.eq_ignore_ascii_case(tag) => {}
                    Some(other) => self.peeked = Some(other),
                    None => {}
                }
                Element::Leaf { tag, value, line }
            }
            Some(Ok((Token::Close(close), _))) if close.eq_ignore_ascii_case(tag) => {
                Element::Leaf {
                    tag,
                    value: Cow::Borrowed(""),
                    line,
                }
            }
            Some(other) => {
                self.peeked = Some(other);
                Element::Open { tag, line }
            }
            None => Element::Open { tag, line },
        }
    }
}

/// CDATA unwrapped and the XML/SGML entities banks use decoded.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").unwrap_or(after.len());
            out.push_str(&after[..end]);
            rest = after.get(end + 3..).unwrap_or("");
        } else if rest.starts_with('&') {
            rest = push_entity(&mut out, rest);
        } else {
            // Past the whole first character: it may be several bytes long (`é` after `&amp;`).
            let first = rest.chars().next().map_or(1, char::len_utf8);
            let next = rest[first..]
                .find(['&', '<'])
                .map_or(rest.len(), |at| at + first);
            out.push_str(&rest[..next]);
            rest = &rest[next..];
        }
    }
    out
}

/// Decodes one entity at the start of `rest`; an unknown one is kept as written.
fn push_entity<'s>(out: &mut String, rest: &'s str) -> &'s str {
    let end = rest.bytes().take(12).position(|b| b == b';');
    let decoded = end.and_then(|end| match &rest[1..end] {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        other => other
            .strip_prefix("#x")
            .map(|hex| u32::from_str_radix(hex, 16))
            .or_else(|| other.strip_prefix('#').map(str::parse))
            .and_then(Result::ok)
            .and_then(char::from_u32),
    });
    match (decoded, end) {
        (Some(c), Some(end)) => {
            out.push(c);
            &rest[end + 1..]
        }
        _ => {
            out.push('&');
            &rest[1..]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements(body: &str) -> Vec<Element<'_>> {
        Elements::new(body, 1).collect::<Result<_, _>>().unwrap()
    }

    fn leaf<'a>(tag: &'a str, value: &'a str, line: usize) -> Element<'a> {
        Element::Leaf {
            tag,
            value: Cow::Borrowed(value),
            line,
        }
    }

    #[test]
    fn sgml_leaves_close_themselves_and_aggregates_nest() {
        let got = elements("<STMTTRN><TRNTYPE>POS\n<TRNAMT>-6.60</TRNAMT><NAME></NAME></STMTTRN>");
        assert_eq!(
            got,
            vec![
                Element::Open {
                    tag: "STMTTRN",
                    line: 1
                },
                leaf("TRNTYPE", "POS", 1),
                leaf("TRNAMT", "-6.60", 2),
                leaf("NAME", "", 2),
                Element::Close {
                    tag: "STMTTRN",
                    line: 2
                },
            ]
        );
    }

    #[test]
    fn cdata_entities_comments_and_declarations() {
        let got = elements(
            "<!-- note --><?xml x?><NAME><![CDATA[A <b> & C  ]]></NAME>\n<MEMO>Joe&apos;s &amp; Co &#233; &bogus;</MEMO>",
        );
        assert_eq!(
            got,
            vec![
                leaf("NAME", "A <b> & C", 1),
                leaf("MEMO", "Joe's & Co \u{e9} &bogus;", 2)
            ]
        );
    }

    #[test]
    fn text_after_an_entity_may_start_with_a_multibyte_character() {
        let got = elements("<NAME>&amp;\u{ec}x</NAME><MEMO>&#233;\u{20ac}&lt;\u{1f600}</MEMO>");
        assert_eq!(
            got,
            vec![
                Element::Leaf {
                    tag: "NAME",
                    value: Cow::Owned("&\u{ec}x".to_owned()),
                    line: 1
                },
                Element::Leaf {
                    tag: "MEMO",
                    value: Cow::Owned("\u{e9}\u{20ac}<\u{1f600}".to_owned()),
                    line: 1
                },
            ]
        );
    }

    #[test]
    fn broken_markup_names_its_line() {
        for (body, line, reason) in [
            ("<OFX>\n<NAME", 2, "never closed"),
            ("<OFX>\n\n< bad>", 3, "characters other than"),
            ("<OFX>\n<ACCTID>1<$2345678>", 2, "characters other than"),
            ("12345678", 1, "outside any tag"),
            ("stray text", 1, "outside any tag"),
            ("<OFX>\n<NAME><![CDATA[x", 2, "CDATA"),
        ] {
            let err = Elements::new(body, 1).find_map(Result::err).unwrap();
            assert_eq!(err.0, line, "{body:?}");
            assert!(err.1.contains(reason), "{body:?}: {}", err.1);
            assert!(!err.1.contains("2345678"), "the text is quoted: {}", err.1);
        }
    }
}
