//! OFX amounts: signed decimal text (`-316.67`, `+5`, `12,34`) into integer minor units of the
//! currency's ISO 4217 exponent, with the sign flipped so that positive means money out.
//!
//! Invariant: no float anywhere; an amount with more decimals than its currency has (other than
//! trailing zeros), or one that does not fit an i64, is refused rather than rounded.

use crate::domain::Currency;

/// The currency named by an ISO 4217 code, with its exponent (JPY 0, USD 2, KWD 3).
pub fn currency(code: &str) -> Result<(Currency, u32), String> {
    let code = code.trim().to_ascii_uppercase();
    let iso = iso_currency::Currency::from_code(&code)
        .ok_or_else(|| format!("{code:?} is not an ISO 4217 currency code"))?;
    // Funds and metals (XAU, XDR...) have no exponent: they are not bank-account currencies.
    let exponent = iso
        .exponent()
        .ok_or_else(|| format!("{code:?} has no minor unit"))?;
    let parsed = Currency::parse(&code)?;
    Ok((parsed, u32::from(exponent)))
}

/// `TRNAMT` as written by the bank (negative = money out) into minor units with positive = money
/// out, the convention the ledger shares with Plaid.
pub fn money_out_minor(text: &str, exponent: u32) -> Result<i64, String> {
    parse_minor(text, exponent)?
        .checked_neg()
        .ok_or_else(|| "is too large".to_owned())
}

/// Decimal text into minor units, keeping the written sign.
pub fn parse_minor(text: &str, exponent: u32) -> Result<i64, String> {
    let text = text.trim();
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (whole, fraction) = match unsigned.find(['.', ',']) {
        Some(at) => (&unsigned[..at], &unsigned[at + 1..]),
        None => (unsigned, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return Err(format!("{text:?} is not a decimal amount"));
    }
    let places = exponent as usize;
    let (kept, dropped) = fraction.split_at(fraction.len().min(places));
    if dropped.bytes().any(|b| b != b'0') {
        return Err(format!("{text:?} has more than {places} decimal places"));
    }
    let too_large = || format!("{text:?} is too large");
    let mut minor: i64 = 0;
    let padding = std::iter::repeat_n(b'0', places - kept.len());
    for digit in whole.bytes().chain(kept.bytes()).chain(padding) {
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(digit - b'0')))
            .ok_or_else(too_large)?;
    }
    Ok(if negative { -minor } else { minor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_become_minor_units_without_floats() {
        assert_eq!(parse_minor("-316.67", 2), Ok(-31667));
        assert_eq!(parse_minor("0.01", 2), Ok(1));
        assert_eq!(parse_minor("+5", 2), Ok(500));
        assert_eq!(parse_minor("12,3", 2), Ok(1230));
        assert_eq!(parse_minor(".5", 2), Ok(50));
        assert_eq!(parse_minor("7.", 2), Ok(700));
        assert_eq!(parse_minor("120.000", 2), Ok(12000));
        // 0.1 + 0.2 style values stay exact.
        assert_eq!(
            parse_minor("9007199254740993.01", 2),
            Ok(900719925474099301)
        );
    }

    #[test]
    fn the_sign_flips_so_that_positive_means_money_out() {
        assert_eq!(money_out_minor("-6.60", 2), Ok(660));
        assert_eq!(money_out_minor("12.34", 2), Ok(-1234));
        assert_eq!(money_out_minor("0", 2), Ok(0));
    }

    #[test]
    fn exponents_follow_iso_4217() {
        let (jpy, e) = currency("JPY").unwrap();
        assert_eq!((jpy.as_str(), e), ("JPY", 0));
        assert_eq!(currency("usd").unwrap().1, 2);
        assert_eq!(currency("KWD").unwrap().1, 3);
        assert_eq!(currency("BHD").unwrap().1, 3);
        assert_eq!(parse_minor("1500", 0), Ok(1500));
        assert_eq!(parse_minor("1500.00", 0), Ok(1500));
        assert_eq!(parse_minor("1.234", 3), Ok(1234));
        assert!(currency("XAU").unwrap_err().contains("no minor unit"));
        assert!(currency("ZZZ").unwrap_err().contains("not an ISO 4217"));
        assert!(currency("").is_err());
    }

    #[test]
    fn garbled_imprecise_or_huge_amounts_are_refused() {
        for (text, exponent, reason) in [
            ("$120", 2, "not a decimal"),
            ("", 2, "not a decimal"),
            ("-", 2, "not a decimal"),
            (".", 2, "not a decimal"),
            ("1.2.3", 2, "not a decimal"),
            ("1e5", 2, "not a decimal"),
            ("1 000", 2, "not a decimal"),
            ("1.005", 2, "more than 2 decimal places"),
            ("1.5", 0, "more than 0 decimal places"),
            ("99999999999999999999", 2, "too large"),
        ] {
            let err = parse_minor(text, exponent).unwrap_err();
            assert!(err.contains(reason), "{text:?}: {err}");
        }
        assert!(money_out_minor("-92233720368547758.08", 2).is_err());
    }
}
