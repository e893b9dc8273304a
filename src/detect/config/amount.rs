//! Thresholds in major units, applied in each transaction's own currency, and the amount text of
//! explanations.
//!
//! Invariant: no float touches an amount. A threshold is an integer count of 1/10,000ths of a
//! major unit, read from and written as decimal text ("10000.00"); comparing it with a
//! transaction converts it to that currency's minor units with exact integer rounding.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// 1/10,000ths per major unit.
const SCALE: i64 = 10_000;
/// Decimal places a threshold may carry.
const PLACES: u32 = 4;

/// A non-negative decimal amount in major units ("10000.00"), held as 1/10,000ths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(i64);

impl Amount {
    /// `major` whole units.
    pub const fn major(major: i64) -> Self {
        Self(major * SCALE)
    }

    /// An amount from its count of 1/10,000ths.
    pub const fn from_ten_thousandths(value: i64) -> Self {
        Self(value)
    }

    pub const fn ten_thousandths(self) -> i64 {
        self.0
    }

    /// Reads decimal text in major units: digits, optionally a point and up to four decimals.
    pub fn parse(text: &str) -> Result<Self, String> {
        let refuse = || format!("{text:?} is not an amount such as \"10000.00\"");
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(fraction) {
            return Err(refuse());
        }
        if fraction.len() > PLACES as usize || (text.contains('.') && fraction.is_empty()) {
            return Err(refuse());
        }
        let whole: i64 = whole.parse().map_err(|_| refuse())?;
        let padded = format!("{fraction:0<width$}", width = PLACES as usize);
        let fraction: i64 = padded.parse().map_err(|_| refuse())?;
        whole
            .checked_mul(SCALE)
            .and_then(|w| w.checked_add(fraction))
            .map(Self)
            .ok_or_else(refuse)
    }

    /// The smallest count of minor units (of a currency with `exponent`) that is at least this
    /// amount: `minor >= a.minor_ceil(e)` exactly when the transaction is at or above `a`.
    pub fn minor_ceil(self, exponent: u32) -> i64 {
        let scaled = i128::from(self.0) * pow10(exponent);
        saturate(scaled.div_euclid(i128::from(SCALE)) + i128::from(scaled % i128::from(SCALE) != 0))
    }

    /// The largest count of minor units that is at most this amount: `minor > a.minor_floor(e)`
    /// exactly when the transaction exceeds `a`.
    pub fn minor_floor(self, exponent: u32) -> i64 {
        saturate((i128::from(self.0) * pow10(exponent)).div_euclid(i128::from(SCALE)))
    }

    /// This amount scaled by `percent` / 100, rounded half up to 1/10,000ths.
    pub fn percent(self, percent: i64) -> Self {
        let scaled = (i128::from(self.0) * i128::from(percent) + 50).div_euclid(100);
        Self(saturate(scaled))
    }

    /// This amount as a share of another, for strengths (never stored).
    pub fn ratio_of_minor(self, minor: i64, exponent: u32) -> f64 {
        let amount = minor as f64 * SCALE as f64 / pow10(exponent) as f64;
        amount / self.0 as f64
    }

    /// For explanations: grouped thousands, at the currency's decimals when they hold it exactly
    /// ("10,000.00" in USD, "10,000" in JPY).
    pub fn grouped(self, exponent: u32) -> String {
        let minor = self.minor_floor(exponent);
        if self.minor_ceil(exponent) == minor {
            return grouped_minor(minor, exponent);
        }
        grouped_text(&self.to_string())
    }
}

impl fmt::Display for Amount {
    /// At least two decimals, more only when the amount has them ("10000.00", "0.125").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / SCALE;
        let fraction = format!("{:04}", self.0 % SCALE);
        let fraction = fraction.trim_end_matches('0');
        write!(f, "{whole}.{fraction:0<2}")
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// `minor` units of a currency with `exponent`, as an explanation shows them ("1,450.00").
pub fn grouped_minor(minor: i64, exponent: u32) -> String {
    let digits = minor.unsigned_abs().to_string();
    let sign = if minor < 0 { "-" } else { "" };
    let places = exponent as usize;
    if places == 0 {
        return format!("{sign}{}", group(&digits));
    }
    let padded = format!("{digits:0>width$}", width = places + 1);
    let (whole, fraction) = padded.split_at(padded.len() - places);
    format!("{sign}{}.{fraction}", group(whole))
}

fn grouped_text(text: &str) -> String {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    format!("{}.{fraction}", group(whole))
}

fn group(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn pow10(exponent: u32) -> i128 {
    10i128.saturating_pow(exponent)
}

fn saturate(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_text_is_read_exactly_and_refused_when_it_is_not_an_amount() {
        assert_eq!(Amount::parse("10000.00"), Ok(Amount::major(10_000)));
        assert_eq!(Amount::parse("0.0001").map(Amount::ten_thousandths), Ok(1));
        assert_eq!(Amount::parse("7"), Ok(Amount::major(7)));
        for bad in [
            "", ".5", "5.", "-1", "1e4", "1,000.00", "0.00001", "1.2.3", " 1",
        ] {
            assert!(Amount::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Amount::parse("99999999999999999999").is_err());
    }

    #[test]
    fn text_round_trips_with_two_decimals_at_least() {
        for text in ["10000.00", "0.50", "1.2345", "0.00"] {
            let amount = Amount::parse(text).unwrap();
            assert_eq!(amount.to_string(), text);
            let json = serde_json::to_string(&amount).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<Amount>(&json).unwrap(), amount);
        }
        assert!(serde_json::from_str::<Amount>("10000").is_err());
    }

    #[test]
    fn thresholds_apply_in_each_currency_exponent() {
        let limit = Amount::parse("10000.00").unwrap();
        assert_eq!(limit.minor_ceil(2), 1_000_000);
        assert_eq!(limit.minor_ceil(0), 10_000);
        assert_eq!(limit.minor_ceil(3), 10_000_000);
        let odd = Amount::parse("0.5").unwrap();
        assert_eq!((odd.minor_ceil(0), odd.minor_floor(0)), (1, 0));
        assert_eq!((odd.minor_ceil(2), odd.minor_floor(2)), (50, 50));
    }

    #[test]
    fn percentages_round_half_up_and_explanations_group_thousands() {
        assert_eq!(Amount::major(10_000).percent(120), Amount::major(12_000));
        assert_eq!(Amount::parse("0.0001").unwrap().percent(150).0, 2);
        assert_eq!(grouped_minor(145_000, 2), "1,450.00");
        assert_eq!(grouped_minor(1_234_567, 0), "1,234,567");
        assert_eq!(grouped_minor(1_000_001, 3), "1,000.001");
        assert_eq!(grouped_minor(5, 2), "0.05");
        assert_eq!(Amount::major(10_000).grouped(2), "10,000.00");
        assert_eq!(Amount::major(10_000).grouped(0), "10,000");
        assert_eq!(Amount::parse("1000.5").unwrap().grouped(0), "1,000.50");
    }
}
