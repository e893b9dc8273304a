//! The catalog: finds a model by its id (exact ids first, then a known id with a snapshot date
//! after it, then the longest matching prefix), chooses the price set in force on the call's day and for its prompt size,
//! tenant overrides first, and computes the cost.
//!
//! Invariant: cost = Σ(tokens x price per million) / 10⁶, summed exactly in integers and rounded
//! once, half up; a model neither the catalog nor an override knows is `None`, never zero.

use chrono::{DateTime, Utc};

use super::model::{Breakdown, Dated, Line, ModelPrices, Origin, Override, PriceSet, Priced};
use crate::gateway::{Nanos, Provider, Usage};

/// The shipped prices with a tenant's overrides layered over them.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    models: Vec<ModelPrices>,
    overrides: Vec<Override>,
}

impl Catalog {
    pub fn new(models: Vec<ModelPrices>) -> Self {
        Self {
            models,
            overrides: Vec::new(),
        }
    }

    /// This catalog with a tenant's negotiated rates over it.
    pub fn with_overrides(&self, overrides: Vec<Override>) -> Self {
        let mut overrides = overrides;
        overrides.sort_by_key(|o| o.from);
        Self {
            models: self.models.clone(),
            overrides,
        }
    }

    pub fn models(&self) -> &[ModelPrices] {
        &self.models
    }

    /// The shipped model a provider's model id names.
    pub fn find(&self, provider: Provider, id: &str) -> Option<&ModelPrices> {
        let of = || self.models.iter().filter(move |m| m.provider == provider);
        let exact = |id: &str| of().find(|m| m.ids.iter().any(|i| i == id));
        if let Some(m) = exact(id).or_else(|| undated(id).and_then(exact)) {
            return Some(m);
        }
        of().filter_map(|m| {
            let best = m.prefixes.iter().filter(|p| id.starts_with(p.as_str()));
            best.map(String::len).max().map(|len| (len, m))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, m)| m)
    }

    /// Prices one call made at `at`, or `None` when its model has no price on that day.
    pub fn price(
        &self,
        provider: Provider,
        model: &str,
        at: DateTime<Utc>,
        usage: &Usage,
    ) -> Option<Priced> {
        let day = at.date_naive();
        let shipped = self.find(provider, model);
        let canonical = shipped.map_or(model, |m| m.model.as_str());
        let negotiated = self.overrides.iter().rev().find(|o| {
            o.provider == provider && o.from <= day && (o.model == model || o.model == canonical)
        });
        let (dated, origin) = match negotiated {
            Some(o) => (
                Dated {
                    from: Some(o.from),
                    base: o.base,
                    tiers: o.tiers.clone(),
                },
                Origin::Override,
            ),
            None => (shipped?.at(day)?.clone(), Origin::Shipped),
        };
        let (prices, tier_above) = dated.choose(usage.prompt_total());
        let breakdown = breakdown(prices, usage);
        Some(Priced {
            cost: round_once(&breakdown),
            breakdown,
            model: canonical.to_owned(),
            origin,
            effective_from: dated.from,
            tier_above,
        })
    }
}

/// Each kind of token at its price; reasoning at its own price only where it has one.
fn breakdown(p: &PriceSet, u: &Usage) -> Breakdown {
    let (output, reasoning) = match p.reasoning {
        Some(r) => (
            Line::new(u.output.saturating_sub(u.reasoning), p.output),
            Line::new(u.reasoning.min(u.output), r),
        ),
        None => (Line::new(u.output, p.output), Line::default()),
    };
    Breakdown {
        input: Line::new(u.input, p.input),
        cache_read: Line::new(u.cache_read, p.cache_read.unwrap_or(p.input)),
        cache_write_5m: Line::new(u.cache_write_5m, p.cache_write_5m.unwrap_or(p.input)),
        cache_write_1h: Line::new(u.cache_write_1h, p.cache_write_1h.unwrap_or(p.input)),
        output,
        reasoning,
    }
}

/// Σ lines / 10⁶, half up, once. A sum beyond `i64` nano-dollars ($9.2 billion) saturates.
fn round_once(b: &Breakdown) -> Nanos {
    // Hostile token counts (u64::MAX of each kind) must not overflow the sum: it saturates too.
    let sum = b
        .lines()
        .iter()
        .fold(0u128, |a, l| a.saturating_add(l.micro_nanos));
    let rounded = sum.saturating_add(500_000) / 1_000_000;
    Nanos(i64::try_from(rounded).unwrap_or(i64::MAX))
}

/// A snapshot id's model id: `claude-sonnet-5-20260101`, `claude-opus-5@20260101` and
/// `gpt-6-sol-2026-01-01` without their date.
fn undated(id: &str) -> Option<&str> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let (head, tail) = id.rsplit_once(['-', '@'])?;
    if digits(tail, 8) {
        return Some(head);
    }
    let (rest, day) = head.rsplit_once('-').map(|(r, d)| (r, (d, tail)))?;
    let (base, year) = rest.rsplit_once('-')?;
    let dashed = digits(year, 4) && digits(day.0, 2) && digits(day.1, 2);
    let dash = |at: usize| id.as_bytes().get(at) == Some(&b'-');
    (dashed && dash(base.len()) && dash(id.len() - 3)).then_some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_token_counts_saturate_instead_of_overflowing() {
        let line = Line::new(u64::MAX, u64::MAX);
        let b = Breakdown {
            input: line,
            cache_read: line,
            cache_write_5m: line,
            cache_write_1h: line,
            output: line,
            reasoning: line,
        };
        assert_eq!(round_once(&b), Nanos(i64::MAX));
    }
}
