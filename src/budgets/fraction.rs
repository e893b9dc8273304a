//! A fraction such as `0.8`, exactly: integer parts per ten thousand, written in JSON as a number
//! (or a string holding one) and read from its text.
//!
//! Invariant: never through a float; at most four decimals, above 0 and at most 10.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::ledger::import::ofx::amount::parse_minor;

/// The largest fraction accepted (10 = 1000 %).
pub const MAX_FRACTION: Fraction = Fraction(100_000);

/// A fraction such as `0.8`, exactly, in parts per ten thousand (`0.8` is 8000). Written in JSON
/// as a number (or a string holding one), read from its text, never through a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fraction(pub u32);

impl Fraction {
    /// Parts per ten thousand of one.
    pub const ONE: Fraction = Fraction(10_000);

    /// `0.8`, `.5`, `1`, `1.25`: at most four decimals, above 0 and at most [`MAX_FRACTION`].
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let text = text.trim();
        let parts = parse_minor(text, 4)
            .map_err(|_| format!("{text:?} is not a fraction such as 0.8 (at most 4 decimals)"))?;
        if parts <= 0 || parts > i64::from(MAX_FRACTION.0) {
            return Err(format!("{text:?} must be above 0 and at most 10"));
        }
        Ok(Fraction(parts as u32))
    }

    /// `amount` (in any unit) times this fraction, rounded down.
    pub fn of(self, amount: i128) -> i128 {
        amount * i128::from(self.0) / 10_000
    }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / 10_000;
        let rest = self.0 % 10_000;
        if rest == 0 {
            return write!(f, "{whole}");
        }
        let digits = format!("{rest:04}");
        write!(f, "{whole}.{}", digits.trim_end_matches('0'))
    }
}

impl Fraction {
    /// Four decimals always (`0.8000`), for ratios shown as text.
    pub fn to_string_fixed(self) -> String {
        format!("{}.{:04}", self.0 / 10_000, self.0 % 10_000)
    }
}

impl Serialize for Fraction {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let raw = RawValue::from_string(self.to_string()).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw: &RawValue = Deserialize::deserialize(d)?;
        let text = raw.get();
        let text = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(text);
        Fraction::parse(text).map_err(D::Error::custom)
    }
}
