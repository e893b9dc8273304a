//! Money is an integer count of minor units (cents; micro-dollars for LLM cost) in a currency.
//! There is no float anywhere on this path; arithmetic is checked and never mixes currencies.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An ISO 4217 code, or `USD_MICRO`-style internal units, as three to eight uppercase letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 8], u8);

impl Currency {
    pub fn parse(code: &str) -> Result<Self, String> {
        let valid = (3..=8).contains(&code.len())
            && code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
        if !valid {
            return Err(format!("{code:?} is not a currency code such as USD"));
        }
        let mut bytes = [0u8; 8];
        bytes[..code.len()].copy_from_slice(code.as_bytes());
        Ok(Self(bytes, code.len() as u8))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0[..usize::from(self.1)]).unwrap_or("")
    }

    /// An ISO 4217 currency with a minor unit (not funds or metals), with its exponent (JPY 0,
    /// USD 2, KWD 3).
    pub fn iso(code: &str) -> Result<(Self, u32), String> {
        let code = code.trim().to_ascii_uppercase();
        let iso = iso_currency::Currency::from_code(&code)
            .ok_or_else(|| format!("{code:?} is not an ISO 4217 currency code"))?;
        let exponent = iso
            .exponent()
            .ok_or_else(|| format!("{code:?} has no minor unit"))?;
        Ok((Self::parse(&code)?, u32::from(exponent)))
    }

    /// Nano-dollars (10⁻⁹ USD): the exact unit LLM spend is kept in, exponent 9.
    pub const USD_NANO: Currency = Currency(*b"USD_NANO", 8);

    /// The ISO 4217 exponent, when this is an ISO currency with a minor unit; 9 for
    /// [`Currency::USD_NANO`].
    pub fn exponent(&self) -> Option<u32> {
        if *self == Self::USD_NANO {
            return Some(9);
        }
        iso_currency::Currency::from_code(self.as_str())
            .and_then(|c| c.exponent())
            .map(u32::from)
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Amount in minor units; negative for refunds and credits.
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// The amount as decimal text in major units (`-12.34`, `1500` for JPY), without floats.
    pub fn decimal(&self) -> String {
        let exponent = self.currency.exponent().unwrap_or(0) as usize;
        let digits = self.minor.unsigned_abs().to_string();
        let sign = if self.minor < 0 { "-" } else { "" };
        if exponent == 0 {
            return format!("{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = exponent + 1);
        let (whole, fraction) = padded.split_at(padded.len() - exponent);
        format!("{sign}{whole}.{fraction}")
    }

    /// The sum, or `None` on overflow or when the currencies differ.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        (self.currency == other.currency)
            .then(|| self.minor.checked_add(other.minor))
            .flatten()
            .map(|minor| Money {
                minor,
                currency: self.currency,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_follow_each_currency_exponent() {
        let (usd, _) = Currency::iso("usd").unwrap();
        let (jpy, _) = Currency::iso("JPY").unwrap();
        let (kwd, e) = Currency::iso("KWD").unwrap();
        assert_eq!(e, 3);
        assert_eq!(Money::new(-1234, usd).decimal(), "-12.34");
        assert_eq!(Money::new(5, usd).decimal(), "0.05");
        assert_eq!(Money::new(1500, jpy).decimal(), "1500");
        assert_eq!(Money::new(1_000_001, kwd).decimal(), "1000.001");
        assert_eq!(Money::new(i64::MIN, usd).decimal(), "-92233720368547758.08");
        assert!(Currency::iso("XAU").is_err() && Currency::iso("ABC").is_err());
    }

    #[test]
    fn llm_spend_is_exact_nano_dollars() {
        assert_eq!(Currency::parse("USD_NANO").unwrap(), Currency::USD_NANO);
        assert_eq!(
            Money::new(1_234_567, Currency::USD_NANO).decimal(),
            "0.001234567"
        );
        // Not an ISO code: a request cannot name it where an ISO currency is expected.
        assert!(Currency::iso("USD_NANO").is_err());
    }

    #[test]
    fn sums_refuse_mixed_currencies_and_overflow() {
        let usd = Currency::parse("USD").unwrap();
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(
            Money::new(150, usd).checked_add(Money::new(-50, usd)),
            Some(Money::new(100, usd))
        );
        assert_eq!(Money::new(1, usd).checked_add(Money::new(1, eur)), None);
        assert_eq!(
            Money::new(i64::MAX, usd).checked_add(Money::new(1, usd)),
            None
        );
    }

    #[test]
    fn currency_codes_are_validated_and_serialize_as_text() {
        assert!(Currency::parse("usd").is_err());
        assert!(Currency::parse("US").is_err());
        let m = Money::new(1999, Currency::parse("USD").unwrap());
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"minor":1999,"currency":"USD"}"#
        );
        assert!(serde_json::from_str::<Money>(r#"{"minor":1.5,"currency":"USD"}"#).is_err());
    }
}
