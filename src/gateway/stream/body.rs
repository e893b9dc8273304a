//! Usage from a provider's whole (not streamed) JSON answer.
//!
//! Invariant: any bytes give a [`Seen`], never a panic; a body that is not a JSON object gives
//! nothing (`usage: None`, `complete: false`), a counted field that cannot be believed is
//! treated as missing.

use serde_json::Value;

use super::fields::{count, openai_chat, openai_responses, text, AnthropicCounts};
use super::request::Endpoint;
use super::seen::Seen;
use crate::gateway::model::Usage;

/// Reads the usage, answering model and id from a response body of `endpoint`.
pub fn from_body(endpoint: Endpoint, body: &[u8]) -> Seen {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Seen::default();
    };
    if !v.is_object() {
        return Seen::default();
    }
    let usage = v.get("usage");
    let usage = match endpoint {
        Endpoint::ChatCompletions | Endpoint::Embeddings => usage.and_then(openai_chat),
        Endpoint::Responses => usage.and_then(openai_responses),
        Endpoint::Messages => {
            let mut counts = AnthropicCounts::default();
            if let Some(usage) = usage {
                counts.merge(usage);
            }
            counts.usage()
        }
        // Counting tokens is free: a valid answer used no billed tokens.
        Endpoint::CountTokens => count(&v, &["input_tokens"]).map(|_| Usage::default()),
    };
    Seen {
        usage,
        model: text(&v, "model"),
        response_id: text(&v, "id"),
        complete: true,
    }
}
