//! The fake OpenAI: chat completions (plain, streamed with `stream_options.include_usage`, tool
//! calls), embeddings (float or base64), the model list, OpenAI's auth check, error bodies
//! (`{"error": {message, type, param, code}}`) and response headers (`x-request-id: req_...`,
//! `openai-processing-ms`, `x-ratelimit-*`). The Responses API is in `responses.rs`.
//!
//! Invariant: a chat stream has the usage chunk (`choices: []`) only when the request asked for
//! `stream_options.include_usage: true`, as its last chunk before `data: [DONE]`; then every other
//! chunk carries `"usage": null`, and without it no chunk has a `usage` field at all.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use base64::Engine;
use serde_json::{json, Value};

use super::stream::data;
use super::tokens::{answer_words, chunks, content_text, content_words, reasoning_tokens, words};
use super::{
    json_response, now, pieces, random_id, tool_arguments, Answer, Call, Endpoint, Failure,
};
use super::{OPENAI_KEY, TOOL_CALL_TOKENS};

pub(crate) fn headers(seq: usize) -> HeaderMap {
    let mut h = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        h.insert(name, HeaderValue::from_str(&value).unwrap());
    };
    put(
        "x-request-id",
        format!("req_{:032x}", rand::random::<u128>()),
    );
    put("openai-processing-ms", "42".into());
    put("openai-version", "2020-10-01".into());
    put("openai-organization", "user-fakeorg".into());
    put("x-ratelimit-limit-requests", "10000".into());
    put(
        "x-ratelimit-remaining-requests",
        10_000usize.saturating_sub(seq).to_string(),
    );
    put("x-ratelimit-reset-requests", "6ms".into());
    put("x-ratelimit-limit-tokens", "30000000".into());
    put("x-ratelimit-remaining-tokens", "29999000".into());
    put("x-ratelimit-reset-tokens", "0s".into());
    h
}

fn error(
    status: StatusCode,
    seq: usize,
    message: &str,
    kind: &str,
    param: Value,
    code: Value,
) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": param, "code": code}});
    json_response(status, headers(seq), &body)
}

pub(crate) fn authorize(request: &HeaderMap, seq: usize) -> Option<Response> {
    let presented = request
        .get("authorization")
        .map(|v| v.to_str().unwrap_or("").to_owned());
    let key = match presented.as_deref().map(|v| v.strip_prefix("Bearer ")) {
        None | Some(None) => {
            let message = "You didn't provide an API key. You need to provide your API key in an \
                Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You \
                can obtain an API key from https://platform.openai.com/account/api-keys.";
            return Some(error(
                StatusCode::UNAUTHORIZED,
                seq,
                message,
                "invalid_request_error",
                Value::Null,
                Value::Null,
            ));
        }
        Some(Some(key)) => key,
    };
    if key == OPENAI_KEY {
        return None;
    }
    let message = format!(
        "Incorrect API key provided: {}. You can find your API key at \
         https://platform.openai.com/account/api-keys.",
        mask(key)
    );
    Some(error(
        StatusCode::UNAUTHORIZED,
        seq,
        &message,
        "invalid_request_error",
        Value::Null,
        json!("invalid_api_key"),
    ))
}

/// OpenAI shows a wrong key's first and last characters only.
fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() < 12 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

pub(crate) fn not_found(method: &Method, path: &str, seq: usize) -> Response {
    let message = format!("Invalid URL ({method} {path})");
    error(
        StatusCode::NOT_FOUND,
        seq,
        &message,
        "invalid_request_error",
        Value::Null,
        Value::Null,
    )
}

pub(crate) fn invalid_json(seq: usize) -> Response {
    let message = "We could not parse the JSON body of your request. (HINT: This likely means you \
        aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what \
        was sent was not valid JSON.)";
    error(
        StatusCode::BAD_REQUEST,
        seq,
        message,
        "invalid_request_error",
        Value::Null,
        Value::Null,
    )
}

fn missing(seq: usize, param: &str) -> Response {
    let message = format!("Missing required parameter: '{param}'.");
    error(
        StatusCode::BAD_REQUEST,
        seq,
        &message,
        "invalid_request_error",
        json!(param),
        json!("missing_required_parameter"),
    )
}

pub(crate) fn failure(failure: Failure, seq: usize) -> Response {
    match failure {
        Failure::RateLimited { retry_after_secs } => {
            let message =
                "Rate limit reached for requests per min (RPM): Limit 10000, Used 10000, \
                Requested 1. Please try again later.";
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                seq,
                message,
                "requests",
                Value::Null,
                json!("rate_limit_exceeded"),
            );
            let retry = HeaderValue::from_str(&retry_after_secs.to_string()).unwrap();
            response.headers_mut().insert("retry-after", retry);
            response.headers_mut().insert(
                "x-ratelimit-remaining-requests",
                HeaderValue::from_static("0"),
            );
            response
        }
        Failure::BadRequest => {
            let message = "Invalid 'messages': empty array. Expected an array with minimum length \
                1, but got an empty array instead.";
            error(
                StatusCode::BAD_REQUEST,
                seq,
                message,
                "invalid_request_error",
                json!("messages"),
                json!("empty_array"),
            )
        }
        Failure::ServerError => {
            let message =
                "The server had an error while processing your request. Sorry about that!";
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                seq,
                message,
                "server_error",
                Value::Null,
                Value::Null,
            )
        }
        Failure::Overloaded => {
            let message = "The engine is currently overloaded, please try again later";
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                seq,
                message,
                "server_error",
                Value::Null,
                Value::Null,
            )
        }
    }
}

pub(crate) fn answer(endpoint: Endpoint, request: &Value, call: &Call) -> Answer {
    if endpoint == Endpoint::Models {
        return Answer::Json(models());
    }
    let Some(model) = request["model"].as_str() else {
        return Answer::Refused(missing(call.seq, "model"));
    };
    match endpoint {
        Endpoint::Chat => chat(model, request, call),
        Endpoint::Responses => super::responses::answer(model, request, call),
        _ => embeddings(model, request, call.seq),
    }
}

fn models() -> Value {
    let data: Vec<Value> = [
        "gpt-4o-mini",
        "gpt-4o",
        "gpt-4.1",
        "gpt-5",
        "o4-mini",
        "text-embedding-3-small",
    ]
    .iter()
    .map(|id| json!({"id": id, "object": "model", "created": 1_721_172_741, "owned_by": "system"}))
    .collect();
    json!({"object": "list", "data": data})
}

/// The usage object of a chat completion.
fn usage(prompt: u64, cached: u64, completion: u64, reasoning: u64) -> Value {
    json!({
        "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0,
            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
    })
}

/// Words of the leading system/developer messages, counted as cached when seen before.
fn cached_prefix(messages: &[Value], call: &Call) -> u64 {
    let lead: Vec<&Value> = messages
        .iter()
        .take_while(|m| matches!(m["role"].as_str(), Some("system" | "developer")))
        .collect();
    let text: Vec<String> = lead.iter().map(|m| content_text(&m["content"])).collect();
    let count: u64 = lead.iter().map(|m| content_words(&m["content"])).sum();
    if count > 0 && call.cache_hit(format!("openai:{}", text.join("\n"))) {
        count
    } else {
        0
    }
}

struct Reply {
    message: Value,
    /// The deltas of a stream after the first (role) one.
    deltas: Vec<Value>,
    first: Value,
    finish: &'static str,
    completion: u64,
}

fn text_reply(limit: Option<u64>, reasoning: u64) -> Reply {
    let (words, cut) = answer_words(limit, reasoning);
    let text = words.join(" ");
    Reply {
        message: json!({"role": "assistant", "content": text, "refusal": null, "annotations": []}),
        deltas: chunks(&words)
            .into_iter()
            .map(|c| json!({"content": c}))
            .collect(),
        first: json!({"role": "assistant", "content": "", "refusal": null}),
        finish: if cut { "length" } else { "stop" },
        completion: words.len() as u64 + reasoning,
    }
}

fn tool_reply(tool: &Value, reasoning: u64) -> Reply {
    let name = tool["function"]["name"].as_str().unwrap_or("tool");
    let args = tool_arguments(&tool["function"]["parameters"]);
    let id = format!("call_{}", random_id(24));
    let call = json!({"id": id, "type": "function", "function": {"name": name, "arguments": args}});
    Reply {
        message: json!({"role": "assistant", "content": null, "tool_calls": [call], "refusal": null, "annotations": []}),
        first: json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": [
            {"index": 0, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]}),
        deltas: pieces(&args, 8)
            .into_iter()
            .map(|p| json!({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}))
            .collect(),
        finish: "tool_calls",
        completion: TOOL_CALL_TOKENS + reasoning,
    }
}

fn chat(model: &str, request: &Value, call: &Call) -> Answer {
    let Some(messages) = request["messages"].as_array() else {
        return Answer::Refused(missing(call.seq, "messages"));
    };
    let prompt: u64 = messages.iter().map(|m| content_words(&m["content"])).sum();
    let cached = cached_prefix(messages, call);
    let reasoning = reasoning_tokens(model);
    let limit = request["max_completion_tokens"]
        .as_u64()
        .or(request["max_tokens"].as_u64());
    let reply = match request["tools"].as_array().and_then(|t| t.first()) {
        Some(tool) => tool_reply(tool, reasoning),
        None => text_reply(limit, reasoning),
    };
    let usage = usage(prompt, cached, reply.completion, reasoning);
    let id = format!("chatcmpl-{}", random_id(29));
    let base = json!({"id": id, "created": now(), "model": model, "service_tier": "default",
        "system_fingerprint": "fp_fake0001"});
    if request["stream"] != json!(true) {
        let mut body = base;
        body["object"] = json!("chat.completion");
        body["choices"] = json!([{"index": 0, "message": reply.message, "logprobs": null,
            "finish_reason": reply.finish}]);
        body["usage"] = usage;
        return Answer::Json(body);
    }
    let options = &request["stream_options"];
    let include_usage = options["include_usage"] == json!(true);
    let obfuscate = options["include_obfuscation"] != json!(false);
    let chunk = |delta: Value, finish: Value, pad: usize| {
        let mut c = base.clone();
        c["object"] = json!("chat.completion.chunk");
        c["choices"] =
            json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]);
        if include_usage {
            c["usage"] = Value::Null;
        }
        if obfuscate {
            c["obfuscation"] = json!("x".repeat(1 + pad % 7));
        }
        data(&c)
    };
    let mut frames = vec![chunk(reply.first, Value::Null, 0)];
    for (i, delta) in reply.deltas.into_iter().enumerate() {
        frames.push(chunk(delta, Value::Null, i + 1));
    }
    frames.push(chunk(json!({}), json!(reply.finish), 0));
    if include_usage {
        let mut last = base.clone();
        last["object"] = json!("chat.completion.chunk");
        last["choices"] = json!([]);
        last["usage"] = usage;
        if obfuscate {
            last["obfuscation"] = json!("xyz");
        }
        frames.push(data(&last));
    }
    frames.push("data: [DONE]\n\n".to_owned());
    Answer::Stream(frames)
}

/// Embedding values that depend on the position only.
fn vector(index: usize, dims: usize) -> Vec<f32> {
    (0..dims).map(|j| ((index + j) % 7) as f32 / 7.0).collect()
}

fn embeddings(model: &str, request: &Value, seq: usize) -> Answer {
    let inputs: Vec<u64> = match &request["input"] {
        Value::String(text) => vec![words(text)],
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| match item {
                Value::String(text) => words(text),
                Value::Array(ids) => ids.len() as u64,
                _ => 1,
            })
            .collect(),
        Value::Null => return Answer::Refused(missing(seq, "input")),
        _ => {
            let message = "'$.input' is invalid. Please check the API reference.";
            return Answer::Refused(error(
                StatusCode::BAD_REQUEST,
                seq,
                message,
                "invalid_request_error",
                Value::Null,
                Value::Null,
            ));
        }
    };
    // A list of token ids is one input, not many.
    let inputs = if request["input"]
        .as_array()
        .is_some_and(|a| a.iter().all(Value::is_number))
    {
        vec![inputs.len() as u64]
    } else {
        inputs
    };
    let dims = request["dimensions"]
        .as_u64()
        .filter(|d| (1..=3072).contains(d))
        .unwrap_or(8) as usize;
    let base64 = request["encoding_format"] == json!("base64");
    let data: Vec<Value> = (0..inputs.len())
        .map(|i| {
            let values = vector(i, dims);
            let embedding = if base64 {
                let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(values)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let prompt: u64 = inputs.iter().sum();
    Answer::Json(json!({"object": "list", "data": data, "model": model,
        "usage": {"prompt_tokens": prompt, "total_tokens": prompt}}))
}
