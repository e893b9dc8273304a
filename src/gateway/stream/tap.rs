//! The streaming tap: sits on a provider's server-sent-events answer, forwards it to the client
//! as it comes, and reads the call's usage from a copy.
//!
//! Invariant: the bytes handed back are the provider's bytes, in order, byte-identical, except
//! (only when the request asked for a usage chunk the client did not) the one OpenAI chat chunk
//! with empty `choices` that carries `usage`, removed whole with its framing. Bytes are held
//! back only while the event they belong to is unfinished and could still be that chunk; any
//! chunking of the same stream gives the same bytes and the same [`Seen`]. Memory is bounded
//! by [`MAX_EVENT`]: a larger event is forwarded untouched and not read.

use bytes::Bytes;
use serde_json::Value;

use super::choices::ChoicesMatcher;
use super::fields::{openai_chat, openai_responses, text, AnthropicCounts};
use super::request::Endpoint;
use super::seen::Seen;
use super::sse::{Block, Item, Parser};

/// The largest event read for usage, in bytes.
pub const MAX_EVENT: usize = 1 << 20;

/// The reader of one streamed answer.
#[derive(Debug)]
pub struct Tap {
    endpoint: Endpoint,
    parser: Parser,
    /// Still to remove the usage chunk.
    strip: bool,
    /// While stripping: the bytes of the unfinished event, not yet forwarded.
    held: Vec<u8>,
    /// Raw length of the unfinished event so far.
    block_len: usize,
    /// The unfinished event was already (partly) forwarded: it can no longer be removed.
    released: bool,
    choices: ChoicesMatcher,
    /// The last event ended in CR at the end of a chunk: a LF completing that CRLF belongs
    /// to it, and is dropped (`Some(true)`) if the event was removed.
    pending_lf: Option<bool>,
    anthropic: AnthropicCounts,
    seen: Seen,
}

impl Tap {
    /// A tap for a streamed answer of `endpoint`; `strip_usage_chunk` is
    /// [`super::Inspected::strip_usage_chunk`] (it only applies to chat completions).
    pub fn new(endpoint: Endpoint, strip_usage_chunk: bool) -> Self {
        Tap {
            endpoint,
            parser: Parser::new(MAX_EVENT),
            strip: strip_usage_chunk && endpoint == Endpoint::ChatCompletions,
            held: Vec::new(),
            block_len: 0,
            released: false,
            choices: ChoicesMatcher::default(),
            pending_lf: None,
            anthropic: AnthropicCounts::default(),
            seen: Seen::default(),
        }
    }

    /// Takes the next chunk from the provider; returns the bytes to send to the client now.
    pub fn feed(&mut self, chunk: &[u8]) -> Bytes {
        let mut out = Vec::with_capacity(chunk.len() + self.held.len());
        let mut pos = 0;
        if let (Some(removed), Some(&first)) = (self.pending_lf, chunk.first()) {
            // Decided by the first byte that comes, however many empty chunks come before it.
            self.pending_lf = None;
            if first == b'\n' {
                pos = 1;
                if !removed {
                    out.push(b'\n');
                }
            }
        }
        let blocks = self.parser.push_blocks(chunk);
        if !self.strip {
            for item in blocks.into_iter().filter_map(|b| b.item) {
                self.read(item);
            }
            out.extend_from_slice(chunk.get(pos..).unwrap_or_default());
            return Bytes::from(out);
        }
        for Block { end, item } in blocks {
            let part = chunk.get(pos..end).unwrap_or_default();
            pos = pos.max(end);
            if self.strip {
                self.observe(part);
                let removable =
                    !self.released && self.block_len <= MAX_EVENT && !self.choices.found;
                let removed = removable && item.as_ref().is_some_and(is_usage_chunk);
                if removed {
                    self.strip = false;
                } else {
                    out.append(&mut self.held);
                    out.extend_from_slice(part);
                }
                if part.last() == Some(&b'\r') {
                    // The blank line may be a CRLF: its LF goes (or not) with this event.
                    if chunk.get(end) == Some(&b'\n') {
                        pos = end + 1;
                        if !removed {
                            out.push(b'\n');
                        }
                    } else if end == chunk.len() {
                        self.pending_lf = Some(removed);
                    }
                }
                self.held.clear();
                self.block_len = 0;
                self.released = false;
                self.choices = ChoicesMatcher::default();
            } else {
                out.extend_from_slice(part);
            }
            if let Some(item) = item {
                self.read(item);
            }
        }
        let rest = chunk.get(pos..).unwrap_or_default();
        if self.strip {
            self.observe(rest);
            if self.released || self.choices.found || self.block_len > MAX_EVENT {
                out.append(&mut self.held);
                out.extend_from_slice(rest);
                self.released = true;
            } else {
                self.held.extend_from_slice(rest);
            }
        } else {
            out.extend_from_slice(rest);
        }
        Bytes::from(out)
    }

    /// At the end of the provider's stream: the bytes still held of an unfinished last event
    /// (empty unless stripping). After this the tap removes nothing more.
    pub fn flush(&mut self) -> Bytes {
        self.strip = false;
        self.released = true;
        Bytes::from(std::mem::take(&mut self.held))
    }

    /// What was learnt so far.
    pub fn seen(&self) -> Seen {
        self.seen.clone()
    }

    /// What was learnt from the whole stream (an unfinished last event is not read).
    pub fn finish(self) -> Seen {
        self.seen
    }

    fn observe(&mut self, raw: &[u8]) {
        self.block_len = self.block_len.saturating_add(raw.len());
        self.choices.feed(raw);
    }

    fn read(&mut self, item: Item) {
        let Item::Event { event, data } = item else {
            return;
        };
        if data == "[DONE]" {
            if self.endpoint.provider() == crate::gateway::Provider::OpenAi {
                self.seen.complete = true;
            }
            return;
        }
        let Ok(v) = serde_json::from_str::<Value>(&data) else {
            return;
        };
        let kind = v.get("type").and_then(Value::as_str).unwrap_or(&event);
        match self.endpoint {
            Endpoint::ChatCompletions => {
                self.identify(&v);
                if let Some(usage) = v.get("usage").and_then(openai_chat) {
                    self.seen.usage = Some(usage);
                }
            }
            Endpoint::Responses => {
                if let Some(response) = v.get("response") {
                    self.identify(response);
                    if let Some(usage) = response.get("usage").and_then(openai_responses) {
                        self.seen.usage = Some(usage);
                    }
                }
                if matches!(
                    kind,
                    "response.completed" | "response.incomplete" | "response.failed"
                ) {
                    self.seen.complete = true;
                }
            }
            Endpoint::Messages => {
                match kind {
                    "message_start" => {
                        if let Some(message) = v.get("message") {
                            self.identify(message);
                            if let Some(usage) = message.get("usage") {
                                self.anthropic.merge(usage);
                            }
                        }
                    }
                    "message_delta" => {
                        if let Some(usage) = v.get("usage") {
                            self.anthropic.merge(usage);
                        }
                    }
                    "message_stop" => self.seen.complete = true,
                    _ => {}
                }
                if let Some(usage) = self.anthropic.usage() {
                    self.seen.usage = Some(usage);
                }
            }
            Endpoint::Embeddings | Endpoint::CountTokens => {}
        }
    }

    /// Takes the answer's id and model from the first object that names them.
    fn identify(&mut self, v: &Value) {
        if self.seen.response_id.is_none() {
            self.seen.response_id = text(v, "id");
        }
        if self.seen.model.is_none() {
            self.seen.model = text(v, "model");
        }
    }
}

/// OpenAI's extra chat chunk: `choices` empty and `usage` an object.
fn is_usage_chunk(item: &Item) -> bool {
    let Item::Event { data, .. } = item else {
        return false;
    };
    let Ok(v) = serde_json::from_str::<Value>(data) else {
        return false;
    };
    v.get("choices")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
        && v.get("usage").is_some_and(Value::is_object)
}
