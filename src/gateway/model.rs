//! The gateway's shared values: which provider a call went to, the tokens it used in one
//! provider-neutral shape, and costs in integer nano-dollars.
//!
//! Invariant: [`Usage`]'s input categories are disjoint (a token is counted in exactly one of
//! `input`, `cache_read`, `cache_write_5m`, `cache_write_1h`), `reasoning` is a part of `output`,
//! never added to it; providers' own conventions are converted once, in the constructors here.

use serde::{Deserialize, Serialize};

use crate::domain::names::text_enum;

text_enum!(
    /// The provider wire format a call speaks.
    Provider { OpenAi = "openai", Anthropic = "anthropic" }
);

/// A cost in nano-dollars (10⁻⁹ USD): exact, integer, rounded once when it was computed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Nanos(pub i64);

impl Nanos {
    pub const PER_DOLLAR: i64 = 1_000_000_000;

    /// Decimal dollars, e.g. `"0.000123450"` (nine places, no float).
    pub fn to_dollars(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let v = self.0.unsigned_abs();
        let per = Self::PER_DOLLAR.unsigned_abs();
        format!("{sign}{}.{:09}", v / per, v % per)
    }
}

/// The tokens of one call. Every count is a number of tokens the provider reported; a count the
/// provider did not report is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Usage {
    /// Input tokens neither read from nor written to a prompt cache.
    pub input: u64,
    /// Input tokens read from a prompt cache.
    pub cache_read: u64,
    /// Input tokens written to a cache that lives 5 minutes (Anthropic's default).
    pub cache_write_5m: u64,
    /// Input tokens written to a cache that lives 1 hour.
    pub cache_write_1h: u64,
    /// All output tokens, reasoning included.
    pub output: u64,
    /// The part of `output` spent on reasoning.
    pub reasoning: u64,
}

impl Usage {
    /// Every input token, cached or not: what long-context tiers are chosen by.
    pub fn prompt_total(&self) -> u64 {
        self.input
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_write_5m)
            .saturating_add(self.cache_write_1h)
    }

    /// OpenAI's convention: `prompt_tokens` includes `cached_tokens` (and `cache_write_tokens`
    /// where reported); `completion_tokens` includes `reasoning_tokens`. Counts that contradict
    /// each other (more cached than prompt tokens) are clamped, never made negative.
    pub fn from_openai(
        prompt: u64,
        cached: u64,
        cache_write: u64,
        completion: u64,
        reasoning: u64,
    ) -> Self {
        let cache_read = cached.min(prompt);
        let cache_write_5m = cache_write.min(prompt - cache_read);
        Self {
            input: prompt - cache_read - cache_write_5m,
            cache_read,
            cache_write_5m,
            cache_write_1h: 0,
            output: completion,
            reasoning: reasoning.min(completion),
        }
    }

    /// Anthropic's convention: `input_tokens` excludes cache reads and writes; a write's 5-minute
    /// and 1-hour parts come from `cache_creation` when present, otherwise the whole
    /// `cache_creation_input_tokens` is a 5-minute write (the default TTL).
    pub fn from_anthropic(
        input: u64,
        cache_read: u64,
        cache_creation_total: u64,
        split: Option<(u64, u64)>,
        output: u64,
    ) -> Self {
        let (cache_write_5m, cache_write_1h) = match split {
            Some((m5, h1)) => (m5, h1),
            None => (cache_creation_total, 0),
        };
        Self {
            input,
            cache_read,
            cache_write_5m,
            cache_write_1h,
            output,
            reasoning: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_cached_tokens_are_taken_out_of_the_prompt_not_added() {
        let u = Usage::from_openai(2_006, 1_920, 0, 300, 128);
        assert_eq!(
            (u.input, u.cache_read, u.output, u.reasoning),
            (86, 1_920, 300, 128)
        );
        assert_eq!(u.prompt_total(), 2_006);
        // A contradictory report never underflows.
        let u = Usage::from_openai(10, 50, 0, 5, 9);
        assert_eq!((u.input, u.cache_read, u.reasoning), (0, 10, 5));
    }

    #[test]
    fn anthropic_cache_tokens_are_added_to_the_input() {
        let u = Usage::from_anthropic(21, 188_086, 1_000, Some((400, 600)), 393);
        assert_eq!(u.prompt_total(), 21 + 188_086 + 1_000);
        assert_eq!((u.cache_write_5m, u.cache_write_1h), (400, 600));
        let u = Usage::from_anthropic(21, 0, 1_000, None, 393);
        assert_eq!((u.cache_write_5m, u.cache_write_1h), (1_000, 0));
    }

    #[test]
    fn providers_are_named_the_same_in_json_and_storage() {
        for p in Provider::ALL {
            let json = serde_json::to_string(p).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
        }
    }

    #[test]
    fn nanos_print_as_exact_dollars() {
        assert_eq!(Nanos(1_234_567_891).to_dollars(), "1.234567891");
        assert_eq!(Nanos(5).to_dollars(), "0.000000005");
        assert_eq!(Nanos(-1_500_000_000).to_dollars(), "-1.500000000");
    }
}
