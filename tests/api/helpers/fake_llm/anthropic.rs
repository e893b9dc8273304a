//! The fake Anthropic: `POST /v1/messages` (plain, and streamed as `message_start`,
//! `content_block_start`, `ping`, `content_block_delta`..., `content_block_stop`,
//! `message_delta`, `message_stop`; a `tool_use` block when the request has `tools`),
//! `POST /v1/messages/count_tokens`, Anthropic's auth check (`x-api-key` or Bearer, and
//! `anthropic-version`), its error body (`{"type": "error", "error": {type, message},
//! "request_id"}`) and headers (`request-id`, `anthropic-ratelimit-*`).
//!
//! Invariant: `message_start` carries the input side of the usage (input, cache reads, cache
//! writes with their 5m/1h split) and `output_tokens: 1`; `message_delta` carries the cumulative
//! totals (the final `output_tokens`, to overwrite, never to add), without the 5m/1h split.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::stream::named;
use super::tokens::{answer_words, chunks, content_text, words};
use super::{json_response, pieces, random_id, tool_arguments, Answer, Call, Endpoint, Failure};
use super::{ANTHROPIC_KEY, TOOL_CALL_TOKENS};

pub(crate) fn headers(seq: usize) -> HeaderMap {
    let reset = (chrono::Utc::now() + chrono::Duration::seconds(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut h = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        h.insert(name, HeaderValue::from_str(&value).unwrap());
    };
    put("request-id", format!("req_011C{}", random_id(20)));
    put(
        "anthropic-organization-id",
        "00000000-0000-4000-8000-00000000fa4e".into(),
    );
    put("anthropic-ratelimit-requests-limit", "4000".into());
    put(
        "anthropic-ratelimit-requests-remaining",
        4000usize.saturating_sub(seq).to_string(),
    );
    put("anthropic-ratelimit-requests-reset", reset.clone());
    for kind in ["input-tokens", "output-tokens", "tokens"] {
        let limit = if kind == "output-tokens" {
            "400000"
        } else {
            "2000000"
        };
        h.insert(
            http_name(format!("anthropic-ratelimit-{kind}-limit")),
            HeaderValue::from_static(limit),
        );
        h.insert(
            http_name(format!("anthropic-ratelimit-{kind}-remaining")),
            HeaderValue::from_static(limit),
        );
        h.insert(
            http_name(format!("anthropic-ratelimit-{kind}-reset")),
            HeaderValue::from_str(&reset).unwrap(),
        );
    }
    h
}

fn http_name(name: String) -> axum::http::HeaderName {
    axum::http::HeaderName::try_from(name).unwrap()
}

fn error(status: StatusCode, seq: usize, kind: &str, message: &str) -> Response {
    let headers = headers(seq);
    let request_id = headers["request-id"].to_str().unwrap().to_owned();
    let body = json!({"type": "error", "error": {"type": kind, "message": message},
        "request_id": request_id});
    json_response(status, headers, &body)
}

pub(crate) fn authorize(request: &HeaderMap, seq: usize) -> Option<Response> {
    let text = |name: &str| request.get(name).map(|v| v.to_str().unwrap_or(""));
    let key = text("x-api-key")
        .or_else(|| text("authorization").map(|v| v.strip_prefix("Bearer ").unwrap_or("")));
    match key {
        None => {
            return Some(error(
                StatusCode::UNAUTHORIZED,
                seq,
                "authentication_error",
                "x-api-key header is required",
            ))
        }
        Some(key) if key != ANTHROPIC_KEY => {
            return Some(error(
                StatusCode::UNAUTHORIZED,
                seq,
                "authentication_error",
                "invalid x-api-key",
            ))
        }
        Some(_) => {}
    }
    if text("anthropic-version").is_none_or(str::is_empty) {
        let message = "anthropic-version: header is required";
        return Some(error(
            StatusCode::BAD_REQUEST,
            seq,
            "invalid_request_error",
            message,
        ));
    }
    None
}

pub(crate) fn invalid_json(seq: usize) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        seq,
        "invalid_request_error",
        "There was an error parsing the body of your request",
    )
}

pub(crate) fn failure(failure: Failure, seq: usize) -> Response {
    match failure {
        Failure::RateLimited { retry_after_secs } => {
            let message =
                "This request would exceed the rate limit for your organization of 4,000 \
                requests per minute. Please reduce the rate of requests or try again later.";
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                seq,
                "rate_limit_error",
                message,
            );
            let retry = HeaderValue::from_str(&retry_after_secs.to_string()).unwrap();
            response.headers_mut().insert("retry-after", retry);
            response.headers_mut().insert(
                "anthropic-ratelimit-requests-remaining",
                HeaderValue::from_static("0"),
            );
            response
        }
        Failure::BadRequest => error(
            StatusCode::BAD_REQUEST,
            seq,
            "invalid_request_error",
            "messages: at least one message is required",
        ),
        Failure::ServerError => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            seq,
            "api_error",
            "Internal server error",
        ),
        Failure::Overloaded => error(
            StatusCode::from_u16(529).unwrap(),
            seq,
            "overloaded_error",
            "Overloaded",
        ),
    }
}

/// The input side of a request's usage.
#[derive(Debug, Default, Clone, Copy)]
struct Input {
    uncached: u64,
    read: u64,
    write_5m: u64,
    write_1h: u64,
}

/// The text blocks of the prompt in order (system, then messages): words, text, cache TTL.
fn blocks(request: &Value) -> Vec<(u64, String, Option<String>)> {
    let mut out = Vec::new();
    let mut add = |content: &Value| match content {
        Value::String(text) => out.push((words(text), text.clone(), None)),
        Value::Array(parts) => {
            for part in parts {
                let text = part["text"]
                    .as_str()
                    .map_or_else(|| content_text(&part["content"]), str::to_owned);
                let ttl = part
                    .get("cache_control")
                    .filter(|c| c.is_object())
                    .map(|c| c["ttl"].as_str().unwrap_or("5m").to_owned());
                out.push((words(&text), text, ttl));
            }
        }
        _ => {}
    };
    add(&request["system"]);
    for message in request["messages"].as_array().into_iter().flatten() {
        add(&message["content"]);
    }
    out
}

/// Splits the prompt into cache reads, cache writes and the rest (see `tokens.rs`).
fn input(request: &Value, call: &Call) -> Input {
    let mut usage = Input::default();
    let mut prefix = String::new();
    let mut pending = 0;
    for (count, text, ttl) in blocks(request) {
        pending += count;
        prefix.push_str(&text);
        prefix.push('\u{1}');
        let Some(ttl) = ttl else { continue };
        if call.cache_hit(format!("anthropic:{prefix}")) {
            usage.read += pending;
        } else if ttl == "1h" {
            usage.write_1h += pending;
        } else {
            usage.write_5m += pending;
        }
        pending = 0;
    }
    usage.uncached = pending;
    usage
}

fn usage(input: Input, output: u64, split: bool) -> Value {
    let mut usage = json!({
        "input_tokens": input.uncached,
        "cache_creation_input_tokens": input.write_5m + input.write_1h,
        "cache_read_input_tokens": input.read, "output_tokens": output,
    });
    if split {
        usage["cache_creation"] = json!({"ephemeral_5m_input_tokens": input.write_5m,
            "ephemeral_1h_input_tokens": input.write_1h});
        usage["service_tier"] = json!("standard");
    }
    usage
}

fn invalid(seq: usize, message: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        seq,
        "invalid_request_error",
        message,
    )
}

pub(crate) fn answer(endpoint: Endpoint, request: &Value, call: &Call) -> Answer {
    let Some(model) = request["model"].as_str() else {
        return Answer::Refused(invalid(call.seq, "model: Field required"));
    };
    if !request["messages"].is_array() {
        return Answer::Refused(invalid(call.seq, "messages: Field required"));
    }
    if endpoint == Endpoint::CountTokens {
        let total: u64 = blocks(request).iter().map(|b| b.0).sum();
        return Answer::Json(json!({"input_tokens": total}));
    }
    let Some(max_tokens) = request["max_tokens"].as_u64() else {
        return Answer::Refused(invalid(call.seq, "max_tokens: Field required"));
    };
    let input = input(request, call);
    let id = format!("msg_01{}", random_id(22));
    let (block, deltas, stop, output) = match request["tools"].as_array().and_then(|t| t.first()) {
        Some(tool) => tool_use(tool),
        None => {
            let (words, cut) = answer_words(Some(max_tokens), 0);
            let deltas = chunks(&words)
                .into_iter()
                .map(|t| json!({"type": "text_delta", "text": t}))
                .collect();
            let block = json!({"type": "text", "text": words.join(" ")});
            (
                block,
                deltas,
                if cut { "max_tokens" } else { "end_turn" },
                words.len() as u64,
            )
        }
    };
    let message = |content: Value, stop: Value, usage: Value| {
        json!({"id": id, "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop, "stop_sequence": null, "usage": usage})
    };
    if request["stream"] != json!(true) {
        return Answer::Json(message(
            json!([block]),
            json!(stop),
            usage(input, output, true),
        ));
    }
    let mut start = block.clone();
    match start["type"].as_str() {
        Some("text") => start["text"] = json!(""),
        _ => start["input"] = json!({}),
    }
    let mut frames = vec![
        named(
            "message_start",
            &json!({"type": "message_start",
            "message": message(json!([]), Value::Null, usage(input, 1, true))}),
        ),
        named(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0, "content_block": start}),
        ),
        named("ping", &json!({"type": "ping"})),
    ];
    for delta in deltas {
        frames.push(named(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0, "delta": delta}),
        ));
    }
    frames.push(named(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
    ));
    frames.push(named("message_delta", &json!({"type": "message_delta",
        "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": usage(input, output, false)})));
    frames.push(named("message_stop", &json!({"type": "message_stop"})));
    Answer::Stream(frames)
}

/// A `tool_use` block calling `tool`, its stream deltas, stop reason and output tokens.
fn tool_use(tool: &Value) -> (Value, Vec<Value>, &'static str, u64) {
    let name = tool["name"].as_str().unwrap_or("tool");
    let args = tool_arguments(&tool["input_schema"]);
    let input: Value = serde_json::from_str(&args).unwrap_or(json!({}));
    let block = json!({"type": "tool_use", "id": format!("toolu_01{}", random_id(22)), "name": name, "input": input});
    let deltas = pieces(&args, 8)
        .into_iter()
        .map(|p| json!({"type": "input_json_delta", "partial_json": p}))
        .collect();
    (block, deltas, "tool_use", TOOL_CALL_TOKENS)
}
