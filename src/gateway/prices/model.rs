//! The catalog's values: a price set (one price per kind of token), long-context tiers over it,
//! a model's dated history of them, and what pricing one call produced.
//!
//! Invariant: every price is an integer number of nano-dollars per million tokens; a history is
//! kept sorted by its effective date, and tiers by their threshold, so choosing is a scan.

use chrono::NaiveDate;
use serde::Serialize;

use super::decimal::NanosPerMtok;
use crate::gateway::{Nanos, Provider};

/// One price per kind of token, in nano-dollars per million tokens. A cache price the provider
/// does not list is charged at the input price; a reasoning price that is not listed means
/// reasoning is billed as the output it is a part of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PriceSet {
    pub input: NanosPerMtok,
    pub output: NanosPerMtok,
    pub cache_read: Option<NanosPerMtok>,
    pub cache_write_5m: Option<NanosPerMtok>,
    pub cache_write_1h: Option<NanosPerMtok>,
    pub reasoning: Option<NanosPerMtok>,
}

/// A higher price set used when a call's whole prompt is larger than `above` tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tier {
    pub above: u64,
    pub prices: PriceSet,
}

/// The prices in force from `from` (the start of the day, UTC) until the next entry's date;
/// `None` is "since the model existed".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dated {
    pub from: Option<NaiveDate>,
    pub base: PriceSet,
    /// Sorted by `above`, ascending.
    pub tiers: Vec<Tier>,
}

impl Dated {
    /// The price set for a prompt of `prompt_total` tokens: the highest tier whose threshold the
    /// prompt exceeds, otherwise the base set.
    pub fn choose(&self, prompt_total: u64) -> (&PriceSet, Option<u64>) {
        match self.tiers.iter().rev().find(|t| prompt_total > t.above) {
            Some(t) => (&t.prices, Some(t.above)),
            None => (&self.base, None),
        }
    }
}

/// One model's prices: the id it is known by, the exact ids and id prefixes (dated snapshots
/// such as `claude-sonnet-4-5-20250929`) that name it, and its dated history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPrices {
    pub provider: Provider,
    pub model: String,
    pub ids: Vec<String>,
    pub prefixes: Vec<String>,
    /// Sorted by `from`, `None` first.
    pub history: Vec<Dated>,
}

impl ModelPrices {
    /// The entry in force on `day`: the latest whose date is on or before it.
    pub fn at(&self, day: NaiveDate) -> Option<&Dated> {
        self.history
            .iter()
            .rev()
            .find(|d| d.from.is_none_or(|from| from <= day))
    }
}

/// A tenant's negotiated rate for one model, in force from `from` and layered over the shipped
/// catalog (a later override replaces an earlier one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub provider: Provider,
    pub model: String,
    pub from: NaiveDate,
    pub base: PriceSet,
    pub tiers: Vec<Tier>,
}

/// Where the prices of a call came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Shipped,
    Override,
}

/// The tokens of one kind and what they cost before the one rounding: `tokens x price`, in
/// nano-dollars x 10⁻⁶ (a millionth of a nano-dollar), exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Line {
    pub tokens: u64,
    pub price: NanosPerMtok,
    pub micro_nanos: u128,
}

impl Line {
    pub fn new(tokens: u64, price: NanosPerMtok) -> Self {
        let micro_nanos = u128::from(tokens) * u128::from(price);
        Self {
            tokens,
            price,
            micro_nanos,
        }
    }
}

/// The cost of one call per kind of token. `output` is the output not spent on reasoning when
/// reasoning has its own price, otherwise all output (and `reasoning` is zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Breakdown {
    pub input: Line,
    pub cache_read: Line,
    pub cache_write_5m: Line,
    pub cache_write_1h: Line,
    pub output: Line,
    pub reasoning: Line,
}

impl Breakdown {
    pub fn lines(&self) -> [Line; 6] {
        [
            self.input,
            self.cache_read,
            self.cache_write_5m,
            self.cache_write_1h,
            self.output,
            self.reasoning,
        ]
    }
}

/// A priced call: the cost rounded once, half up, to nano-dollars, how it was made, and which
/// prices were used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Priced {
    pub cost: Nanos,
    pub breakdown: Breakdown,
    /// The catalog's id of the model (a dated id is priced as the model it names).
    pub model: String,
    pub origin: Origin,
    /// The effective date of the price set used (`None`: the model's first prices).
    pub effective_from: Option<NaiveDate>,
    /// The long-context tier used, by its threshold (`None`: the base prices).
    pub tier_above: Option<u64>,
}
