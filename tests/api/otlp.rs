//! `POST /v1/traces` end to end, on both backends: protobuf and JSON (gzip too) exports become
//! priced LLM calls attributed from the spans and their resource; spans without an LLM call are
//! ignored and unusable ones reported in `partial_success`; a retried export adds nothing; a span
//! of a call the gateway relayed is linked to it, not counted twice; bad requests hear OTLP's
//! status codes with a `Status` body, and none of them stores anything.

use std::io::Write;

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value::Value as Any, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde_json::{json, Value};

use crate::gateway_harness::{key_with, Gateway};
use crate::helpers::Backend;
use crate::on_both_backends;

fn kv(key: &str, value: Any) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn text(key: &str, v: &str) -> KeyValue {
    kv(key, Any::StringValue(v.into()))
}

fn int(key: &str, v: i64) -> KeyValue {
    kv(key, Any::IntValue(v))
}

/// A gpt-4o-mini chat span: 1,000 input tokens of which 400 cached, 200 output, i.e.
/// 600 x $0.15 + 400 x $0.075 + 200 x $0.60 per million = 240 micro-dollars.
fn llm_span(span_id: u8, response_id: &str) -> Span {
    Span {
        trace_id: vec![0xab; 16],
        span_id: vec![span_id; 8],
        name: "chat gpt-4o-mini".into(),
        start_time_unix_nano: 1_796_378_400_000_000_000,
        end_time_unix_nano: 1_796_378_401_250_000_000,
        attributes: vec![
            text("gen_ai.provider.name", "openai"),
            text("gen_ai.operation.name", "chat"),
            text("gen_ai.request.model", "gpt-4o-mini"),
            text("gen_ai.response.id", response_id),
            int("gen_ai.usage.input_tokens", 1_000),
            int("gen_ai.usage.cache_read.input_tokens", 400),
            int("gen_ai.usage.output_tokens", 200),
            text("user.id", "u-42"),
        ],
        ..Default::default()
    }
}

fn export(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![text("service.name", "support-bot")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

async fn send(
    g: &Gateway,
    key: Option<&str>,
    content_type: &str,
    gzip: bool,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = g
        .app
        .client
        .post(g.app.url("/v1/traces"))
        .header("content-type", content_type);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let body = if gzip {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&body).unwrap();
        request = request.header("content-encoding", "gzip");
        enc.finish().unwrap()
    } else {
        body
    };
    request.body(body).send().await.unwrap()
}

async fn protobuf(
    g: &Gateway,
    key: &str,
    request: &ExportTraceServiceRequest,
) -> ExportTraceServiceResponse {
    let response = send(
        g,
        Some(key),
        "application/x-protobuf",
        false,
        request.encode_to_vec(),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-protobuf");
    ExportTraceServiceResponse::decode(response.bytes().await.unwrap()).unwrap()
}

async fn calls(g: &Gateway, query: &str) -> Vec<Value> {
    let response = g
        .app
        .get_as(&g.admin, &format!("/api/v1/llm/calls{query}"))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

async fn usage_total(g: &Gateway) -> (i64, String) {
    let response = g.app.get_as(&g.admin, "/api/v1/llm/usage").await;
    let body: Value = response.json().await.unwrap();
    let total = &body["totals"];
    (
        total["calls"].as_i64().unwrap(),
        total["cost"].as_str().unwrap_or("").to_owned(),
    )
}

async fn exports_become_priced_calls_once(backend: Backend) {
    let g = Gateway::start(backend).await;
    let key = key_with(&g.app, &g.admin, &["ingest:write"]).await;
    let http_span = Span {
        span_id: vec![2; 8],
        attributes: vec![text("http.request.method", "POST")],
        ..llm_span(2, "unused")
    };
    let mut bedrock = llm_span(3, "unused");
    bedrock.attributes[0] = text("gen_ai.provider.name", "aws.bedrock");
    let request = export(vec![llm_span(1, "chatcmpl-otlp-1"), http_span, bedrock]);

    let answer = protobuf(&g, &key, &request).await;
    let partial = answer.partial_success.expect("one span was rejected");
    assert_eq!(partial.rejected_spans, 1);
    assert!(
        partial.error_message.contains("aws.bedrock"),
        "{}",
        partial.error_message
    );

    let listed = calls(&g, "?source=otlp").await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let call = &listed[0];
    assert_eq!(call["source"], "otlp");
    assert_eq!(call["provider"], "openai");
    assert_eq!(call["model_requested"], "gpt-4o-mini");
    assert_eq!(call["cost"], "0.000240000");
    assert_eq!(call["application"], "support-bot");
    assert_eq!(call["user"], "u-42");
    assert_eq!(call["response_id"], "chatcmpl-otlp-1");
    assert_eq!(call["started_at"], "2026-12-04T10:00:00Z");
    assert_eq!(call["latency_ms"], 1250.0);

    // The exporter's retry, and the same span as gzipped JSON, add nothing.
    protobuf(&g, &key, &request).await;
    let json_body = serde_json::to_vec(&request).unwrap();
    let response = send(&g, Some(&key), "application/json", true, json_body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["partialSuccess"]["rejectedSpans"], "1");
    assert_eq!(calls(&g, "").await.len(), 1);
    assert_eq!(usage_total(&g).await, (1, "0.000240000".to_owned()));

    let metrics = g.app.metrics().await;
    for line in [
        r#"auditpulse_otlp_spans_total{outcome="call"} 3"#,
        r#"auditpulse_otlp_spans_total{outcome="ignored"} 3"#,
        r#"auditpulse_otlp_spans_total{outcome="rejected"} 3"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }
}

async fn a_span_of_a_gateway_call_is_linked_to_it(backend: Backend) {
    let g = Gateway::start(backend).await;
    let key = key_with(&g.app, &g.admin, &["ingest:write"]).await;
    let body = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello to the team"}]});
    assert_eq!(g.post("/v1/chat/completions", body).await.status(), 200);
    let relayed = g.calls(1).await.remove(0);
    let response_id = relayed
        .response_id
        .clone()
        .expect("the fake names its answers");

    let answer = protobuf(&g, &key, &export(vec![llm_span(9, &response_id)])).await;
    assert_eq!(answer.partial_success, None);
    let spans = calls(&g, "?source=otlp").await;
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0]["linked_call_id"], relayed.id.to_string());
    // Usage counts the gateway's call only, at the gateway's price.
    let (count, cost) = usage_total(&g).await;
    assert_eq!(count, 1);
    assert_eq!(cost, relayed.cost.clone().unwrap());
}

async fn bad_exports_hear_otlp_status_codes_and_store_nothing(backend: Backend) {
    let g = Gateway::start(backend).await;
    let key = key_with(&g.app, &g.admin, &["ingest:write"]).await;
    let good = export(vec![llm_span(1, "chatcmpl-x")]).encode_to_vec();
    let status_of = |bytes: &[u8]| {
        // google.rpc.Status: code (1), message (2).
        #[derive(Clone, PartialEq, prost::Message)]
        struct Status {
            #[prost(int32, tag = "1")]
            code: i32,
            #[prost(string, tag = "2")]
            message: String,
        }
        Status::decode(bytes)
            .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(bytes)))
            .message
    };

    let response = send(&g, None, "application/x-protobuf", false, good.clone()).await;
    assert_eq!(response.status(), 401);
    assert!(status_of(&response.bytes().await.unwrap()).contains("ingest:write"));
    let response = send(
        &g,
        Some(&g.key),
        "application/x-protobuf",
        false,
        good.clone(),
    )
    .await;
    assert_eq!(response.status(), 403, "a gateway:use key cannot ingest");
    let response = send(&g, Some(&key), "text/plain", false, good.clone()).await;
    assert_eq!(response.status(), 415);
    let response = send(
        &g,
        Some(&key),
        "application/x-protobuf",
        false,
        b"\xff\xff\xff".to_vec(),
    )
    .await;
    assert_eq!(response.status(), 400);
    let response = send(
        &g,
        Some(&key),
        "application/json",
        false,
        b"{\"resource_spans\":[{}]}".to_vec(),
    )
    .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("resource_spans"),
        "{body}"
    );
    let huge = vec![0u8; 9 << 20];
    let response = send(&g, Some(&key), "application/x-protobuf", false, huge).await;
    assert_eq!(response.status(), 413);
    let bomb = vec![0u8; 40 << 20];
    let response = send(&g, Some(&key), "application/x-protobuf", true, bomb).await;
    assert_eq!(response.status(), 413);
    assert!(calls(&g, "").await.is_empty(), "nothing was stored");
}

on_both_backends!(
    exports_become_priced_calls_once,
    a_span_of_a_gateway_call_is_linked_to_it,
    bad_exports_hear_otlp_status_codes_and_store_nothing,
);
