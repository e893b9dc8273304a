//! The safety net: whatever a log line says, bearer tokens, JWTs, provider keys, AuditPulse keys
//! and Luhn-valid card numbers are replaced before the line is written.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::LazyLock;

use regex::{Captures, Regex};
use tracing_subscriber::fmt::MakeWriter;

struct Rule {
    pattern: Regex,
    replace: fn(&Captures<'_>) -> String,
}

#[allow(clippy::expect_used)] // The patterns are constants; a bad one fails every test at once.
fn rule(pattern: &str, replace: fn(&Captures<'_>) -> String) -> Rule {
    Rule {
        pattern: Regex::new(pattern).expect("scrub pattern compiles"),
        replace,
    }
}

/// Most specific first: a JWT inside a bearer header is caught by the bearer rule.
static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        rule(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}", |c| {
            format!("{} [REDACTED]", &c[1])
        }),
        rule(
            r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
            |_| "[REDACTED JWT]".to_owned(),
        ),
        rule(r"\bsk-ant-[A-Za-z0-9_-]{8,}", |_| {
            "sk-ant-[REDACTED]".to_owned()
        }),
        rule(r"\bsk-[A-Za-z0-9_-]{16,}", |_| "sk-[REDACTED]".to_owned()),
        rule(r"\bap_([A-Za-z0-9]{4,})_[A-Za-z0-9]{8,}", |c| {
            format!("ap_{}_[REDACTED]", &c[1])
        }),
        rule(r"\b\d(?:[ -]?\d){12,18}\b", |c| {
            if luhn_valid(&c[0]) {
                "[REDACTED CARD]".to_owned()
            } else {
                c[0].to_owned()
            }
        }),
    ]
});

/// The text with every secret-looking value replaced.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let mut text = Cow::Borrowed(text);
    for rule in RULES.iter() {
        if let Cow::Owned(replaced) = rule
            .pattern
            .replace_all(&text, |c: &Captures<'_>| (rule.replace)(c))
        {
            text = Cow::Owned(replaced);
        }
    }
    text
}

fn luhn_valid(candidate: &str) -> bool {
    let digits: Vec<u32> = candidate.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Wraps a log writer so every formatted line is scrubbed before it is written.
#[derive(Clone)]
pub struct ScrubbingWriter<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for ScrubbingWriter<M> {
    type Writer = Scrubbed<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        Scrubbed(self.0.make_writer())
    }
}

/// One event's writer. The formatter hands over each event as one buffer.
pub struct Scrubbed<W>(W);

impl<W: Write> Write for Scrubbed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(scrub(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_of_every_kind_are_replaced() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        let cases = [
            (
                "Authorization: Bearer abcdefgh12345678",
                "Authorization: Bearer [REDACTED]",
            ),
            (&*format!("token {jwt} end"), "token [REDACTED JWT] end"),
            ("key=sk-ant-api03-AbCdEfGh12345678", "key=sk-ant-[REDACTED]"),
            ("key=sk-proj-AbCdEfGhIjKlMnOpQrSt", "key=sk-[REDACTED]"),
            (
                "used ap_7Kq2mXab_s3cr3tS3cr3tS3cr3t today",
                "used ap_7Kq2mXab_[REDACTED] today",
            ),
            (
                "card 4111 1111 1111 1111 declined",
                "card [REDACTED CARD] declined",
            ),
            ("card 5500-0000-0000-0004", "card [REDACTED CARD]"),
        ];
        for (input, expected) in cases {
            assert_eq!(scrub(input), expected, "{input}");
        }
    }

    #[test]
    fn ordinary_text_and_non_luhn_numbers_are_left_alone() {
        for text in [
            "request completed status=200 latency_ms=1.2",
            "order 4111111111111112 shipped",
            "request_id=01a209fa83117645b229b2e73a560a64",
            "sk-short",
        ] {
            assert_eq!(scrub(text), text);
        }
    }
}
