//! The metering gateway end to end, on both backends, against the fake providers: answers are
//! the provider's (status, body, request id), the caller's key never reaches the provider,
//! streams arrive chunk by chunk with usage read from them (and the usage chunk the client did
//! not ask for removed), every call is recorded once with its exact cost, whichever way it ends.

use std::time::Duration;

use serde_json::{json, Value};

use crate::gateway_harness::{key_with, Gateway};
use crate::helpers::fake_llm::{parse_sse, Failure, Script, ANSWER, ANTHROPIC_KEY, OPENAI_KEY};
use crate::helpers::Backend;
use crate::on_both_backends;

const PROMPT: &str = "Say hello to the team"; // 5 words: 5 input tokens at the fake.

fn chat(model: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": PROMPT}]})
}

async fn a_plain_call_is_the_providers_answer_and_is_priced_exactly(backend: Backend) {
    let g = Gateway::start(backend).await;
    let response = g
        .post("/v1/chat/completions", chat("gpt-4o-mini", false))
        .await;
    assert_eq!(response.status(), 200);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        request_id.starts_with("req_"),
        "the provider's id: {request_id}"
    );
    let ours = response.headers()["x-auditpulse-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], ANSWER);

    // The provider saw its own key, never the caller's, and the body as sent.
    let sent = &g.fake.requests()[0];
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {OPENAI_KEY}").as_str())
    );
    let all: String = sent
        .headers
        .iter()
        .map(|(_, v)| v.to_str().unwrap_or(""))
        .collect();
    assert!(
        !all.contains(&g.key[..12]),
        "the AuditPulse key reached the provider"
    );
    assert_eq!(sent.json(), chat("gpt-4o-mini", false));

    let calls = g.calls(1).await;
    let call = &calls[0];
    assert_eq!(call.id.as_uuid().simple().to_string(), ours);
    assert_eq!((call.usage.input, call.usage.output), (5, 10));
    // gpt-4o-mini: 5 x $0.15 + 10 x $0.60 per million = 0.75 + 6 micro-dollars.
    assert_eq!(call.cost_nanos, Some(6_750));
    assert_eq!(call.application.as_deref(), Some("support-bot"));
    assert_eq!(call.outcome.as_str(), "completed");
    assert!(!call.streamed);
    // The whole answer's own gateway time was observed once.
    let metrics = g.app.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l == "auditpulse_gateway_added_latency_seconds_count 1"),
        "{metrics}"
    );
}

async fn a_stream_is_relayed_with_usage_read_and_the_extra_chunk_removed(backend: Backend) {
    let g = Gateway::start(backend).await;
    let response = g
        .app
        .client
        .post(g.app.url("/v1/chat/completions"))
        .bearer_auth(&g.key)
        .header("x-auditpulse-project", "helpdesk")
        .json(&chat("gpt-4o-mini", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let text = response.text().await.unwrap();
    let events = parse_sse(&text);
    assert_eq!(events.last().unwrap().data, "[DONE]");
    let words: String = events
        .iter()
        .filter(|e| e.data != "[DONE]")
        .filter_map(|e| {
            e.json()["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(words, ANSWER);
    assert!(
        events
            .iter()
            .all(|e| e.data == "[DONE]" || e.json()["usage"].is_null()),
        "the client did not ask for usage, so it gets none: {text}"
    );
    // The gateway asked the provider for it.
    assert_eq!(
        g.fake.requests()[0].json()["stream_options"]["include_usage"],
        true
    );
    let call = &g.calls(1).await[0];
    assert_eq!((call.usage.input, call.usage.output), (5, 10));
    assert_eq!(call.cost_nanos, Some(6_750));
    assert_eq!(call.project.as_deref(), Some("helpdesk"));
    assert!(call.streamed && call.ttft_ms.is_some());

    // A client that asks for usage gets the chunk.
    let mut asked = chat("gpt-4o-mini", true);
    asked["stream_options"] = json!({"include_usage": true});
    let text = g
        .post("/v1/chat/completions", asked)
        .await
        .text()
        .await
        .unwrap();
    let usage: Vec<Value> = parse_sse(&text)
        .iter()
        .filter(|e| e.data != "[DONE]")
        .map(|e| e.json()["usage"].clone())
        .filter(|u| !u.is_null())
        .collect();
    assert_eq!(usage.len(), 1, "{text}");
    assert_eq!(usage[0]["prompt_tokens"], 5);
    g.calls(2).await;
}

async fn anthropic_streams_are_metered_with_either_key_header(backend: Backend) {
    let g = Gateway::start(backend).await;
    let body = json!({"model": "claude-3-5-haiku-20241022", "max_tokens": 100, "stream": true,
        "metadata": {"user_id": "user-7"},
        "messages": [{"role": "user", "content": PROMPT}]});
    let response = g
        .app
        .client
        .post(g.app.url("/v1/messages"))
        .header("x-api-key", &g.key)
        .header("anthropic-version", "2023-06-01")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("request-id"));
    let text = response.text().await.unwrap();
    let events = parse_sse(&text);
    assert_eq!(
        events.first().unwrap().event.as_deref(),
        Some("message_start")
    );
    assert_eq!(
        events.last().unwrap().event.as_deref(),
        Some("message_stop")
    );
    assert_eq!(
        g.fake.requests()[0].header("x-api-key"),
        Some(ANTHROPIC_KEY)
    );
    assert!(g.fake.requests()[0].header("authorization").is_none());
    let call = &g.calls(1).await[0];
    assert_eq!((call.usage.input, call.usage.output), (5, 10));
    // claude-3-5-haiku: 5 x $0.80 + 10 x $4 per million = 4 + 40 micro-dollars.
    assert_eq!(call.cost_nanos, Some(44_000));
    assert_eq!(call.user.as_deref(), Some("user-7"));
    assert_eq!(call.provider.as_str(), "anthropic");
}

async fn provider_errors_reach_the_client_unchanged_and_are_recorded(backend: Backend) {
    let g = Gateway::start(backend).await;
    g.fake.script(Script::fail(Failure::RateLimited {
        retry_after_secs: 7,
    }));
    let response = g
        .post("/v1/chat/completions", chat("gpt-4o-mini", false))
        .await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    assert!(response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .starts_with("req_"));
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["type"].is_string(),
        "OpenAI's own error body: {body}"
    );
    assert!(
        body["error"].get("request_id").is_none(),
        "not rewrapped: {body}"
    );
    let call = &g.calls(1).await[0];
    assert_eq!(call.outcome.as_str(), "provider_error");
    assert_eq!(call.http_status, Some(429));
    assert_eq!(call.cost_status.as_str(), "no_usage");
}

async fn broken_streams_and_departed_clients_keep_what_was_seen(backend: Backend) {
    let g = Gateway::start(backend).await;
    // The provider drops after its 4th event: recorded as an upstream failure.
    g.fake.script(Script::drop_after(4));
    let body = json!({"model": "claude-3-5-haiku-20241022", "max_tokens": 100, "stream": true,
        "messages": [{"role": "user", "content": PROMPT}]});
    let response = g.post("/v1/messages", body.clone()).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.text().await.is_err(),
        "the client sees the stream break off too"
    );
    let call = &g.calls(1).await[0];
    assert_eq!(call.outcome.as_str(), "upstream_failed");
    assert_eq!(
        call.usage.input, 5,
        "message_start's input tokens were seen"
    );
    assert!(call.error.is_some());

    // A client that leaves mid-stream: its tokens as far as seen.
    g.fake.script(Script::delay(Duration::from_millis(100)));
    let mut response = g.post("/v1/messages", body).await;
    let first = response.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("message_start"));
    drop(response);
    let calls = g.calls(2).await;
    assert_eq!(calls[0].outcome.as_str(), "client_disconnected");
    assert_eq!(calls[0].usage.input, 5);
}

async fn unknown_models_are_unpriced_and_bad_callers_reach_no_provider(backend: Backend) {
    let g = Gateway::start(backend).await;
    let response = g
        .post("/v1/chat/completions", chat("house-model-9", false))
        .await;
    assert_eq!(response.status(), 200);
    let call = &g.calls(1).await[0];
    assert_eq!(call.cost_status.as_str(), "unpriced");
    assert_eq!(call.cost_nanos, None, "never $0");
    assert_eq!(call.usage.input, 5);

    let before = g.fake.requests().len();
    let url = g.app.url("/v1/chat/completions");
    let none = g
        .app
        .client
        .post(&url)
        .json(&chat("gpt-4o-mini", false))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    let wrong = g
        .app
        .client
        .post(&url)
        .bearer_auth("ap_nope_nope")
        .json(&chat("gpt-4o-mini", false))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let read_only = key_with(&g.app, &g.admin, &["read"]).await;
    let refused = g
        .app
        .client
        .post(&url)
        .bearer_auth(&read_only)
        .json(&chat("gpt-4o-mini", false))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let garbage = g
        .app
        .client
        .post(&url)
        .bearer_auth(&g.key)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    assert_eq!(
        g.fake.requests().len(),
        before,
        "nothing reached the provider"
    );
}

on_both_backends!(
    a_plain_call_is_the_providers_answer_and_is_priced_exactly,
    a_stream_is_relayed_with_usage_read_and_the_extra_chunk_removed,
    anthropic_streams_are_metered_with_either_key_header,
    provider_errors_reach_the_client_unchanged_and_are_recorded,
    broken_streams_and_departed_clients_keep_what_was_seen,
    unknown_models_are_unpriced_and_bad_callers_reach_no_provider
);

/// A burst of calls answered just before shutdown: every one is stored, and is one spend event,
/// after the recorder drained (the SIGTERM path: server stops, then background tasks drain).
async fn a_burst_then_shutdown_loses_no_call(backend: Backend) {
    const CALLS: usize = 10_000;
    let g = Gateway::start(backend).await;
    let (client, url, key) = (
        g.app.client.clone(),
        g.app.url("/v1/chat/completions"),
        g.key.clone(),
    );
    let body = chat("gpt-4o-mini", false);
    let mut sent = 0;
    let mut inflight = tokio::task::JoinSet::new();
    while sent < CALLS || !inflight.is_empty() {
        while sent < CALLS && inflight.len() < 64 {
            let request = client.post(&url).bearer_auth(&key).json(&body);
            inflight.spawn(async move { request.send().await.map(|r| r.status().as_u16()) });
            sent += 1;
        }
        let status = inflight.join_next().await.unwrap().unwrap().unwrap();
        assert_eq!(status, 200);
    }
    let tenant = g.tenant;
    let db = g.app.stop_keeping_db().await;
    let store =
        auditpulse::app::connect(&auditpulse::config::DatabaseUrl::parse(&db.url).unwrap(), 2)
            .await
            .unwrap();
    let (mut calls, mut after) = (0, None);
    loop {
        let page = store
            .call_page(
                tenant,
                &auditpulse::gateway::calls::CallFilter::default(),
                after,
                1000,
            )
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(auditpulse::gateway::calls::CallCursor {
            started_at: last.started_at,
            id: last.id,
        });
        calls += page.iter().filter(|c| c.cost_nanos == Some(6_750)).count();
    }
    assert_eq!(calls, CALLS, "every call stored, priced");
    let spend = auditpulse::ledger::SpendFilter {
        source: Some(auditpulse::ledger::Source::Gateway),
        ..Default::default()
    };
    let (mut events, mut cursor) = (0, None);
    loop {
        let page = store
            .spend_page(tenant, &spend, cursor, 1000)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        cursor = Some(auditpulse::ledger::SpendCursor {
            booked_on: last.booked_on,
            occurred_at: last.occurred_at,
            id: last.id,
        });
        events += page.len();
    }
    assert_eq!(events, CALLS, "every call one spend event");
}

on_both_backends!(a_burst_then_shutdown_loses_no_call);
