//! The fake's token counts, simple enough that a test computes the expected cost by hand:
//! - a text's tokens are its whitespace-separated words ([`words`]);
//! - input tokens: the words of every text in the request (OpenAI chat `messages[].content`,
//!   Responses `instructions` and `input`, Anthropic `system` and `messages[].content`, embedding
//!   `input`; tool definitions are not counted);
//! - output tokens: the words of the answer actually sent ([`ANSWER`](super::ANSWER), cut to the
//!   request's token limit), plus [`REASONING_TOKENS`](super::REASONING_TOKENS) for a reasoning
//!   model, or [`TOOL_CALL_TOKENS`](super::TOOL_CALL_TOKENS) for a tool call;
//! - caching, remembered per fake: OpenAI caches the leading system/developer messages (chat) or
//!   the `instructions` (Responses): the second request with the same ones reports their words
//!   as `cached_tokens` (included in the input tokens, as OpenAI does). Anthropic caches the
//!   prefix up to each block carrying `cache_control`: the first time its new words are cache
//!   writes (`ephemeral_1h_input_tokens` when `ttl` is `"1h"`, else 5m), later cache reads, and
//!   `input_tokens` counts only the rest (as Anthropic does). No minimum cacheable length.
//!
//! Invariant: the counts depend only on the request and on which prefixes this fake saw before.

use serde_json::Value;

use super::{ANSWER, REASONING_TOKENS};

pub fn words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// The words of a message content: a string, or an array of parts whose `text` counts.
pub fn content_words(content: &Value) -> u64 {
    match content {
        Value::String(text) => words(text),
        Value::Array(parts) => parts
            .iter()
            .map(|part| part["text"].as_str().map_or(0, words))
            .sum(),
        _ => 0,
    }
}

/// The text of a message content (strings and text parts joined), for cache keys.
pub fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|part| part["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// OpenAI's reasoning models: `o1`, `o3`, `o4-mini`..., `gpt-5*`.
pub fn is_reasoning_model(model: &str) -> bool {
    let mut chars = model.chars();
    (chars.next() == Some('o') && chars.next().is_some_and(|c| c.is_ascii_digit()))
        || model.starts_with("gpt-5")
}

pub fn reasoning_tokens(model: &str) -> u64 {
    if is_reasoning_model(model) {
        REASONING_TOKENS
    } else {
        0
    }
}

/// The answer's words that fit in `limit` output tokens after `reserved` (reasoning) ones, and
/// whether it was cut.
pub fn answer_words(limit: Option<u64>, reserved: u64) -> (Vec<&'static str>, bool) {
    let all: Vec<&str> = ANSWER.split(' ').collect();
    let fit = limit.map_or(all.len(), |l| {
        (l.saturating_sub(reserved) as usize).min(all.len())
    });
    let cut = fit < all.len();
    (all.into_iter().take(fit).collect(), cut)
}

/// The stream chunks of `words`: the first bare, the others with their leading space.
pub fn chunks(words: &[&str]) -> Vec<String> {
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i == 0 {
                (*w).to_owned()
            } else {
                format!(" {w}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_words_of_strings_and_text_parts() {
        assert_eq!(words("  one two\tthree\n"), 3);
        let parts = serde_json::json!([{"type": "text", "text": "a b"}, {"type": "image"}]);
        assert_eq!(content_words(&parts), 2);
    }

    #[test]
    fn cuts_the_answer_to_the_limit() {
        let (w, cut) = answer_words(Some(3), 0);
        assert_eq!((w.len(), cut), (3, true));
        let (w, cut) = answer_words(None, 0);
        assert_eq!((w.join(" ").as_str(), cut), (ANSWER, false));
        assert!(is_reasoning_model("o4-mini") && is_reasoning_model("gpt-5.1"));
        assert!(!is_reasoning_model("omni-moderation") && !is_reasoning_model("gpt-4o"));
    }
}
