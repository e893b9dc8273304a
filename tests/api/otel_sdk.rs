//! The OpenTelemetry Python SDK (`tests/sdk/otel_sdk.py`) exporting GenAI spans of each
//! convention to `POST /v1/traces` with its OTLP/HTTP protobuf exporter, gzip on: every LLM span
//! becomes a call priced exactly, the plain span is ignored, the exporter's retry stores nothing
//! new, and a wrong key is a failure the exporter reports.

use serde_json::{json, Value};

use crate::fake_llm_sdk::{run_sdk, sdk_python};
use crate::gateway_harness::{key_with, Gateway};
use crate::helpers::Backend;
use crate::on_both_backends;

async fn the_opentelemetry_sdk_exports_priced_llm_calls(backend: Backend) {
    let Some(python) = sdk_python() else { return };
    let g = Gateway::start(backend).await;
    let key = key_with(&g.app, &g.admin, &["ingest:write"]).await;
    let env = vec![
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            g.app.url("/v1/traces"),
        ),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            format!("Authorization=Bearer%20{key}"),
        ),
    ];
    let summary = run_sdk(&python, "otel_sdk.py", env).await;
    assert_eq!(summary["failures"], json!({}), "{summary}");

    let response = g
        .app
        .get_as(&g.admin, "/api/v1/llm/calls?source=otlp")
        .await;
    let body: Value = response.json().await.unwrap();
    let mut calls: Vec<(String, String, String)> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["provider"].as_str().unwrap().to_owned(),
                c["model_requested"]
                    .as_str()
                    .or(c["model_answered"].as_str())
                    .unwrap()
                    .to_owned(),
                c["cost"].as_str().unwrap_or("unpriced").to_owned(),
            )
        })
        .collect();
    calls.sort();
    // gpt-4o-mini $0.15/$0.075 cached/$0.60 per million; claude-3-5-haiku $0.80/$4.
    assert_eq!(
        calls,
        [
            (
                "anthropic".into(),
                "claude-3-5-haiku-20241022".into(),
                "0.002000000".into()
            ),
            ("openai".into(), "gpt-4o-mini".into(), "0.000003900".into()),
            ("openai".into(), "gpt-4o-mini".into(), "0.000021000".into()),
            ("openai".into(), "gpt-4o-mini".into(), "0.000240000".into()),
        ],
        "{body}"
    );
    let usage: Value = g
        .app
        .get_as(&g.admin, "/api/v1/llm/usage")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(usage["totals"]["calls"], 4, "the retry added nothing");
    assert_eq!(usage["totals"]["cost"], "0.002264900");
}

on_both_backends!(the_opentelemetry_sdk_exports_priced_llm_calls);
