//! Exact price text: a decimal number of dollars per million tokens, read without floats into
//! an integer number of nano-dollars per million tokens (`"0.0375"` is 37,500,000).
//!
//! Invariant: a price is never negative and never has more than nine decimal places; anything
//! else is refused with an error naming the text, never rounded or truncated silently.

use crate::Error;

/// Nano-dollars per million tokens: `$3/Mtok` is 3,000,000,000.
pub type NanosPerMtok = u64;

const PLACES: usize = 9;

/// Parses `"3"`, `"0.0375"`, `"22.5"` into nano-dollars per million tokens.
pub fn parse_price(text: &str) -> Result<NanosPerMtok, Error> {
    let bad = |why: &str| Error::BadRequest(format!("price {text:?} is not valid: {why}"));
    let t = text.trim();
    if t.starts_with('-') {
        return Err(bad("a price cannot be negative"));
    }
    let (whole, frac) = match t.split_once('.') {
        Some((w, f)) => (w, f),
        None => (t, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && frac.is_empty() || !digits(whole) || !digits(frac) {
        return Err(bad("expected a decimal number of dollars such as 0.0375"));
    }
    if t.contains('.') && frac.is_empty() {
        return Err(bad("expected digits after the decimal point"));
    }
    if frac.len() > PLACES {
        return Err(bad("more than 9 decimal places (finer than a nano-dollar)"));
    }
    let too_big = || bad("too large");
    let w: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| too_big())?
    };
    let f: u64 = format!("{frac:0<PLACES$}").parse().map_err(|_| too_big())?;
    w.checked_mul(1_000_000_000)
        .and_then(|n| n.checked_add(f))
        .ok_or_else(too_big)
}

/// The decimal text of a price: 37,500,000 is `"0.0375"`; [`parse_price`] reads it back exactly.
pub fn format_price(price: NanosPerMtok) -> String {
    let (whole, frac) = (price / 1_000_000_000, price % 1_000_000_000);
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:09}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_format_as_the_text_they_parse_from() {
        for text in ["0.0375", "3", "22.5", "0.000000001", "0", "1234.56789"] {
            let n = parse_price(text).unwrap();
            assert_eq!(format_price(n), text);
        }
    }

    #[test]
    fn prices_parse_exactly() {
        assert_eq!(parse_price("0.0375").ok(), Some(37_500_000));
        assert_eq!(parse_price("3").ok(), Some(3_000_000_000));
        assert_eq!(parse_price("22.5").ok(), Some(22_500_000_000));
        assert_eq!(parse_price(".5").ok(), Some(500_000_000));
        assert_eq!(parse_price("0.000000001").ok(), Some(1));
        assert_eq!(parse_price("0").ok(), Some(0));
    }

    #[test]
    fn bad_prices_are_refused_with_a_reason() {
        for (text, why) in [
            ("-1", "negative"),
            ("0.0000000001", "9 decimal places"),
            ("1e3", "decimal number"),
            ("", "decimal number"),
            (".", "decimal number"),
            ("1.", "after the decimal point"),
            ("99999999999999999999", "too large"),
        ] {
            let msg = parse_price(text).map(|_| ()).unwrap_err().to_string();
            assert!(msg.contains(why), "{text}: {msg}");
        }
    }
}
