//! A fake OpenAI and a fake Anthropic in one real HTTP server on 127.0.0.1:0 in the test process,
//! speaking their wire formats (JSON bodies, server-sent-event streams, error bodies, auth and
//! response headers) closely enough that the official Python SDKs accept it
//! (`tests/api/fake_llm_sdk.rs` proves it). It knows nothing of AuditPulse's gateway: it is the
//! independent check of the wire format the gateway meters.
//!
//! The map:
//! - `mod.rs`: [`FakeLlm`] (start, script, recorded requests), routing, auth, the plan of a call.
//! - `tokens.rs`: the deterministic token counts, so a test can compute the expected cost.
//! - `stream.rs`: turns an answer into a response: JSON, or SSE frames with delays, drops and
//!   in-stream errors.
//! - `openai.rs`: `/v1/chat/completions`, `/v1/embeddings`, `/v1/models`, OpenAI's auth,
//!   errors and headers; `responses.rs`: `/v1/responses`.
//! - `anthropic.rs`: `/v1/messages`, `/v1/messages/count_tokens`.
//!
//! Base URLs: OpenAI SDKs take [`FakeLlm::openai_base`] (with `/v1`), Anthropic SDKs
//! [`FakeLlm::anthropic_base`] (without). Auth: OpenAI wants `Authorization: Bearer OPENAI_KEY`;
//! Anthropic wants `anthropic-version` and [`ANTHROPIC_KEY`] in `x-api-key` or (as current SDKs
//! send it) `Authorization: Bearer`. A wrong key gets the provider's real 401 body.
//!
//! Behaviour switches, consumed one per authenticated request in order:
//! - [`FakeLlm::script`] with a [`Script`]: fail with a provider error ([`Failure`]), end the
//!   connection abruptly after N stream events, send the provider's in-stream error after N
//!   events, wait before each event.
//! - Magic model names, for clients outside the test process (the SDK scripts, or the gateway in
//!   between): `fake-fail-429`, `fake-fail-400`, `fake-fail-500`, `fake-fail-529` (Anthropic
//!   overloaded, OpenAI 503), `fake-drop-N` (drop after N events), `fake-error-N` (in-stream
//!   error after N events), `fake-delay-MS` (MS milliseconds before each event). A queued script
//!   wins over the model name.
//!
//! Token counts: see `tokens.rs`; in short, input tokens are the words of the request's texts,
//! the answer is [`ANSWER`] (one word per stream chunk, one token per word), reasoning models
//! (`o1`/`o3`/`o4*`, `gpt-5*`) add [`REASONING_TOKENS`], a tool call costs [`TOOL_CALL_TOKENS`],
//! and prompt caching is remembered per fake: a cacheable prefix seen before is read from cache.
//!
//! Invariant: every request is recorded (method, path, headers, raw body bytes) before anything
//! else happens, and the final usage of a stream is only sent when the stream completes; a stream
//! that is dropped or errors carries no usage beyond what its first events said.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{json, Map, Value};

mod anthropic;
mod openai;
mod responses;
mod stream;
pub mod tokens;

pub use stream::{parse_sse, SseEvent};

/// The OpenAI API key the fake accepts.
pub const OPENAI_KEY: &str = "sk-fake-openai-0123456789abcdef";
/// The Anthropic API key the fake accepts.
pub const ANTHROPIC_KEY: &str = "sk-ant-fake-0123456789abcdef";
/// Every text answer: one stream chunk and one output token per word.
pub const ANSWER: &str = "Hello from the fake provider, one word at a time.";
/// Reasoning tokens a reasoning model spends on every answer (OpenAI).
pub const REASONING_TOKENS: u64 = 32;
/// Output tokens of a tool call answer, whatever its arguments.
pub const TOOL_CALL_TOKENS: u64 = 12;

/// A provider error answered instead of the real response (the provider's own status and body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// 429 with `retry-after` in seconds.
    RateLimited { retry_after_secs: u64 },
    /// 400, an invalid request.
    BadRequest,
    /// 500.
    ServerError,
    /// Anthropic 529 `overloaded_error`; OpenAI 503.
    Overloaded,
}

/// How the fake answers one request. Built with the constructors, combined with `with_delay`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    fail: Option<Failure>,
    end: End,
    delay: Duration,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum End {
    #[default]
    Complete,
    /// The connection is cut after this many events (a plain answer: after the headers).
    DropAfter(usize),
    /// The provider's in-stream error event follows this many events, then the stream ends.
    ErrorAfter(usize),
}

impl Script {
    pub fn fail(failure: Failure) -> Self {
        Script {
            fail: Some(failure),
            ..Self::default()
        }
    }

    /// Streams `events` SSE events, then cuts the connection (no final chunk, no `[DONE]`).
    pub fn drop_after(events: usize) -> Self {
        Script {
            end: End::DropAfter(events),
            ..Self::default()
        }
    }

    /// Streams `events` SSE events, then the provider's in-stream error event, then ends.
    pub fn stream_error_after(events: usize) -> Self {
        Script {
            end: End::ErrorAfter(events),
            ..Self::default()
        }
    }

    /// Waits `each` before every stream event (the first included), or before a plain answer.
    pub fn delay(each: Duration) -> Self {
        Self::default().with_delay(each)
    }

    pub fn with_delay(mut self, each: Duration) -> Self {
        self.delay = each;
        self
    }

    /// The script a magic model name asks for (see the module doc).
    fn from_model(model: &str) -> Option<Self> {
        let rest = model.strip_prefix("fake-")?;
        let (verb, arg) = rest.split_once('-')?;
        let n: u64 = arg.parse().ok().filter(|n| *n <= 100_000)?;
        Some(match (verb, n) {
            ("fail", 429) => Self::fail(Failure::RateLimited {
                retry_after_secs: 1,
            }),
            ("fail", 400) => Self::fail(Failure::BadRequest),
            ("fail", 500) => Self::fail(Failure::ServerError),
            ("fail", 529) => Self::fail(Failure::Overloaded),
            ("drop", n) => Self::drop_after(n as usize),
            ("error", n) => Self::stream_error_after(n as usize),
            ("delay", ms) => Self::delay(Duration::from_millis(ms.min(10_000))),
            _ => return None,
        })
    }
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    /// The body's bytes exactly as received.
    pub body: Bytes,
}

impl Recorded {
    /// The body as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Default)]
struct Inner {
    requests: Vec<Recorded>,
    scripts: VecDeque<Script>,
    /// Cacheable prompt prefixes seen so far (provider-tagged), for cache reads.
    cached: HashSet<String>,
}

#[derive(Clone, Default)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
}

impl Shared {
    /// Whether `prefix` was cached before; caches it from now on.
    fn cache_hit(&self, prefix: String) -> bool {
        !self.inner.lock().unwrap().cached.insert(prefix)
    }
}

pub struct FakeLlm {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    shared: Shared,
    _server: tokio::task::JoinHandle<()>,
}

impl FakeLlm {
    pub async fn start() -> Self {
        let shared = Shared::default();
        let router = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        FakeLlm {
            url,
            shared,
            _server: server,
        }
    }

    /// The base URL an OpenAI SDK takes (`OPENAI_BASE_URL`).
    pub fn openai_base(&self) -> String {
        format!("{}/v1", self.url)
    }

    /// The base URL an Anthropic SDK takes (`ANTHROPIC_BASE_URL`).
    pub fn anthropic_base(&self) -> String {
        self.url.clone()
    }

    /// Queues how the next authenticated request not yet scripted is answered.
    pub fn script(&self, script: Script) {
        self.shared.inner.lock().unwrap().scripts.push_back(script);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.inner.lock().unwrap().requests.clone()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Chat,
    Responses,
    Embeddings,
    Models,
    Messages,
    CountTokens,
}

impl Endpoint {
    fn of(method: &Method, path: &str) -> Option<Self> {
        let endpoint = match path.trim_end_matches('/') {
            "/v1/chat/completions" => Endpoint::Chat,
            "/v1/responses" => Endpoint::Responses,
            "/v1/embeddings" => Endpoint::Embeddings,
            "/v1/models" => return (method == Method::GET).then_some(Endpoint::Models),
            "/v1/messages" => Endpoint::Messages,
            "/v1/messages/count_tokens" => Endpoint::CountTokens,
            _ => return None,
        };
        (method == Method::POST).then_some(endpoint)
    }

    fn anthropic(self) -> bool {
        matches!(self, Endpoint::Messages | Endpoint::CountTokens)
    }
}

/// What an endpoint answers, before the script shapes its delivery.
pub(crate) enum Answer {
    Json(Value),
    /// Complete SSE frames (`event: ...\ndata: ...\n\n` or `data: ...\n\n`).
    Stream(Vec<String>),
    /// The provider's refusal of the request (an error response), sent as it is.
    Refused(Response),
}

/// What one call needs from the fake: its number (for ids and rate-limit headers) and the cache.
pub(crate) struct Call<'a> {
    pub seq: usize,
    shared: &'a Shared,
}

impl Call<'_> {
    pub fn cache_hit(&self, prefix: String) -> bool {
        self.shared.cache_hit(prefix)
    }
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seq = {
        let mut inner = shared.inner.lock().unwrap();
        inner.requests.push(Recorded {
            method: method.clone(),
            path: uri.path().to_owned(),
            query: uri.query().map(str::to_owned),
            headers: headers.clone(),
            body: body.clone(),
        });
        inner.requests.len()
    };
    let Some(endpoint) = Endpoint::of(&method, uri.path()) else {
        return openai::not_found(&method, uri.path(), seq);
    };
    let anthropic = endpoint.anthropic();
    let denied = if anthropic {
        anthropic::authorize(&headers, seq)
    } else {
        openai::authorize(&headers, seq)
    };
    if let Some(response) = denied {
        return response;
    }
    let request: Value = if method == Method::GET {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(value @ Value::Object(_)) => value,
            _ if anthropic => return anthropic::invalid_json(seq),
            _ => return openai::invalid_json(seq),
        }
    };
    let script = {
        let queued = shared.inner.lock().unwrap().scripts.pop_front();
        queued
            .or_else(|| request["model"].as_str().and_then(Script::from_model))
            .unwrap_or_default()
    };
    let call = Call {
        seq,
        shared: &shared,
    };
    if anthropic {
        if let Some(failure) = script.fail {
            return anthropic::failure(failure, seq);
        }
        let answer = anthropic::answer(endpoint, &request, &call);
        stream::respond(answer, &script, anthropic::headers(seq), true)
    } else {
        if let Some(failure) = script.fail {
            return openai::failure(failure, seq);
        }
        let answer = openai::answer(endpoint, &request, &call);
        stream::respond(answer, &script, openai::headers(seq), false)
    }
}

/// A JSON response with the provider's headers.
pub(crate) fn json_response(status: StatusCode, mut headers: HeaderMap, body: &Value) -> Response {
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    let mut response = Response::new(axum::body::Body::from(body.to_string()));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// Arguments for a function from its JSON schema: every property, with a value of its type.
pub(crate) fn tool_arguments(parameters: &Value) -> String {
    let mut args = Map::new();
    if let Some(props) = parameters["properties"].as_object() {
        for (name, schema) in props {
            let value = match schema["type"].as_str() {
                Some("string") => json!("Paris"),
                Some("integer" | "number") => json!(1),
                Some("boolean") => json!(true),
                Some("array") => json!([]),
                Some("object") => json!({}),
                _ => Value::Null,
            };
            args.insert(name.clone(), value);
        }
    }
    Value::Object(args).to_string()
}

/// `text` in pieces of at most `size` characters (tool arguments streamed in parts).
pub(crate) fn pieces(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(size.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

/// `len` random characters from `[A-Za-z0-9]`, for ids.
pub(crate) fn random_id(len: usize) -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), len)
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
