//! Reading a client's request before it is forwarded: which model, streamed or not, which end
//! user, how many output tokens it allows, the change the gateway makes so a streamed chat
//! answer carries its usage, and the model swap a budget may ask for.
//!
//! Invariant: the forwarded body is the client's bytes, byte-identical, unless a chat completion
//! is streamed without `stream_options.include_usage: true`; then only `stream_options` is
//! added or rewritten (every other byte kept) and `strip_usage_chunk` tells the tap to take the
//! extra usage chunk out again; `with_model` likewise changes only the top-level `model` value.
//! A body that is not a JSON object is refused before any provider is called.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::gateway::model::Provider;

/// The longest model name accepted in a request, in bytes.
pub const MAX_MODEL: usize = 256;
/// The longest end-user id accepted in a request, in bytes.
pub const MAX_USER: usize = 1024;

/// The provider APIs the gateway meters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// OpenAI `POST /v1/chat/completions`.
    ChatCompletions,
    /// OpenAI `POST /v1/responses`.
    Responses,
    /// OpenAI `POST /v1/embeddings`.
    Embeddings,
    /// Anthropic `POST /v1/messages`.
    Messages,
    /// Anthropic `POST /v1/messages/count_tokens` (not billed).
    CountTokens,
}

impl Endpoint {
    /// The wire format the endpoint belongs to.
    pub fn provider(self) -> Provider {
        match self {
            Endpoint::ChatCompletions | Endpoint::Responses | Endpoint::Embeddings => {
                Provider::OpenAi
            }
            Endpoint::Messages | Endpoint::CountTokens => Provider::Anthropic,
        }
    }

    /// Whether the endpoint can answer with a stream (`"stream": true`).
    pub fn can_stream(self) -> bool {
        matches!(
            self,
            Endpoint::ChatCompletions | Endpoint::Responses | Endpoint::Messages
        )
    }
}

/// What the gateway needs to know about a request, and the body to forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    /// The model asked for.
    pub model: Option<String>,
    /// The client asked for a streamed answer.
    pub stream: bool,
    /// The end user named by the client (OpenAI `user`, Anthropic `metadata.user_id`).
    pub user: Option<String>,
    /// The most output tokens the client allows: `max_completion_tokens` (else `max_tokens`) of
    /// a chat completion, `max_tokens` of a message, `max_output_tokens` of a response.
    pub max_output_tokens: Option<u64>,
    /// The body to send to the provider.
    pub body: Bytes,
    /// The gateway asked for the usage chunk the client did not ask for: the tap removes it.
    pub strip_usage_chunk: bool,
}

type Fields<'a> = BTreeMap<String, &'a RawValue>;

/// Reads a request body (already bounded in size by the caller).
pub fn inspect(endpoint: Endpoint, body: &[u8]) -> Result<Inspected, Error> {
    let fields: Fields = serde_json::from_slice(body).map_err(not_an_object)?;
    let model = string(&fields, "model", MAX_MODEL)?;
    let stream = endpoint.can_stream() && flag(&fields, "stream")?;
    let user = match endpoint.provider() {
        Provider::OpenAi => string(&fields, "user", MAX_USER)?,
        Provider::Anthropic => metadata_user(&fields)?,
    };
    let max_output_tokens = max_output(endpoint, &fields)?;
    let mut inspected = Inspected {
        model,
        stream,
        user,
        max_output_tokens,
        body: Bytes::copy_from_slice(body),
        strip_usage_chunk: false,
    };
    if endpoint == Endpoint::ChatCompletions && stream {
        if let Some(changed) = ask_for_usage(body, &fields)? {
            inspected.body = changed;
            inspected.strip_usage_chunk = true;
        }
    }
    Ok(inspected)
}

/// The body with `stream_options.include_usage` set to true, or `None` when the client already
/// asked for it.
fn ask_for_usage(body: &[u8], fields: &Fields) -> Result<Option<Bytes>, Error> {
    let Some(raw) = fields.get("stream_options") else {
        // Insert the member first in the object: no other byte moves relative to another.
        let open = body
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .ok_or_else(|| Error::BadRequest("the request body is empty".into()))?;
        let mut out = Vec::with_capacity(body.len() + 48);
        out.extend_from_slice(&body[..=open]);
        out.extend_from_slice(br#""stream_options":{"include_usage":true},"#);
        out.extend_from_slice(&body[open + 1..]);
        return Ok(Some(out.into()));
    };
    let mut options: Map<String, Value> = match serde_json::from_str::<Option<_>>(raw.get()) {
        Ok(options) => options.unwrap_or_default(),
        Err(e) if e.is_data() => {
            return Err(Error::BadRequest("stream_options must be an object".into()))
        }
        Err(e) => return Err(Error::BadRequest(format!("stream_options: {e}"))),
    };
    if options.get("include_usage") == Some(&Value::Bool(true)) {
        return Ok(None);
    }
    options.insert("include_usage".into(), Value::Bool(true));
    let replacement = serde_json::to_vec(&options).map_err(|e| Error::Internal(e.into()))?;
    let (start, end) = span(body, raw, "stream_options")?;
    let mut out = Vec::with_capacity(body.len() + replacement.len());
    out.extend_from_slice(&body[..start]);
    out.extend_from_slice(&replacement);
    out.extend_from_slice(&body[end..]);
    Ok(Some(out.into()))
}

/// The body with every top-level `model` value replaced by `model` (as a JSON string), every
/// other byte kept. A repeated top-level key is replaced each time it appears, so whichever one
/// the provider reads names the new model; a nested `model` (in a message, a tool) is left as
/// it is.
pub fn with_model(body: &Bytes, model: &str) -> Result<Bytes, Error> {
    let members = top_level(body)?;
    let mut spans = Vec::new();
    for (key, raw) in &members.0 {
        if key == "model" {
            spans.push(span(body, raw, "model")?);
        }
    }
    if spans.is_empty() {
        return Err(Error::BadRequest("the request names no model".into()));
    }
    let replacement = serde_json::to_vec(model).map_err(|e| Error::Internal(e.into()))?;
    let mut out = Vec::with_capacity(body.len() + replacement.len() * spans.len());
    let mut from = 0;
    // Members come in the order they appear, so the spans are ascending and disjoint.
    for (start, end) in spans {
        out.extend_from_slice(&body[from..start]);
        out.extend_from_slice(&replacement);
        from = end;
    }
    out.extend_from_slice(&body[from..]);
    Ok(out.into())
}

/// The top-level members of a JSON object in the order they appear, repeated keys included.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Each;
        impl<'de> Visitor<'de> for Each {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    members.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Each)
    }
}

fn top_level(body: &[u8]) -> Result<Members<'_>, Error> {
    serde_json::from_slice(body).map_err(not_an_object)
}

/// Why a body could not be read as a JSON object.
fn not_an_object(e: serde_json::Error) -> Error {
    if e.is_data() {
        Error::BadRequest("the request body must be a JSON object".into())
    } else {
        Error::MalformedJson(e.to_string())
    }
}

/// Where a borrowed raw value (the member `name`) lies in the body it was read from.
fn span(body: &[u8], raw: &RawValue, name: &str) -> Result<(usize, usize), Error> {
    let text = raw.get().as_bytes();
    let start = (text.as_ptr() as usize).wrapping_sub(body.as_ptr() as usize);
    let end = start.checked_add(text.len());
    match end {
        Some(end) if end <= body.len() && &body[start..end] == text => Ok((start, end)),
        _ => Err(Error::Internal(anyhow::anyhow!(
            "{name} was not found in the request body it was read from"
        ))),
    }
}

/// A string member, absent or null as `None`; anything else, or longer than `max`, refused.
fn string(fields: &Fields, key: &str, max: usize) -> Result<Option<String>, Error> {
    let Some(raw) = fields.get(key) else {
        return Ok(None);
    };
    let value: Option<String> = serde_json::from_str(raw.get())
        .map_err(|_| Error::BadRequest(format!("{key} must be a string")))?;
    match value {
        Some(s) if s.len() > max => Err(Error::BadRequest(format!(
            "{key} is longer than {max} bytes"
        ))),
        value => Ok(value.filter(|s| !s.is_empty())),
    }
}

/// The output-token limit the endpoint's own field sets; `max_completion_tokens` replaces the
/// older `max_tokens` of a chat completion (both are checked: the provider would read either).
fn max_output(endpoint: Endpoint, fields: &Fields) -> Result<Option<u64>, Error> {
    Ok(match endpoint {
        Endpoint::ChatCompletions => {
            let old = count(fields, "max_tokens")?;
            count(fields, "max_completion_tokens")?.or(old)
        }
        Endpoint::Messages => count(fields, "max_tokens")?,
        Endpoint::Responses => count(fields, "max_output_tokens")?,
        Endpoint::Embeddings | Endpoint::CountTokens => None,
    })
}

/// A whole number of tokens, absent or null as `None`; a sign, fraction, exponent or any other
/// JSON value is refused. A number beyond `u64` is `u64::MAX` (it can only cost more).
fn count(fields: &Fields, key: &str) -> Result<Option<u64>, Error> {
    let Some(raw) = fields.get(key) else {
        return Ok(None);
    };
    let text = raw.get();
    if text == "null" {
        return Ok(None);
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits(text) {
        return Ok(Some(text.parse().unwrap_or(u64::MAX)));
    }
    if text.strip_prefix('-').is_some_and(digits) {
        return Err(Error::BadRequest(format!("{key} must not be negative")));
    }
    Err(Error::BadRequest(format!(
        "{key} must be a whole number of tokens"
    )))
}

/// A boolean member, absent or null as false.
fn flag(fields: &Fields, key: &str) -> Result<bool, Error> {
    let Some(raw) = fields.get(key) else {
        return Ok(false);
    };
    serde_json::from_str::<Option<bool>>(raw.get())
        .map(|b| b.unwrap_or(false))
        .map_err(|_| Error::BadRequest(format!("{key} must be true or false")))
}

/// Anthropic's `metadata.user_id`.
fn metadata_user(fields: &Fields) -> Result<Option<String>, Error> {
    let Some(raw) = fields.get("metadata") else {
        return Ok(None);
    };
    let metadata: Option<Fields> = serde_json::from_str(raw.get())
        .map_err(|_| Error::BadRequest("metadata must be an object".into()))?;
    match metadata {
        Some(metadata) => string(&metadata, "user_id", MAX_USER)
            .map_err(|e| Error::BadRequest(format!("metadata.{e}"))),
        None => Ok(None),
    }
}
