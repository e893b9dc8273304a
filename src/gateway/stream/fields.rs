//! Reading the providers' usage objects (the same shapes in bodies and in stream events) into
//! the provider-neutral [`Usage`].
//!
//! Invariant: a count is taken only when it is a JSON integer from 0 to [`MAX_COUNT`]; anything
//! else (negative, fractional, a string, absurdly large) counts as not reported. A usage object
//! in which no main count could be read gives `None`, never a zero usage.

use serde_json::Value;

use crate::gateway::model::Usage;

/// The largest token count believed: a trillion tokens in one call is already absurd.
pub const MAX_COUNT: u64 = 1_000_000_000_000;

/// The longest model name or response id taken from an answer, in bytes.
pub const MAX_TEXT: usize = 256;

/// The count at `path` under `v`, if it is a believable token count.
pub fn count(v: &Value, path: &[&str]) -> Option<u64> {
    let mut cur = v;
    for key in path {
        cur = cur.get(key)?;
    }
    cur.as_u64().filter(|n| *n <= MAX_COUNT)
}

/// A short, non-empty string field of `v` (model names, ids).
pub fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= MAX_TEXT)
        .map(str::to_owned)
}

/// Chat completions and embeddings: `prompt_tokens` (with `prompt_tokens_details.cached_tokens`
/// and `cache_write_tokens` inside it), `completion_tokens` (with
/// `completion_tokens_details.reasoning_tokens` inside it).
pub fn openai_chat(usage: &Value) -> Option<Usage> {
    let prompt = count(usage, &["prompt_tokens"]);
    let completion = count(usage, &["completion_tokens"]);
    if prompt.is_none() && completion.is_none() {
        return None;
    }
    Some(Usage::from_openai(
        prompt.unwrap_or(0),
        count(usage, &["prompt_tokens_details", "cached_tokens"]).unwrap_or(0),
        count(usage, &["prompt_tokens_details", "cache_write_tokens"]).unwrap_or(0),
        completion.unwrap_or(0),
        count(usage, &["completion_tokens_details", "reasoning_tokens"]).unwrap_or(0),
    ))
}

/// The Responses API: `input_tokens` (with `input_tokens_details.cached_tokens` inside it),
/// `output_tokens` (with `output_tokens_details.reasoning_tokens` inside it).
pub fn openai_responses(usage: &Value) -> Option<Usage> {
    let input = count(usage, &["input_tokens"]);
    let output = count(usage, &["output_tokens"]);
    if input.is_none() && output.is_none() {
        return None;
    }
    Some(Usage::from_openai(
        input.unwrap_or(0),
        count(usage, &["input_tokens_details", "cached_tokens"]).unwrap_or(0),
        count(usage, &["input_tokens_details", "cache_write_tokens"]).unwrap_or(0),
        output.unwrap_or(0),
        count(usage, &["output_tokens_details", "reasoning_tokens"]).unwrap_or(0),
    ))
}

/// Anthropic's counts as reported so far. A stream reports them in `message_start` and again,
/// cumulatively, in `message_delta`: a later report overwrites, never adds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnthropicCounts {
    input: Option<u64>,
    cache_read: Option<u64>,
    cache_creation: Option<u64>,
    split_5m: Option<u64>,
    split_1h: Option<u64>,
    output: Option<u64>,
}

impl AnthropicCounts {
    /// Takes every count present in this usage object, keeping earlier ones it lacks.
    pub fn merge(&mut self, usage: &Value) {
        let take = |slot: &mut Option<u64>, path: &[&str]| {
            if let Some(n) = count(usage, path) {
                *slot = Some(n);
            }
        };
        take(&mut self.input, &["input_tokens"]);
        take(&mut self.cache_read, &["cache_read_input_tokens"]);
        take(&mut self.cache_creation, &["cache_creation_input_tokens"]);
        take(&mut self.output, &["output_tokens"]);
        let m5 = count(usage, &["cache_creation", "ephemeral_5m_input_tokens"]);
        let h1 = count(usage, &["cache_creation", "ephemeral_1h_input_tokens"]);
        if m5.is_some() || h1.is_some() {
            self.split_5m = Some(m5.unwrap_or(0));
            self.split_1h = Some(h1.unwrap_or(0));
        }
    }

    /// The usage, if any main count was reported. The 5-minute/1-hour split of cache writes is
    /// used only while it adds up to the cache-write total (a later total without a split, as
    /// `message_delta` sends, makes the whole total a 5-minute write, the default TTL).
    pub fn usage(&self) -> Option<Usage> {
        if self.input.is_none()
            && self.output.is_none()
            && self.cache_read.is_none()
            && self.cache_creation.is_none()
        {
            return None;
        }
        let split = self.split_5m.zip(self.split_1h);
        let split_sum = split.map(|(m5, h1)| m5.saturating_add(h1));
        let total = self.cache_creation.or(split_sum).unwrap_or(0);
        let split = split.filter(|_| split_sum == Some(total));
        Some(Usage::from_anthropic(
            self.input.unwrap_or(0),
            self.cache_read.unwrap_or(0),
            total,
            split,
            self.output.unwrap_or(0),
        ))
    }
}
