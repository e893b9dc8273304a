//! CSV amount cells as banks write them (`1.234,56`, `(12.50)`, `12.50-`, `12.50 CR`, `1 234,56`
//! with a non-breaking space, `$1,234.56`, `-£3.00`, `1.234,56 EUR`) into signed minor units,
//! through the OFX reader's decimal parser.
//!
//! Invariant: no float anywhere; a cell is normalised to plain `[-]digits[.digits]` only by
//! removing one currency symbol or ISO code (before or after the number, inside or outside its
//! sign), the mapping's thousands separator (and non-breaking spaces) and reading the mapping's
//! decimal separator, and anything else in it is refused, never guessed. A code is returned so
//! the row can check it against its currency.

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
    /// The ISO 4217 code written in the cell (`EUR` in `1.234,56 EUR`).
    pub code: Option<[u8; 3]>,
}

/// Currency symbols banks print beside amounts; the longer forms first.
const SYMBOLS: [&str; 21] = [
    "US$", "NZ$", "HK$", "A$", "C$", "S$", "R$", "$", "€", "£", "¥", "₹", "₩", "₽", "₺", "₪", "₫",
    "₱", "฿", "zł", "kr",
];

/// A currency written in a cell.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mention {
    Symbol,
    Code([u8; 3]),
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
    let (text, outside) = strip_currency(text);
    let (text, negative) = strip_sign(text)?;
    let (text, inside) = strip_currency(text);
    let mention = match (outside, inside) {
        (Some(_), Some(_)) => return Err(format!("{cell:?} names a currency twice")),
        (one, other) => one.or(other),
    };
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
    let code = match mention {
        Some(Mention::Code(code)) => Some(code),
        _ => None,
    };
    Ok(Written {
        minor,
        marker,
        code,
    })
}

/// One currency symbol or upper-case ISO code at the start or end of `text`.
fn strip_currency(text: &str) -> (&str, Option<Mention>) {
    for symbol in SYMBOLS {
        if let Some(rest) = text.strip_prefix(symbol) {
            return (rest.trim_start(), Some(Mention::Symbol));
        }
        if let Some(rest) = text.strip_suffix(symbol) {
            return (rest.trim_end(), Some(Mention::Symbol));
        }
    }
    let bytes = text.as_bytes();
    let is_code = |code: &[u8]| code.iter().all(u8::is_ascii_uppercase);
    let not_letter = |b: Option<&u8>| b.is_none_or(|b| !b.is_ascii_alphabetic());
    if bytes.len() >= 3 && is_code(&bytes[..3]) && not_letter(bytes.get(3)) {
        let code = [bytes[0], bytes[1], bytes[2]];
        return (text[3..].trim_start(), Some(Mention::Code(code)));
    }
    let n = bytes.len();
    if n >= 3 && is_code(&bytes[n - 3..]) && (n == 3 || not_letter(bytes.get(n - 4))) {
        let code = [bytes[n - 3], bytes[n - 2], bytes[n - 1]];
        return (text[..n - 3].trim_end(), Some(Mention::Code(code)));
    }
    (text, None)
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
    fn currency_symbols_and_codes_around_the_number() {
        let seps = |cell: &str, seps| read(cell, seps, 2).unwrap();
        assert_eq!(minor("$1,234.56", DOT), 123456);
        assert_eq!(minor("€ 12,50", COMMA), 1250);
        assert_eq!(minor("-£3.00", DOT), -300);
        assert_eq!(minor("£-3.00", DOT), -300);
        assert_eq!(minor("(£12.34)", DOT), -1234);
        assert_eq!(minor("(12.34)", DOT), -1234);
        assert_eq!(minor("12,50 kr", COMMA), 1250);
        assert_eq!(minor("US$ 5", DOT), 500);
        let eur = seps("1.234,56 EUR", COMMA);
        assert_eq!((eur.minor, eur.code), (123456, Some(*b"EUR")));
        let usd = seps("-USD 7.25", DOT);
        assert_eq!((usd.minor, usd.code), (-725, Some(*b"USD")));
        assert_eq!(seps("$1.00", DOT).code, None);
        let cr = seps("12.50 GBP CR", DOT);
        assert_eq!(
            (cr.minor, cr.marker, cr.code),
            (1250, Some(Marker::Credit), Some(*b"GBP"))
        );
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        for (cell, seps, reason) in [
            ("", DOT, "not a decimal"),
            ("abc", DOT, "not an amount"),
            ("$12.50 EUR", DOT, "names a currency twice"),
            ("12.50 EURO", DOT, "not an amount"),
            ("12.50 eur", DOT, "not an amount"),
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
