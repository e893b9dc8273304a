//! The official `openai` and `anthropic` Python SDKs pointed at AuditPulse instead of their
//! providers, with an AuditPulse key: every check they pass against the fake providers directly
//! (`fake_llm_sdk`) they pass through the gateway, unchanged (plain, streaming, tool calls,
//! embeddings, the Responses API, count_tokens, errors); and every call they made is metered.

use serde_json::json;

use crate::fake_llm_sdk::{anthropic_answers, openai_answers, run_sdk, sdk_python};
use crate::gateway_harness::Gateway;
use crate::helpers::Backend;

async fn metered(g: &Gateway, provider: &str) {
    let store = g.app.state.store.clone();
    let filter = auditpulse::gateway::calls::CallFilter::default();
    // Every relayed call is recorded; give the recorder a moment to write the last ones.
    let mut calls = Vec::new();
    for _ in 0..100 {
        calls = store
            .call_page(g.tenant, &filter, None, 1000)
            .await
            .unwrap();
        if calls.len()
            == g.fake
                .requests()
                .iter()
                .filter(|r| r.method == "POST")
                .count()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let views: Vec<_> = calls.iter().map(|c| c.view().unwrap()).collect();
    assert!(views.iter().all(|c| c.provider.as_str() == provider));
    let posts = g
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(views.len(), posts, "one recorded call per relayed call");
    let priced = views.iter().filter(|c| c.cost_nanos.is_some()).count();
    assert!(priced >= 5, "the SDK's ordinary calls are priced: {priced}");
    for c in &views {
        if c.outcome.as_str() == "completed" && c.usage.output > 0 {
            assert_eq!(c.cost_status.as_str(), "priced", "{c:?}");
        }
    }
}

/// A wrong AuditPulse key is refused by the gateway itself with the 401 the SDK expects, and
/// the SDK reports AuditPulse's request id (the provider never saw the call).
fn gateway_refused(auth: &serde_json::Value) {
    assert_eq!(auth["status"], 401);
    let id = auth["request_id"].as_str().unwrap();
    assert_eq!(id.len(), 32, "AuditPulse's request id: {id}");
}

#[tokio::test]
async fn the_openai_sdk_works_through_the_gateway_unchanged() {
    let Some(python) = sdk_python() else { return };
    let g = Gateway::start(Backend::Sqlite).await;
    let env = vec![
        ("OPENAI_BASE_URL", g.openai_base()),
        ("OPENAI_API_KEY", g.key.clone()),
    ];
    let summary = run_sdk(&python, "openai_sdk.py", env).await;
    assert_eq!(summary["failures"], json!({}));
    openai_answers(&summary["checks"]);
    gateway_refused(&summary["checks"]["errors"]["auth"]);
    metered(&g, "openai").await;
}

#[tokio::test]
async fn the_anthropic_sdk_works_through_the_gateway_unchanged() {
    let Some(python) = sdk_python() else { return };
    let g = Gateway::start(Backend::Sqlite).await;
    let env = vec![
        ("ANTHROPIC_BASE_URL", g.anthropic_base()),
        ("ANTHROPIC_API_KEY", g.key.clone()),
    ];
    let summary = run_sdk(&python, "anthropic_sdk.py", env).await;
    assert_eq!(summary["failures"], json!({}));
    anthropic_answers(&summary["checks"]);
    gateway_refused(&summary["checks"]["errors"]["auth"]);
    metered(&g, "anthropic").await;
}
