//! CSV amount cells as banks write them (`1.234,56`, `(12.50)`, `12.50-`, `12.50 CR`, `1 234,56`
//! with a non-breaking space) into signed minor units, through the OFX reader's decimal parser.
//!
//! Invariant: no float anywhere; a cell is normalised to plain `[-]digits[.digits]` only by
//! removing the mapping's thousands separator (and non-breaking spaces) and reading the mapping's
//! decimal separator, and anything else in it is refused, never guessed.

use crate::ledger::import::ofx::amount::parse_minor;

/// A `CR`/`DR` marker: the bank says which way the money went, whatever the sign convention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// Credit: money in.
    Credit,
    /// Debit: money out.
    Debit,
}

/// A cell read: the written value in minor units (sign as written) and its marker, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written {
    pub minor: i64,
    pub marker: Option<Marker>,
}

/// How the mapping says numbers are written.
#[derive(Clone, Copy, Debug)]
pub struct Separators {
    pub decimal: char,
    pub thousands: Option<char>,
}

/// Non-breaking and narrow no-break spaces, which banks use as thousands separators.
fn is_nbsp(c: char) -> bool {
    matches!(c, '\u{a0}' | '\u{202f}')
}

/// Reads one amount cell.
pub fn read(cell: &str, seps: Separators, exponent: u32) -> Result<Written, String> {
    let text = cell.trim_matches(|c: char| c.is_whitespace() || is_nbsp(c));
    let (text, marker) = strip_marker(text);
    let (text, negative) = strip_sign(text)?;
    let plain = normalise(text, seps).ok_or_else(|| format!("{cell:?} is not an amount"))?;
    let minor = parse_minor(&plain, exponent)
        .map_err(|e| e.replacen(&format!("{plain:?}"), &format!("{cell:?}"), 1))?;
    let minor = if negative {
        minor
            .checked_neg()
            .ok_or_else(|| format!("{cell:?} is too large"))?
    } else {
        minor
    };
    Ok(Written { minor, marker })
}

fn strip_marker(text: &str) -> (&str, Option<Marker>) {
    let upper = |s: &str| s.to_ascii_uppercase();
    for (tag, marker) in [("CR", Marker::Credit), ("DR", Marker::Debit)] {
        if text.len() >= 2 {
            if let (Some(head), Some(tail)) =
                (text.get(..text.len() - 2), text.get(text.len() - 2..))
            {
                if upper(tail) == tag {
                    return (head.trim_end(), Some(marker));
                }
            }
            if let (Some(head), Some(tail)) = (text.get(..2), text.get(2..)) {
                if upper(head) == tag {
                    return (tail.trim_start(), Some(marker));
                }
            }
        }
    }
    (text, None)
}

/// `-x`, `+x`, `x-`, `(x)`: at most one of them.
fn strip_sign(text: &str) -> Result<(&str, bool), String> {
    let bad = || format!("{text:?} has more than one sign");
    let (text, mut negative) = match text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        Some(inner) => (inner.trim(), true),
        None => (text, false),
    };
    let (text, sign) = if let Some(t) = text.strip_prefix('-') {
        (t, Some(true))
    } else if let Some(t) = text.strip_prefix('+') {
        (t, Some(false))
    } else if let Some(t) = text.strip_suffix('-') {
        (t.trim_end(), Some(true))
    } else {
        (text, None)
    };
    if let Some(minus) = sign {
        if negative {
            return Err(bad());
        }
        negative = minus;
    }
    if text.starts_with(['-', '+']) || text.ends_with(['-', '+']) {
        return Err(bad());
    }
    Ok((text, negative))
}

/// Digits with the thousands separator removed and the decimal separator as `.`; `None` if any
/// other character is present, the decimal separator appears twice, or a thousands separator is
/// not followed by a group of three digits (`12,50` is not twelve thousand and fifty).
fn normalise(text: &str, seps: Separators) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut seen_decimal = false;
    let mut grouped = false;
    let mut group = 0usize;
    for c in text.chars() {
        if c.is_ascii_digit() {
            out.push(c);
            group += 1;
        } else if c == seps.decimal && !seen_decimal {
            if grouped && group != 3 {
                return None;
            }
            seen_decimal = true;
            out.push('.');
        } else if !seen_decimal && (Some(c) == seps.thousands || is_nbsp(c)) {
            let group_ok = if grouped {
                group == 3
            } else {
                (1..=3).contains(&group)
            };
            if !group_ok {
                return None;
            }
            grouped = true;
            group = 0;
        } else {
            return None;
        }
    }
    (seen_decimal || !grouped || group == 3).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOT: Separators = Separators {
        decimal: '.',
        thousands: Some(','),
    };
    const COMMA: Separators = Separators {
        decimal: ',',
        thousands: Some('.'),
    };

    fn minor(cell: &str, seps: Separators) -> i64 {
        read(cell, seps, 2).unwrap().minor
    }

    #[test]
    fn decimal_and_thousands_separators_follow_the_mapping() {
        assert_eq!(minor("1,234.56", DOT), 123456);
        assert_eq!(minor("1.234,56", COMMA), 123456);
        assert_eq!(minor("1.234.567,8", COMMA), 123456780);
        assert_eq!(minor("12", DOT), 1200);
        assert_eq!(minor("0,01", COMMA), 1);
        let space = Separators {
            decimal: ',',
            thousands: Some(' '),
        };
        assert_eq!(minor("1 234,56", space), 123456);
        assert_eq!(minor("1\u{a0}234,56", COMMA), 123456);
        assert_eq!(minor("1\u{202f}234.56", DOT), 123456);
        assert_eq!(read("1234", DOT, 0).unwrap().minor, 1234);
        assert_eq!(read("1,234.567", DOT, 3).unwrap().minor, 1234567);
    }

    #[test]
    fn every_sign_form() {
        assert_eq!(minor("-12.50", DOT), -1250);
        assert_eq!(minor("+12.50", DOT), 1250);
        assert_eq!(minor("(12.50)", DOT), -1250);
        assert_eq!(minor("( 12.50 )", DOT), -1250);
        assert_eq!(minor("12.50-", DOT), -1250);
        assert_eq!(minor("1.234,56-", COMMA), -123456);
        assert_eq!(minor("  -0.99 ", DOT), -99);
    }

    #[test]
    fn credit_and_debit_markers() {
        let cr = read("12.50 CR", DOT, 2).unwrap();
        assert_eq!((cr.minor, cr.marker), (1250, Some(Marker::Credit)));
        let dr = read("12.50DR", DOT, 2).unwrap();
        assert_eq!((dr.minor, dr.marker), (1250, Some(Marker::Debit)));
        let lower = read("cr 7,00", COMMA, 2).unwrap();
        assert_eq!((lower.minor, lower.marker), (700, Some(Marker::Credit)));
        assert_eq!(read("12.50", DOT, 2).unwrap().marker, None);
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        for (cell, seps, reason) in [
            ("", DOT, "not a decimal"),
            ("abc", DOT, "not an amount"),
            ("$12.50", DOT, "not an amount"),
            ("12,50", DOT, "not an amount"),
            ("1.234,56", DOT, "not an amount"),
            ("1.2.3", DOT, "not an amount"),
            ("1,234.5,6", DOT, "not an amount"),
            ("1,23", DOT, "not an amount"),
            ("1234,567.00", DOT, "not an amount"),
            (",123", DOT, "not an amount"),
            ("1.23,45", COMMA, "not an amount"),
            ("--5", DOT, "more than one sign"),
            ("(-5)", DOT, "more than one sign"),
            ("-5-", DOT, "more than one sign"),
            ("1e5", DOT, "not an amount"),
            ("1.005", DOT, "more than 2 decimal places"),
            ("99999999999999999999", DOT, "too large"),
        ] {
            let err = read(cell, seps, 2).unwrap_err();
            assert!(err.contains(reason), "{cell:?}: {err}");
        }
    }
}
