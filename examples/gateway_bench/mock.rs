//! The mock upstream: a tiny OpenAI-compatible `POST /v1/chat/completions` that answers at once,
//! a fixed completion with its usage, or (with `"stream": true`) a few `data:` chunks, the usage
//! chunk when `stream_options.include_usage` is set, and `data: [DONE]`.
//!
//! The map: `serve` (the listener and its runtime), `chat` (one answer), `frames` (the streamed
//! answer, built once at start).
//!
//! Invariant: only a request with `Authorization: Bearer <the mock's key>` gets a completion, so a
//! gateway that did not swap the caller's AuditPulse key for the provider key shows as errors.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::ListenerExt;
use axum::Router;
use serde::Deserialize;

/// The answers, built once.
struct Mock {
    /// `Bearer <key>`: the only authorization accepted.
    authorization: String,
    plain: Bytes,
    stream: Vec<Bytes>,
    stream_with_usage: Vec<Bytes>,
}

/// What the mock reads from a request body.
#[derive(Deserialize)]
struct ChatRequest {
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    stream_options: Option<StreamOptions>,
}

#[derive(Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: bool,
}

const USAGE: &str = r#"{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}"#;
const MODEL: &str = "gpt-4o-mini-2024-07-18";
const ID: &str = "chatcmpl-bench0000000000000000000";

fn plain() -> Bytes {
    Bytes::from(format!(
        r#"{{"id":"{ID}","object":"chat.completion","created":1764633600,"model":"{MODEL}","choices":[{{"index":0,"message":{{"role":"assistant","content":"Hello from the mock upstream.","refusal":null}},"logprobs":null,"finish_reason":"stop"}}],"usage":{USAGE},"system_fingerprint":"fp_bench"}}"#
    ))
}

/// The streamed answer's SSE frames: a role chunk, three content chunks, the finish chunk, the
/// usage chunk (`choices: []`) when asked for, `[DONE]`. With `include_usage` every other chunk
/// carries `"usage":null`, as OpenAI sends it.
fn frames(include_usage: bool) -> Vec<Bytes> {
    let null_usage = if include_usage {
        r#","usage":null"#
    } else {
        ""
    };
    let chunk = |delta: &str, finish: &str| {
        Bytes::from(format!(
            "data: {{\"id\":\"{ID}\",\"object\":\"chat.completion.chunk\",\"created\":1764633600,\"model\":\"{MODEL}\",\"system_fingerprint\":\"fp_bench\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"logprobs\":null,\"finish_reason\":{finish}}}]{null_usage}}}\n\n"
        ))
    };
    let mut out = vec![chunk(
        r#"{"role":"assistant","content":"","refusal":null}"#,
        "null",
    )];
    for word in ["Hello", " from the", " mock upstream."] {
        out.push(chunk(&format!(r#"{{"content":"{word}"}}"#), "null"));
    }
    out.push(chunk("{}", r#""stop""#));
    if include_usage {
        out.push(Bytes::from(format!(
            "data: {{\"id\":\"{ID}\",\"object\":\"chat.completion.chunk\",\"created\":1764633600,\"model\":\"{MODEL}\",\"system_fingerprint\":\"fp_bench\",\"choices\":[],\"usage\":{USAGE}}}\n\n"
        )));
    }
    out.push(Bytes::from_static(b"data: [DONE]\n\n"));
    out
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = format!(r#"{{"error":{{"message":"{message}","type":"invalid_request_error"}}}}"#);
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn chat(State(mock): State<Arc<Mock>>, headers: HeaderMap, body: Bytes) -> Response {
    let authorized = headers
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v.as_bytes() == mock.authorization.as_bytes());
    if !authorized {
        return error(StatusCode::UNAUTHORIZED, "Incorrect API key provided");
    }
    let Ok(request) = serde_json::from_slice::<ChatRequest>(&body) else {
        return error(StatusCode::BAD_REQUEST, "the body is not a chat request");
    };
    if !request.stream {
        return (
            [(header::CONTENT_TYPE, "application/json")],
            mock.plain.clone(),
        )
            .into_response();
    }
    let include_usage = request.stream_options.is_some_and(|o| o.include_usage);
    let frames = if include_usage {
        mock.stream_with_usage.clone()
    } else {
        mock.stream.clone()
    };
    let body = Body::from_stream(futures_util::stream::iter(
        frames.into_iter().map(Ok::<_, Infallible>),
    ));
    (
        [
            (header::CONTENT_TYPE, "text/event-stream; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// Serves the mock on `listen` with `threads` runtime workers until killed; prints
/// `listening <address>` once bound.
pub fn serve(listen: SocketAddr, threads: usize, key: &str) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    let mock = Arc::new(Mock {
        authorization: format!("Bearer {key}"),
        plain: plain(),
        stream: frames(false),
        stream_with_usage: frames(true),
    });
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let bound = listener.local_addr()?;
        println!("listening {bound}");
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .with_state(mock);
        axum::serve(listener, app).await.context("the mock stopped")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usage_chunk_comes_only_when_asked_for_and_last_before_done() {
        let with = frames(true);
        let without = frames(false);
        assert_eq!(with.len(), without.len() + 1);
        assert!(
            with[with.len() - 2].starts_with(b"data: {")
                && with[with.len() - 2].ends_with(b"}\n\n")
        );
        let usage_chunk = std::str::from_utf8(&with[with.len() - 2]).unwrap_or_default();
        assert!(
            usage_chunk.contains(r#""choices":[]"#) && usage_chunk.contains(r#""total_tokens":17"#)
        );
        assert!(without
            .iter()
            .all(|f| !f.windows(7).any(|w| w == b"\"usage\"")));
        for f in with
            .iter()
            .chain(&without)
            .filter(|f| f.as_ref() != b"data: [DONE]\n\n")
        {
            let json = &f[6..f.len() - 2];
            assert!(
                serde_json::from_slice::<serde_json::Value>(json).is_ok(),
                "{f:?}"
            );
        }
        assert!(serde_json::from_slice::<serde_json::Value>(&plain()).is_ok());
    }
}
