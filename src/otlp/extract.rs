//! What one span says about an LLM call: provider, models, the provider's response id, tokens by
//! kind, attribution and timing, read under every convention in [`conventions`].
//!
//! A span is an LLM call when it carries input or output token counts and is not a summary span
//! (a chain, agent or workflow span adding up its children). Tokens follow the GenAI
//! conventions: the input count includes cached tokens, the output count reasoning tokens; a span
//! whose cache counts exceed its input count evidently counted them apart (as Anthropic's own
//! API does) and is read that way. Cache writes are priced as 5-minute writes: no convention
//! names the 1-hour kind.
//!
//! Invariant: pure (no I/O, no clock); a span is either a call, not an LLM call, or refused with
//! a reason that names the attribute, never half-read.

use chrono::{DateTime, Utc};
use opentelemetry_proto::tonic::trace::v1::{status::StatusCode, Span};

use super::attrs::{Attributes, BadValue};
use super::conventions as names;
use crate::gateway::calls::Attribution;
use crate::gateway::{Provider, Usage};

/// An LLM call read from a span.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanCall {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub provider: Provider,
    /// `chat`, `text_completion`, `embeddings`, `responses` or `generate_content`.
    pub operation: &'static str,
    pub model_requested: Option<String>,
    pub model_answered: Option<String>,
    pub response_id: Option<String>,
    pub usage: Usage,
    pub attribution: Attribution,
    pub started_at: DateTime<Utc>,
    pub latency_us: i64,
    /// The span's error status, without its message (which may quote a prompt).
    pub failed: bool,
}

/// What a span is.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Call(Box<SpanCall>),
    /// No LLM call in it (an HTTP span, a chain summing its children, ...): counted, ignored.
    NotLlm,
    /// An LLM call that cannot be used, and why (reported in `partial_success`).
    Refused(String),
}

/// Reads `span`, with its resource's attributes.
pub fn read(span: &Span, resource: &Attributes<'_>) -> Verdict {
    let attrs = Attributes::new(&span.attributes);
    match call(span, &attrs, resource) {
        Ok(Some(call)) => Verdict::Call(Box::new(call)),
        Ok(None) => Verdict::NotLlm,
        Err(reason) => Verdict::Refused(reason),
    }
}

fn bad(e: BadValue) -> String {
    format!("attribute {} {}", e.key, e.problem)
}

fn call(
    span: &Span,
    attrs: &Attributes<'_>,
    resource: &Attributes<'_>,
) -> Result<Option<SpanCall>, String> {
    let input = attrs.count(names::INPUT_TOKENS).map_err(bad)?;
    let output = attrs.count(names::OUTPUT_TOKENS).map_err(bad)?;
    if input.is_none() && output.is_none() {
        if attrs.count(names::TOTAL_TOKENS).map_err(bad)?.is_some() && !is_summary(attrs) {
            return Err("only a total token count: input and output are needed to price it".into());
        }
        return Ok(None);
    }
    if is_summary(attrs) {
        return Ok(None);
    }
    let model_requested = attrs.text(names::REQUEST_MODEL).map_err(bad)?;
    let model_answered = attrs.text(names::RESPONSE_MODEL).map_err(bad)?;
    let provider = provider(
        attrs,
        model_answered.as_deref().or(model_requested.as_deref()),
    )?;
    let usage = usage(attrs, input.unwrap_or(0), output.unwrap_or(0))?;
    let (started_at, latency_us) = timing(span)?;
    Ok(Some(SpanCall {
        trace_id: id(&span.trace_id, "trace_id")?,
        span_id: id(&span.span_id, "span_id")?,
        provider,
        operation: operation(attrs),
        model_requested,
        model_answered,
        // An unusable response id only loses the link to a gateway call, not the call.
        response_id: attrs.text(names::RESPONSE_ID).ok().flatten(),
        usage,
        attribution: attribution(attrs, resource).map_err(bad)?,
        started_at,
        latency_us,
        failed: span
            .status
            .as_ref()
            .is_some_and(|s| s.code == StatusCode::Error as i32),
    }))
}

/// A chain, agent or workflow span: its tokens are its children's.
fn is_summary(attrs: &Attributes<'_>) -> bool {
    names::SPAN_KIND.iter().any(|(key, kinds)| {
        matches!(attrs.text(&[key]), Ok(Some(kind)) if kinds.iter().any(|k| k.eq_ignore_ascii_case(&kind)))
    })
}

/// The provider named by the span, else the one the model's name belongs to. Only providers the
/// catalog prices directly are accepted: a cloud reseller's invoice differs from theirs.
fn provider(attrs: &Attributes<'_>, model: Option<&str>) -> Result<Provider, String> {
    let named = attrs.text(names::PROVIDER).map_err(bad)?;
    if let Some(name) = &named {
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            "openai" => return Ok(Provider::OpenAi),
            "anthropic" => return Ok(Provider::Anthropic),
            // The cost tracker's callback named the provider by the model's first word.
            "gpt" | "o1" | "o3" | "o4" | "text" | "claude" | "langchain" => {}
            _ => {
                return Err(format!(
                    "provider {name:?} is not one AuditPulse prices (openai, anthropic)"
                ))
            }
        }
    }
    let model = model.map(str::to_ascii_lowercase).unwrap_or_default();
    if model.starts_with("claude") {
        Ok(Provider::Anthropic)
    } else if [
        "gpt-",
        "chatgpt-",
        "o1",
        "o3",
        "o4",
        "text-embedding-",
        "davinci",
        "babbage",
    ]
    .iter()
    .any(|p| model.starts_with(p))
    {
        Ok(Provider::OpenAi)
    } else if model.is_empty() {
        Err("no model: gen_ai.request.model or gen_ai.response.model is needed to price it".into())
    } else {
        Err(format!(
            "no provider for model {model:?}: set gen_ai.provider.name"
        ))
    }
}

/// Tokens by kind. `input` includes cached tokens unless the cache counts exceed it.
fn usage(attrs: &Attributes<'_>, input: u64, output: u64) -> Result<Usage, String> {
    let cache_read = attrs
        .count(names::CACHE_READ_TOKENS)
        .map_err(bad)?
        .unwrap_or(0);
    let cache_write = attrs
        .count(names::CACHE_WRITE_TOKENS)
        .map_err(bad)?
        .unwrap_or(0);
    let reasoning = attrs
        .count(names::REASONING_TOKENS)
        .map_err(bad)?
        .unwrap_or(0);
    let cached = cache_read.saturating_add(cache_write);
    let prompt = if cached > input {
        input + cached
    } else {
        input
    };
    Ok(Usage::from_openai(
        prompt,
        cache_read,
        cache_write,
        output,
        reasoning,
    ))
}

fn operation(attrs: &Attributes<'_>) -> &'static str {
    let Ok(Some(name)) = attrs.text(names::OPERATION) else {
        return "chat";
    };
    match name.to_ascii_lowercase().as_str() {
        "text_completion" | "completion" => "text_completion",
        "embeddings" | "embedding" => "embeddings",
        "responses" => "responses",
        "generate_content" => "generate_content",
        _ => "chat",
    }
}

fn attribution(attrs: &Attributes<'_>, resource: &Attributes<'_>) -> Result<Attribution, BadValue> {
    let application = match attrs.text(names::APPLICATION)? {
        Some(app) => Some(app),
        // The SDKs' placeholder when no service name was set is no application.
        None => resource
            .text(names::RESOURCE_APPLICATION)?
            .filter(|name| !name.starts_with("unknown_service")),
    };
    let project = match attrs.text(names::PROJECT)? {
        Some(project) => Some(project),
        None => resource.text(names::PROJECT)?,
    };
    Ok(Attribution {
        application,
        project,
        end_user: attrs.text(names::USER)?,
    })
}

/// Start time and duration; a span without a start time cannot be priced at its date.
fn timing(span: &Span) -> Result<(DateTime<Utc>, i64), String> {
    let start = i64::try_from(span.start_time_unix_nano)
        .ok()
        .filter(|&n| n > 0)
        .ok_or("the span has no usable start time")?;
    let started_at = DateTime::from_timestamp_nanos(start);
    let latency_us = span
        .end_time_unix_nano
        .checked_sub(span.start_time_unix_nano)
        .map_or(0, |ns| i64::try_from(ns / 1_000).unwrap_or(i64::MAX));
    Ok((started_at, latency_us))
}

fn id<const N: usize>(bytes: &[u8], what: &str) -> Result<[u8; N], String> {
    <[u8; N]>::try_from(bytes)
        .ok()
        .filter(|id| id.iter().any(|&b| b != 0))
        .ok_or_else(|| format!("the span's {what} is not {N} bytes, or is all zero"))
}

#[cfg(test)]
#[path = "extract_tests.rs"]
mod tests;
