//! Prices as people write them: decimal text in dollars per million tokens (`"0.0375"`), per kind
//! of token, with optional long-context tiers. The override API takes and shows them, and the
//! stored override is this same text in JSON.
//!
//! Invariant: text becomes integer nano-dollars only through `parse_price`, never a float; a
//! price set with any bad price is refused whole, naming the field.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldError, Result};
use crate::gateway::prices::{format_price, parse_price, Override, PriceSet, Tier};
use crate::gateway::Provider;

/// Tiers per price set at most (the shipped catalog has one).
pub const MAX_TIERS: usize = 8;

/// A tier threshold above this many prompt tokens could never apply: refused as a typo.
pub const MAX_TIER_ABOVE: u64 = 1_000_000_000_000;

/// One price per kind of token, decimal text in USD per million tokens. An absent cache price
/// is charged at the input price; an absent reasoning price bills reasoning as output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = LlmPriceSet)]
#[serde(deny_unknown_fields)]
pub struct PriceText {
    #[schema(pattern = r"^\s*([0-9]{1,10}(\.[0-9]{1,9})?|\.[0-9]{1,9})\s*$")]
    pub input: String,
    #[schema(pattern = r"^\s*([0-9]{1,10}(\.[0-9]{1,9})?|\.[0-9]{1,9})\s*$")]
    pub output: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^\s*([0-9]{1,10}(\.[0-9]{1,9})?|\.[0-9]{1,9})\s*$")]
    pub cache_read: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^\s*([0-9]{1,10}(\.[0-9]{1,9})?|\.[0-9]{1,9})\s*$")]
    pub cache_write_5m: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^\s*([0-9]{1,10}(\.[0-9]{1,9})?|\.[0-9]{1,9})\s*$")]
    pub cache_write_1h: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^\s*([0-9]{1,10}(\.[0-9]{1,9})?|\.[0-9]{1,9})\s*$")]
    pub reasoning: Option<String>,
}

/// Higher prices for a call whose whole prompt exceeds `above` tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = LlmPriceTier)]
#[serde(deny_unknown_fields)]
pub struct TierText {
    /// Prompt tokens (input and cache together) above which the tier applies, at most 1e12.
    #[schema(maximum = 1_000_000_000_000_u64)]
    pub above: u64,
    pub prices: PriceText,
}

/// An override's prices as stored (JSON text in `llm_price_overrides.prices_json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredPrices {
    pub prices: PriceText,
    #[serde(default)]
    pub tiers: Vec<TierText>,
}

impl PriceText {
    /// The exact prices, or a field error per bad price (`field` prefixes the names).
    pub fn parse(&self, field: &str) -> std::result::Result<PriceSet, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut one = |name: &str, text: &str| match parse_price(text) {
            Ok(n) => Some(n),
            Err(e) => {
                // The reason only: the submitted text is not echoed.
                let text = e.to_string();
                let why = text
                    .rsplit_once("is not valid: ")
                    .map_or("is not a price", |(_, w)| w);
                errors.push(FieldError::new(format!("{field}{name}"), why.to_owned()));
                None
            }
        };
        let input = one("input", &self.input);
        let output = one("output", &self.output);
        let mut opt =
            |name: &str, text: &Option<String>| text.as_deref().and_then(|t| one(name, t));
        let cache_read = opt("cache_read", &self.cache_read);
        let cache_write_5m = opt("cache_write_5m", &self.cache_write_5m);
        let cache_write_1h = opt("cache_write_1h", &self.cache_write_1h);
        let reasoning = opt("reasoning", &self.reasoning);
        match (input, output) {
            (Some(input), Some(output)) if errors.is_empty() => Ok(PriceSet {
                input,
                output,
                cache_read,
                cache_write_5m,
                cache_write_1h,
                reasoning,
            }),
            _ => Err(errors),
        }
    }

    pub fn of(p: &PriceSet) -> Self {
        let opt = |n: Option<u64>| n.map(format_price);
        PriceText {
            input: format_price(p.input),
            output: format_price(p.output),
            cache_read: opt(p.cache_read),
            cache_write_5m: opt(p.cache_write_5m),
            cache_write_1h: opt(p.cache_write_1h),
            reasoning: opt(p.reasoning),
        }
    }
}

impl TierText {
    pub fn of(t: &Tier) -> Self {
        TierText {
            above: t.above,
            prices: PriceText::of(&t.prices),
        }
    }
}

impl StoredPrices {
    /// The base set and tiers (sorted by threshold), or every field at fault.
    pub fn parse(&self) -> std::result::Result<(PriceSet, Vec<Tier>), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.tiers.len() > MAX_TIERS {
            errors.push(FieldError::new(
                "tiers",
                format!("at most {MAX_TIERS} tiers"),
            ));
        }
        let base = self.prices.parse("").map_err(|e| errors.extend(e)).ok();
        let mut tiers = Vec::new();
        for (i, t) in self.tiers.iter().enumerate() {
            if t.above > MAX_TIER_ABOVE {
                errors.push(FieldError::new(
                    format!("tiers[{i}].above"),
                    format!("at most {MAX_TIER_ABOVE} tokens"),
                ));
            }
            match t.prices.parse(&format!("tiers[{i}].")) {
                Ok(prices) => tiers.push(Tier {
                    above: t.above,
                    prices,
                }),
                Err(e) => errors.extend(e),
            }
        }
        tiers.sort_by_key(|t| t.above);
        if tiers.windows(2).any(|w| w[0].above == w[1].above) {
            errors.push(FieldError::new(
                "tiers",
                "two tiers with the same threshold",
            ));
        }
        match base {
            Some(base) if errors.is_empty() => Ok((base, tiers)),
            _ => Err(errors),
        }
    }

    /// The override a stored row holds; a row that no longer parses is corrupt.
    pub fn to_override(
        &self,
        provider: Provider,
        model: &str,
        from: NaiveDate,
    ) -> Result<Override> {
        let (base, tiers) = self.parse().map_err(|e| {
            Error::Internal(anyhow::anyhow!(
                "corrupt stored LLM price override for {model}: {} bad fields",
                e.len()
            ))
        })?;
        Ok(Override {
            provider,
            model: model.to_owned(),
            from,
            base,
            tiers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(input: &str, output: &str) -> PriceText {
        PriceText {
            input: input.into(),
            output: output.into(),
            cache_read: None,
            cache_write_5m: None,
            cache_write_1h: None,
            reasoning: None,
        }
    }

    #[test]
    fn every_bad_price_is_named() {
        let stored = StoredPrices {
            prices: PriceText {
                cache_read: Some("1e-3".into()),
                ..text("-1", "2")
            },
            tiers: vec![TierText {
                above: 1000,
                prices: text("3", "0.0000000001"),
            }],
        };
        let fields: Vec<String> = stored
            .parse()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["input", "cache_read", "tiers[0].output"]);
    }

    #[test]
    fn prices_round_trip_through_their_text() {
        let stored = StoredPrices {
            prices: PriceText {
                cache_read: Some("0.0375".into()),
                ..text("0.15", "0.6")
            },
            tiers: Vec::new(),
        };
        let (base, _) = stored.parse().unwrap();
        assert_eq!(base.input, 150_000_000);
        assert_eq!(base.cache_read, Some(37_500_000));
        assert_eq!(PriceText::of(&base), stored.prices);
    }
}
