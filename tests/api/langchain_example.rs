//! The LangChain example (`examples/langchain_otlp/app.py`) run as a user would: LangChain's
//! OpenAI chat model calls the fake OpenAI directly, OpenInference's instrumentation and the
//! OpenTelemetry SDK export the spans to AuditPulse, and the call is stored priced from them
//! (the chain's own span ignored). The python comes from `AUDITPULSE_TEST_LANGCHAIN_PYTHON`
//! (a venv made by `tests/sdk/setup.sh examples/langchain_otlp/requirements.txt ...`); on CI its
//! absence fails the test.

use serde_json::Value;

use crate::fake_llm_sdk::run_sdk;
use crate::gateway_harness::{key_with, Gateway};
use crate::helpers::fake_llm::OPENAI_KEY;
use crate::helpers::Backend;

fn langchain_python() -> Option<String> {
    match std::env::var("AUDITPULSE_TEST_LANGCHAIN_PYTHON") {
        Ok(python) if !python.is_empty() => Some(python),
        _ if std::env::var_os("CI").is_some() => {
            panic!(
                "AUDITPULSE_TEST_LANGCHAIN_PYTHON is not set on CI (a skipped check is not a pass)"
            )
        }
        _ => {
            eprintln!("skipped: set AUDITPULSE_TEST_LANGCHAIN_PYTHON (see README, Tests)");
            None
        }
    }
}

#[tokio::test]
async fn the_langchain_example_is_priced_from_its_traces() {
    let Some(python) = langchain_python() else {
        return;
    };
    let g = Gateway::start(Backend::Sqlite).await;
    let key = key_with(&g.app, &g.admin, &["ingest:write"]).await;
    let app = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/langchain_otlp/app.py"
    );
    let env = vec![
        ("OPENAI_API_KEY", OPENAI_KEY.to_owned()),
        ("OPENAI_BASE_URL", g.fake.openai_base()),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            g.app.url("/v1/traces"),
        ),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            format!("Authorization=Bearer%20{key}"),
        ),
        ("OTEL_SERVICE_NAME", "langchain-example".to_owned()),
    ];
    let summary = run_sdk(&python, app, env).await;
    assert!(
        summary["exported_spans"].as_u64().unwrap() >= 2,
        "{summary}"
    );
    assert_eq!(summary["export_failures"], 0);
    // LangChain went to the provider itself: the gateway relayed nothing.
    assert_eq!(g.fake.requests().len(), 1);

    let body: Value = g
        .app
        .get_as(&g.admin, "/api/v1/llm/calls?source=otlp")
        .await
        .json()
        .await
        .unwrap();
    let calls = body["items"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "the LLM span only, not the chain's: {body}");
    let call = &calls[0];
    assert_eq!(call["provider"], "openai");
    assert_eq!(call["application"], "langchain-example");
    assert_eq!(call["cost_status"], "priced", "{call}");
    // The fake counts 5 prompt tokens ("Say hello to the team") and answers in 10:
    // gpt-4o-mini at $0.15 and $0.60 per million.
    assert_eq!(
        (
            call["usage"]["input"].as_u64(),
            call["usage"]["output"].as_u64()
        ),
        (Some(5), Some(10)),
        "{call}"
    );
    assert_eq!(call["cost"], "0.000006750");
}
