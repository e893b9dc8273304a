//! `model_costs` as price overrides: dollars per thousand tokens become dollars per million by
//! moving the decimal point in the text, and the provider is told from the model's name.
//!
//! Invariant: a price goes from its YAML text to [`PriceText`] by moving digits only (no float,
//! no rounding), and is kept only if the catalog's `parse_price` and [`PriceText::parse`]
//! accept it.

use super::error::Problems;
use super::fields::{self, join, Fields};
use super::tree::Entry;
use crate::budgets::model::MAX_MODEL_CHARS;
use crate::gateway::prices::parse_price;
use crate::gateway::pricing::model::PriceText;
use crate::gateway::Provider;

const COST_KEYS: [&str; 4] = ["input", "output", "cached_input", "cache_read"];

/// One model's prices as an override of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceRule {
    /// The line of the model's key.
    pub line: usize,
    pub provider: Provider,
    pub model: String,
    /// Dollars per million tokens.
    pub prices: PriceText,
}

/// The provider whose model this is, from the prefixes each uses.
pub fn provider_of(model: &str) -> Option<Provider> {
    const OPENAI: [&str; 8] = [
        "gpt-",
        "o1",
        "o3",
        "o4",
        "chatgpt-",
        "text-embedding-",
        "davinci",
        "babbage",
    ];
    let model = model.to_ascii_lowercase();
    if OPENAI.iter().any(|p| model.starts_with(p)) {
        Some(Provider::OpenAi)
    } else if model.starts_with("claude-") {
        Some(Provider::Anthropic)
    } else {
        None
    }
}

/// A price per thousand tokens as the same price per million: `"0.00025"` is `"0.25"`, `"3"` is
/// `"3000"`. Plain decimal text only (no sign, exponent or separators).
pub fn per_million(per_thousand: &str) -> Result<String, String> {
    let text = per_thousand.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty())
        || !digits(whole)
        || !digits(frac)
        || text.ends_with('.')
    {
        return Err(format!(
            "{text:?} is not a price such as 0.01 (dollars per 1K tokens)"
        ));
    }
    let moved = frac.len().min(3);
    let mut new_whole = format!("{whole}{}{}", &frac[..moved], "0".repeat(3 - moved));
    let new_frac = frac[moved..].trim_end_matches('0');
    let leading = new_whole.len() - new_whole.trim_start_matches('0').len();
    new_whole.drain(..leading.min(new_whole.len() - 1));
    Ok(if new_frac.is_empty() {
        new_whole
    } else {
        format!("{new_whole}.{new_frac}")
    })
}

/// Every model of `model_costs` with a provider and valid prices.
pub(super) fn model_costs(entry: &Entry, problems: &mut Problems) -> Vec<PriceRule> {
    let Some(models) = fields::entries(&entry.value, "model_costs", "model_costs", problems) else {
        return Vec::new();
    };
    models
        .into_iter()
        .filter_map(|m| one(m, problems))
        .collect()
}

fn one(entry: &Entry, problems: &mut Problems) -> Option<PriceRule> {
    let model = entry.key.trim();
    let path = format!("model_costs[{model:?}]");
    let fields = fields::map(&entry.value, &path, &path, &COST_KEYS, problems);
    let mut ok = true;
    if model.is_empty() || model.len() > MAX_MODEL_CHARS || model.chars().any(char::is_control) {
        problems.add(
            entry.line,
            &path,
            format!("a model name is 1 to {MAX_MODEL_CHARS} bytes, no control characters"),
        );
        ok = false;
    }
    let provider = provider_of(model);
    if provider.is_none() && ok {
        problems.add(
            entry.line,
            &path,
            "the provider cannot be told from the model name (known: gpt-, o1, o3, o4, \
             chatgpt-, text-embedding-, davinci, babbage for OpenAI; claude- for Anthropic)",
        );
    }
    let fields = fields?;
    let mut get = |key: &str| price(&fields, &path, key, problems);
    let (input, output) = (get("input"), get("output"));
    let (cached, cache_read) = (get("cached_input"), get("cache_read"));
    for key in ["input", "output"] {
        if fields.get(key).is_none() {
            problems.add(entry.line, &join(&path, key), "missing");
        }
    }
    if let (Some(_), Some((_, line))) = (&cached, &cache_read) {
        let at = join(&path, "cache_read");
        problems.add(*line, &at, "give cached_input or cache_read, not both");
        ok = false;
    }
    let prices = PriceText {
        input: input?.0,
        output: output?.0,
        cache_read: cached.or(cache_read).map(|c| c.0),
        cache_write_5m: None,
        cache_write_1h: None,
        reasoning: None,
    };
    // Each price was parsed on its own; the set is parsed whole as the override API will.
    if prices.parse("").is_err() {
        problems.add(entry.line, &path, "the prices are not valid");
        ok = false;
    }
    let provider = provider?;
    ok.then(|| PriceRule {
        line: entry.line,
        provider,
        model: model.to_owned(),
        prices,
    })
}

/// The price at `key` (if written) per million tokens, with its line, once the catalog accepts it.
fn price(
    fields: &Fields,
    path: &str,
    key: &str,
    problems: &mut Problems,
) -> Option<(String, usize)> {
    let e = fields.get(key)?;
    let at = join(path, key);
    let line = e.value.line;
    let text = fields::text(&e.value, &at, "a price such as 0.01", problems)?;
    let checked = per_million(text).and_then(|m| match parse_price(&m) {
        Ok(_) => Ok(m),
        Err(e) => {
            let e = e.to_string();
            let why = e
                .rsplit_once("is not valid: ")
                .map_or("not a price", |(_, w)| w);
            Err(format!(
                "{text:?} per 1K tokens is {m} per million tokens: {why}"
            ))
        }
    });
    match checked {
        Ok(m) => Some((m, line)),
        Err(why) => {
            problems.add(line, &at, why);
            None
        }
    }
}
