//! The fake LLM providers' own promises, which the gateway tests rely on: the OpenAI usage chunk
//! comes only when `include_usage` was asked; a scripted drop really cuts the connection after
//! N events; delays space the events; wrong keys and scripted failures get the providers' real
//! status, headers and error bodies; the token counts follow the documented rules; every
//! request is recorded byte for byte.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::helpers::fake_llm::{
    parse_sse, tokens, Failure, FakeLlm, Script, SseEvent, ANSWER, ANTHROPIC_KEY, OPENAI_KEY,
    REASONING_TOKENS, TOOL_CALL_TOKENS,
};

const ANSWER_WORDS: u64 = 10;

async fn openai(fake: &FakeLlm, path: &str, key: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", fake.openai_base()))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn anthropic(fake: &FakeLlm, path: &str, key: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", fake.anthropic_base()))
        .header("x-api-key", key)
        .header("anthropic-version", "2023-06-01")
        .json(body)
        .send()
        .await
        .unwrap()
}

/// The events of a stream and whether its body ended cleanly.
async fn read_stream(response: reqwest::Response) -> (Vec<SseEvent>, bool) {
    let mut body = response.bytes_stream();
    let mut text = Vec::new();
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(bytes) => text.extend_from_slice(&bytes),
            Err(_) => return (parse_sse(&String::from_utf8_lossy(&text)), false),
        }
    }
    (parse_sse(&String::from_utf8_lossy(&text)), true)
}

fn chat(stream: bool, options: Value) -> Value {
    json!({"model": "gpt-4o-mini", "stream": stream, "stream_options": options, "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Say hello please"},
    ]})
}

fn chat_text(events: &[SseEvent]) -> String {
    events
        .iter()
        .filter(|e| e.data != "[DONE]")
        .filter_map(|e| {
            e.json()["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn the_usage_chunk_comes_last_and_only_when_include_usage_was_asked() {
    let fake = FakeLlm::start().await;
    let asked = openai(
        &fake,
        "/chat/completions",
        OPENAI_KEY,
        &chat(true, json!({"include_usage": true})),
    )
    .await;
    assert_eq!(
        asked.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    let (events, clean) = read_stream(asked).await;
    assert!(clean);
    assert_eq!(events.last().unwrap().data, "[DONE]");
    assert_eq!(chat_text(&events), ANSWER);
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(SseEvent::json)
        .collect();
    let (usage_chunk, others) = chunks.split_last().unwrap();
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(usage_chunk["usage"]["prompt_tokens"], 6);
    assert_eq!(usage_chunk["usage"]["completion_tokens"], ANSWER_WORDS);
    assert_eq!(usage_chunk["usage"]["total_tokens"], 6 + ANSWER_WORDS);
    assert!(others
        .iter()
        .all(|c| c["usage"].is_null() && c.get("usage").is_some()));
    assert_eq!(
        others.last().unwrap()["choices"][0]["finish_reason"],
        "stop"
    );

    for options in [json!(null), json!({"include_usage": false})] {
        let plain = openai(&fake, "/chat/completions", OPENAI_KEY, &chat(true, options)).await;
        let (events, clean) = read_stream(plain).await;
        assert!(clean);
        assert_eq!(chat_text(&events), ANSWER);
        assert!(
            events.iter().all(|e| !e.data.contains("\"usage\"")),
            "{events:?}"
        );
        assert_eq!(events.last().unwrap().data, "[DONE]");
    }
}

#[tokio::test]
async fn a_scripted_drop_cuts_the_connection_after_n_events() {
    let fake = FakeLlm::start().await;
    fake.script(Script::drop_after(3));
    let response = openai(
        &fake,
        "/chat/completions",
        OPENAI_KEY,
        &chat(true, json!({"include_usage": true})),
    )
    .await;
    assert_eq!(response.status(), 200);
    let (events, clean) = read_stream(response).await;
    assert!(!clean, "the body must fail, not end cleanly");
    assert_eq!(events.len(), 3);
    assert!(events
        .iter()
        .all(|e| e.data != "[DONE]" && !e.data.contains("prompt_tokens")));

    // The same through a magic model name, on the Anthropic side.
    let body = json!({"model": "fake-drop-2", "max_tokens": 50, "stream": true,
        "messages": [{"role": "user", "content": "hi"}]});
    let (events, clean) =
        read_stream(anthropic(&fake, "/v1/messages", ANTHROPIC_KEY, &body).await).await;
    assert!(!clean);
    let names: Vec<_> = events.iter().map(|e| e.event.clone().unwrap()).collect();
    assert_eq!(names, ["message_start", "content_block_start"]);

    // A plain answer is cut after its headers.
    fake.script(Script::drop_after(0));
    let plain = openai(
        &fake,
        "/chat/completions",
        OPENAI_KEY,
        &chat(false, json!(null)),
    )
    .await;
    assert_eq!(plain.status(), 200);
    assert!(plain.bytes().await.is_err());

    // A script is used once: the next stream is whole.
    let (events, clean) = read_stream(
        openai(
            &fake,
            "/chat/completions",
            OPENAI_KEY,
            &chat(true, json!(null)),
        )
        .await,
    )
    .await;
    assert!(clean);
    assert_eq!(chat_text(&events), ANSWER);
}

#[tokio::test]
async fn a_scripted_delay_holds_every_event() {
    let fake = FakeLlm::start().await;
    let each = Duration::from_millis(40);
    fake.script(Script::delay(each));
    let started = Instant::now();
    let response = openai(
        &fake,
        "/chat/completions",
        OPENAI_KEY,
        &chat(true, json!(null)),
    )
    .await;
    let mut body = response.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(
        started.elapsed() >= each,
        "first event after {:?}",
        started.elapsed()
    );
    assert!(String::from_utf8_lossy(&first).starts_with("data: {"));
    let mut frames = 1;
    while let Some(chunk) = body.next().await {
        frames += parse_sse(&String::from_utf8_lossy(&chunk.unwrap())).len();
    }
    assert_eq!(frames, 13); // role, ten words, finish, [DONE]
    assert!(started.elapsed() >= each * 13);
}

#[tokio::test]
async fn wrong_keys_get_the_providers_own_401() {
    let fake = FakeLlm::start().await;
    let wrong = "sk-wrong-key-that-is-long-9876";
    let response = openai(&fake, "/chat/completions", wrong, &chat(false, json!(null))).await;
    assert_eq!(response.status(), 401);
    assert!(response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .starts_with("req_"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_api_key");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("Incorrect API key provided: sk-*") && !message.contains(wrong));

    let body = json!({"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": []});
    let response = anthropic(&fake, "/v1/messages", "sk-ant-wrong", &body).await;
    assert_eq!(response.status(), 401);
    let request_id = response.headers()["request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "authentication_error");
    assert_eq!(body["request_id"], request_id);

    // The key as a bearer token is accepted, but anthropic-version is required.
    let response = reqwest::Client::new()
        .post(format!("{}/v1/messages", fake.anthropic_base()))
        .bearer_auth(ANTHROPIC_KEY)
        .json(&json!({"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "anthropic-version: header is required"
    );
}

#[tokio::test]
async fn scripted_failures_carry_the_providers_status_headers_and_body() {
    let fake = FakeLlm::start().await;
    fake.script(Script::fail(Failure::RateLimited {
        retry_after_secs: 7,
    }));
    fake.script(Script::fail(Failure::Overloaded));
    let response = openai(
        &fake,
        "/chat/completions",
        OPENAI_KEY,
        &chat(false, json!(null)),
    )
    .await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");

    let body = json!({"model": "claude-haiku-4-5", "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}]});
    let response = anthropic(&fake, "/v1/messages", ANTHROPIC_KEY, &body).await;
    assert_eq!(response.status(), 529);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "overloaded_error");
    let ok = anthropic(&fake, "/v1/messages", ANTHROPIC_KEY, &body).await;
    assert_eq!(ok.status(), 200);
    assert!(ok.headers()["request-id"]
        .to_str()
        .unwrap()
        .starts_with("req_"));
    assert!(ok
        .headers()
        .contains_key("anthropic-ratelimit-requests-remaining"));
}

#[tokio::test]
async fn an_in_stream_error_replaces_the_end_of_the_stream() {
    let fake = FakeLlm::start().await;
    fake.script(Script::stream_error_after(3));
    let body = json!({"model": "claude-haiku-4-5", "max_tokens": 50, "stream": true,
        "messages": [{"role": "user", "content": "hi"}]});
    let (events, clean) =
        read_stream(anthropic(&fake, "/v1/messages", ANTHROPIC_KEY, &body).await).await;
    assert!(clean);
    let names: Vec<_> = events.iter().map(|e| e.event.clone().unwrap()).collect();
    assert_eq!(
        names,
        ["message_start", "content_block_start", "ping", "error"]
    );
    assert_eq!(events[3].json()["error"]["type"], "overloaded_error");
}

#[tokio::test]
async fn openai_counts_cached_and_reasoning_tokens_by_the_documented_rules() {
    let fake = FakeLlm::start().await;
    let first: Value = openai(
        &fake,
        "/chat/completions",
        OPENAI_KEY,
        &chat(false, json!(null)),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(first["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    let again: Value = openai(
        &fake,
        "/chat/completions",
        OPENAI_KEY,
        &chat(false, json!(null)),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(again["usage"]["prompt_tokens"], 6);
    assert_eq!(again["usage"]["prompt_tokens_details"]["cached_tokens"], 3);
    assert_eq!(again["choices"][0]["message"]["content"], ANSWER);

    let mut reasoning = chat(false, json!(null));
    reasoning["model"] = json!("o4-mini");
    let body: Value = openai(&fake, "/chat/completions", OPENAI_KEY, &reasoning)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["usage"]["completion_tokens"],
        ANSWER_WORDS + REASONING_TOKENS
    );
    assert_eq!(
        body["usage"]["completion_tokens_details"]["reasoning_tokens"],
        REASONING_TOKENS
    );

    let mut tools = chat(false, json!(null));
    tools["tools"] = json!([{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    let body: Value = openai(&fake, "/chat/completions", OPENAI_KEY, &tools)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    let call = &body["choices"][0]["message"]["tool_calls"][0]["function"];
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["arguments"], r#"{"city":"Paris"}"#);
    assert_eq!(body["usage"]["completion_tokens"], TOOL_CALL_TOKENS);

    let mut short = chat(false, json!(null));
    short["max_completion_tokens"] = json!(4);
    let body: Value = openai(&fake, "/chat/completions", OPENAI_KEY, &short)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["choices"][0]["finish_reason"], "length");
    assert_eq!(body["usage"]["completion_tokens"], 4);
}

fn cached_messages(stream: bool) -> Value {
    json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "stream": stream,
        "system": [{"type": "text", "text": "one two three four",
                    "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "five six", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "seven"}]}]})
}

#[tokio::test]
async fn anthropic_writes_the_cache_once_then_reads_it_and_reports_cumulative_deltas() {
    let fake = FakeLlm::start().await;
    let (events, _) =
        read_stream(anthropic(&fake, "/v1/messages", ANTHROPIC_KEY, &cached_messages(true)).await)
            .await;
    let start = events[0].json()["message"]["usage"].clone();
    assert_eq!(start["input_tokens"], 1);
    assert_eq!(start["cache_creation_input_tokens"], 6);
    assert_eq!(
        start["cache_creation"],
        json!({"ephemeral_5m_input_tokens": 2, "ephemeral_1h_input_tokens": 4})
    );
    assert_eq!(start["cache_read_input_tokens"], 0);
    assert_eq!(start["output_tokens"], 1);
    let delta = events
        .iter()
        .find(|e| e.event.as_deref() == Some("message_delta"))
        .unwrap()
        .json();
    assert_eq!(delta["usage"]["output_tokens"], ANSWER_WORDS);
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(
        events.last().unwrap().event.as_deref(),
        Some("message_stop")
    );
    let text: String = events
        .iter()
        .filter_map(|e| e.json()["delta"]["text"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(text, ANSWER);

    let body: Value = anthropic(
        &fake,
        "/v1/messages",
        ANTHROPIC_KEY,
        &cached_messages(false),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["usage"]["cache_read_input_tokens"], 6);
    assert_eq!(body["usage"]["cache_creation_input_tokens"], 0);
    assert_eq!(body["usage"]["input_tokens"], 1);
    assert_eq!(body["content"][0]["text"], ANSWER);

    let count: Value = anthropic(
        &fake,
        "/v1/messages/count_tokens",
        ANTHROPIC_KEY,
        &cached_messages(false),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(count, json!({"input_tokens": 7}));
}

#[tokio::test]
async fn responses_streams_numbered_events_ending_in_completed_with_usage() {
    let fake = FakeLlm::start().await;
    let body =
        json!({"model": "gpt-5", "instructions": "Be brief.", "input": "Say hi", "stream": true});
    let (events, clean) = read_stream(openai(&fake, "/responses", OPENAI_KEY, &body).await).await;
    assert!(clean);
    for (i, event) in events.iter().enumerate() {
        let data = event.json();
        assert_eq!(data["sequence_number"], i);
        assert_eq!(event.event.as_deref(), data["type"].as_str());
    }
    assert_eq!(events[0].json()["response"]["usage"], Value::Null);
    let last = events.last().unwrap().json();
    assert_eq!(last["type"], "response.completed");
    let usage = &last["response"]["usage"];
    assert_eq!(usage["input_tokens"], 4);
    assert_eq!(usage["output_tokens"], ANSWER_WORDS + REASONING_TOKENS);
    assert_eq!(
        usage["output_tokens_details"]["reasoning_tokens"],
        REASONING_TOKENS
    );
    let text: String = events
        .iter()
        .filter(|e| e.event.as_deref() == Some("response.output_text.delta"))
        .map(|e| e.json()["delta"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(text, ANSWER);

    let cut = json!({"model": "gpt-4o", "input": "Say hi", "max_output_tokens": 2, "stream": true});
    let (events, _) = read_stream(openai(&fake, "/responses", OPENAI_KEY, &cut).await).await;
    let last = events.last().unwrap().json();
    assert_eq!(last["type"], "response.incomplete");
    assert_eq!(last["response"]["usage"]["output_tokens"], 2);
}

#[tokio::test]
async fn every_request_is_recorded_byte_for_byte() {
    let fake = FakeLlm::start().await;
    let raw = "{ \"model\" : \"text-embedding-3-small\",\n \"input\": [\"a b\", \"c\"] }";
    let response = reqwest::Client::new()
        .post(format!("{}/embeddings?trace=1", fake.openai_base()))
        .bearer_auth(OPENAI_KEY)
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 3, "total_tokens": 3})
    );
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    let models = reqwest::Client::new()
        .get(format!("{}/models", fake.openai_base()))
        .bearer_auth("sk-not-it")
        .send()
        .await
        .unwrap();
    assert_eq!(models.status(), 401);

    let recorded = fake.requests();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].method, "POST");
    assert_eq!(recorded[0].path, "/v1/embeddings");
    assert_eq!(recorded[0].query.as_deref(), Some("trace=1"));
    assert_eq!(recorded[0].body, raw.as_bytes());
    assert_eq!(
        recorded[0].header("authorization"),
        Some(format!("Bearer {OPENAI_KEY}").as_str())
    );
    assert_eq!(recorded[1].method, "GET");
    assert_eq!(recorded[1].json(), Value::Null);
    assert_eq!(tokens::words(ANSWER), ANSWER_WORDS);
}
