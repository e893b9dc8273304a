//! Delivery of an answer as the script says: a JSON body, or a `text/event-stream` body written
//! frame by frame (each frame its own chunk, so a client sees events as they come), with a delay
//! before each frame, a connection cut after N frames, or the provider's in-stream error event.
//! Also [`parse_sse`], the tests' reader of what the fake sent.
//!
//! Invariant: a dropped stream really ends the TCP connection without a clean end of body (the
//! client gets a protocol error, never a well-formed short stream), and every frame sent before
//! the cut reaches the client first.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::{json, Value};

use super::{json_response, random_id, Answer, End, Script};

/// Lets hyper flush what was written before the body fails, so the cut comes after those frames.
const FLUSH_BEFORE_CUT: Duration = Duration::from_millis(30);

pub(crate) fn respond(
    answer: Answer,
    script: &Script,
    headers: HeaderMap,
    anthropic: bool,
) -> Response {
    match answer {
        Answer::Refused(response) => response,
        Answer::Json(body) => match script.end {
            End::Complete | End::ErrorAfter(_) if script.delay.is_zero() => {
                json_response(StatusCode::OK, headers, &body)
            }
            End::Complete | End::ErrorAfter(_) => {
                let body = Bytes::from(body.to_string());
                deliver(vec![Ok(body)], script.delay, headers, "application/json")
            }
            End::DropAfter(_) => {
                deliver(vec![Err(cut())], script.delay, headers, "application/json")
            }
        },
        Answer::Stream(mut frames) => {
            let mut tail = None;
            match script.end {
                End::Complete => {}
                End::DropAfter(n) => {
                    frames.truncate(n);
                    tail = Some(Err(cut()));
                }
                End::ErrorAfter(n) => {
                    frames.truncate(n);
                    frames.push(error_frame(anthropic));
                }
            }
            let items = frames
                .into_iter()
                .map(|f| Ok(Bytes::from(f)))
                .chain(tail)
                .collect();
            deliver(
                items,
                script.delay,
                headers,
                "text/event-stream; charset=utf-8",
            )
        }
    }
}

fn cut() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "scripted drop")
}

fn deliver(
    items: Vec<Result<Bytes, std::io::Error>>,
    delay: Duration,
    mut headers: HeaderMap,
    content_type: &'static str,
) -> Response {
    let body = futures_util::stream::iter(items).then(move |item| async move {
        let pause = if item.is_ok() {
            delay
        } else {
            FLUSH_BEFORE_CUT
        };
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        item
    });
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if content_type.starts_with("text/event-stream") {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    let mut response = Response::new(Body::from_stream(body));
    *response.headers_mut() = headers;
    response
}

/// The provider's error event in a stream that had begun well.
fn error_frame(anthropic: bool) -> String {
    if anthropic {
        let data = json!({
            "type": "error",
            "error": {"type": "overloaded_error", "message": "Overloaded"},
            "request_id": format!("req_011C{}", random_id(20)),
        });
        format!("event: error\ndata: {data}\n\n")
    } else {
        let data = json!({"error": {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error", "param": null, "code": null,
        }});
        format!("data: {data}\n\n")
    }
}

/// A frame `event: NAME\ndata: JSON\n\n` (Anthropic, OpenAI Responses).
pub(crate) fn named(event: &str, data: &Value) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

/// A frame `data: JSON\n\n` (OpenAI chat completions).
pub(crate) fn data(data: &Value) -> String {
    format!("data: {data}\n\n")
}

/// One parsed server-sent event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

impl SseEvent {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or(Value::Null)
    }
}

/// The complete events in `text` (LF framing, as the fake writes it); a trailing partial event
/// is left out.
pub fn parse_sse(text: &str) -> Vec<SseEvent> {
    let mut events = Vec::new();
    let mut rest = text;
    while let Some(end) = rest.find("\n\n") {
        let (block, after) = rest.split_at(end);
        rest = &after[2..];
        let mut event = None;
        let mut data = Vec::new();
        for line in block.lines() {
            if let Some(name) = line.strip_prefix("event:") {
                event = Some(name.trim_start().to_owned());
            } else if let Some(value) = line.strip_prefix("data:") {
                data.push(value.strip_prefix(' ').unwrap_or(value));
            }
        }
        if event.is_some() || !data.is_empty() {
            events.push(SseEvent {
                event,
                data: data.join("\n"),
            });
        }
    }
    events
}
