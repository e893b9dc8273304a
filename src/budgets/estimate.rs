//! What a budget check needs to know about a call before it is sent: the most it can cost, and
//! the model a swap moves it to.
//!
//! The map: `worst_case` (every prompt byte a token at the dearest input-side price, every
//! allowed output token at the dearest output-side price), `next_model` (the model after the
//! requested one in a swap chain, on the same provider's wire format).
//!
//! Invariant: pure, no I/O, no floats; `worst_case` is never below what `Catalog::price` charges
//! for any usage the request can produce (prompt tokens at most its bytes, output at most its
//! limit), saturating at `i64::MAX` nano-dollars rather than wrapping; an unknown model is `None`.
//! [`prompt_token_bound`] gives the prompt size to pass: the body's bytes, plus a ceiling per
//! image or file the provider fetches by reference.

use chrono::{DateTime, Utc};

use crate::gateway::prices::Catalog;
use crate::gateway::{Nanos, Provider, Usage};

/// Most price sets looked through for one call (the base and its long-context tiers).
const MAX_TIERS: usize = 32;

/// An upper bound on the cost of a call made at `at` with a body of `prompt_bytes` bytes and an
/// output limit of `max_output_tokens` (or `ceiling_output_tokens` when the client set none;
/// embeddings pass `Some(0)`). A token is never less than one byte of the body, so the prompt
/// is counted as `prompt_bytes` tokens, each at the dearest of the input, cache-read and
/// cache-write prices; output is priced at the dearer of output and reasoning. Prices are those
/// of the tier a `prompt_bytes`-token prompt selects and of every smaller prompt's tier, so a
/// call that turns out shorter can never be priced higher. Rounded up, once.
pub fn worst_case(
    catalog: &Catalog,
    provider: Provider,
    model: &str,
    at: DateTime<Utc>,
    prompt_bytes: u64,
    max_output_tokens: Option<u64>,
    ceiling_output_tokens: u64,
) -> Option<Nanos> {
    let output_tokens = max_output_tokens.unwrap_or(ceiling_output_tokens);
    let (input_price, output_price) = dearest(catalog, provider, model, at, prompt_bytes)?;
    let micro_nanos = (u128::from(prompt_bytes) * u128::from(input_price))
        .saturating_add(u128::from(output_tokens) * u128::from(output_price));
    let nanos = micro_nanos.div_ceil(1_000_000);
    Some(Nanos(i64::try_from(nanos).unwrap_or(i64::MAX)))
}

/// The dearest input-side and output-side prices per million tokens over the price set a
/// prompt of `prompt_total` tokens selects and every lower tier down to the base set.
///
/// The catalog itself chooses (date, tenant override, tier): a probe usage is priced and the
/// prices its breakdown used are read back, every line carrying its price even at zero tokens.
fn dearest(
    catalog: &Catalog,
    provider: Provider,
    model: &str,
    at: DateTime<Utc>,
    prompt_total: u64,
) -> Option<(u64, u64)> {
    let mut prompt = prompt_total;
    let mut dearest = (0, 0);
    for _ in 0..MAX_TIERS {
        // Reasoning is part of output: with a price of its own, the probe's one output token
        // is priced at it, and output's price is still read from its (zero-token) line.
        let probe = Usage {
            input: prompt,
            output: 1,
            reasoning: 1,
            ..Usage::default()
        };
        let priced = catalog.price(provider, model, at, &probe)?;
        let b = priced.breakdown;
        let input = [b.input, b.cache_read, b.cache_write_5m, b.cache_write_1h]
            .iter()
            .map(|line| line.price)
            .max()
            .unwrap_or(0);
        let output = b.output.price.max(b.reasoning.price);
        dearest = (dearest.0.max(input), dearest.1.max(output));
        match priced.tier_above {
            // A prompt of exactly `above` tokens selects the next tier down.
            Some(above) if above < prompt => prompt = above,
            _ => break,
        }
    }
    Some(dearest)
}

/// The model a swap moves a call for `requested` to: the next entry of `chain` after the one
/// `requested` names, skipping entries that name the same model again and entries the catalog
/// knows only under another provider (a call in OpenAI's wire format cannot go to Claude).
/// `None` when `requested` is not in the chain or nothing usable follows it.
///
/// `requested` names an entry when it is that entry, or a dated snapshot of it
/// (`gpt-4-turbo-2024-04-09` of `gpt-4-turbo`) that the catalog resolves to the same model.
pub fn next_model(
    chain: &[String],
    requested: &str,
    provider: Provider,
    catalog: &Catalog,
) -> Option<String> {
    let at = chain
        .iter()
        .position(|entry| same_model(catalog, provider, requested, entry))?;
    // Either way round: a later entry that is the requested model's base or snapshot is no swap.
    let again = |entry: &str| {
        same_model(catalog, provider, requested, entry)
            || same_model(catalog, provider, entry, requested)
    };
    chain[at + 1..]
        .iter()
        .find(|entry| !again(entry) && speaks(catalog, provider, entry))
        .cloned()
}

/// `requested` is `entry`, or `entry` with a snapshot date after it, and the catalog prices both
/// as one model.
fn same_model(catalog: &Catalog, provider: Provider, requested: &str, entry: &str) -> bool {
    if requested == entry {
        return true;
    }
    let dated = requested.strip_prefix(entry).is_some_and(snapshot_date);
    dated
        && match (
            catalog.find(provider, requested),
            catalog.find(provider, entry),
        ) {
            (Some(a), Some(b)) => a.model == b.model,
            _ => false,
        }
}

/// A snapshot suffix: `-20250929`, `@20250929`, `-2024-04-09` or OpenAI's older `-0613`.
fn snapshot_date(suffix: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(date) = suffix.strip_prefix('@') {
        return digits(date, 8);
    }
    let Some(date) = suffix.strip_prefix('-') else {
        return false;
    };
    match date.split('-').collect::<Vec<_>>()[..] {
        [compact] => digits(compact, 8) || digits(compact, 4),
        [year, month, day] => digits(year, 4) && digits(month, 2) && digits(day, 2),
        _ => false,
    }
}

/// Whether a call on `provider`'s wire format can be sent to `entry`: not when the catalog knows
/// the model only under another provider. A model the catalog does not know is let through (a
/// tenant's own deployment name); the provider answers for it.
fn speaks(catalog: &Catalog, provider: Provider, entry: &str) -> bool {
    catalog.find(provider, entry).is_some()
        || !Provider::ALL
            .iter()
            .any(|other| *other != provider && catalog.find(*other, entry).is_some())
}

/// Prompt tokens reserved for each image or file the provider fetches by reference (a URL or a
/// file id) rather than reading from the body: above what one image costs on any priced model
/// (a high-detail image on gpt-4o-mini, the dearest in tokens, is about 48,000).
pub const REFERENCE_TOKENS: u64 = 50_000;

/// An upper bound on a request's prompt tokens: one per body byte, plus [`REFERENCE_TOKENS`]
/// for every `"url"` or `"file_id"` key in it (images and files the provider fetches itself,
/// whose tokens the body's size does not show).
pub fn prompt_token_bound(body: &[u8]) -> u64 {
    let references: u64 = [&b"\"url\""[..], &b"\"file_id\""[..]]
        .iter()
        .map(|key| keys_named(body, key))
        .sum();
    (body.len() as u64).saturating_add(references.saturating_mul(REFERENCE_TOKENS))
}

/// How many times `key` (a quoted JSON string) stands in `body` as an object key: followed,
/// after any whitespace, by `:`. Inside a string value the quotes would be escaped.
fn keys_named(body: &[u8], key: &[u8]) -> u64 {
    let mut n = 0;
    let mut at = 0;
    while let Some(found) = body[at..].windows(key.len()).position(|w| w == key) {
        let after = at + found + key.len();
        let rest = body[after..].iter().find(|b| !b.is_ascii_whitespace());
        if rest == Some(&b':') {
            n += 1;
        }
        at = after;
    }
    n
}

#[cfg(test)]
mod tests;
