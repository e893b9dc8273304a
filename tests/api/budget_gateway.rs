//! Budgets in the gateway on both backends, against the fake providers: above a swap threshold
//! the next model of the chain is sent (the client is told, the ledger keeps both models); at a
//! hard limit the call is refused with a 429 in the provider's own error shape, before any
//! provider is asked; and 200 concurrent calls through two AuditPulse instances sharing one
//! database never take recorded spend past the limit, with every reservation settled after.

use std::sync::Arc;
use std::time::Duration;

use auditpulse::config::vars;
use auditpulse::gateway::calls::CallFilter;
use serde_json::{json, Value};

use crate::accounts::{json_of, post};
use crate::budgets::{call, writer};
use crate::gateway_harness::Gateway;
use crate::helpers::fake_llm::Script;
use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

fn chat(model: &str, max_tokens: u64) -> Value {
    json!({"model": model, "max_tokens": max_tokens,
           "messages": [{"role": "user", "content": "say something kind about budgets"}]})
}

async fn budget(gw: &Gateway, body: Value) -> Value {
    json_of(post(&gw.app, &gw.admin, "/api/v1/budgets", body).await, 201).await
}

async fn status(app: &TestApp, token: &str, id: &Value) -> Value {
    let path = format!("/api/v1/budgets/{}/status", id.as_str().unwrap());
    json_of(app.get_as(token, &path).await, 200).await
}

async fn above_the_swap_threshold_the_next_model_is_sent(backend: Backend) {
    let gw = Gateway::start_with(backend, &[(vars::BUDGET_EVALUATE_INTERVAL, "1s")]).await;
    // The key's name, support-bot, is its calls' application.
    budget(
        &gw,
        json!({"name": "bot", "scope": {"kind": "application", "value": "support-bot"},
               "period": "month", "amount": "0.01", "currency": "USD",
               "swap_threshold": 0.5, "model_chain": ["gpt-4o", "gpt-4o-mini"]}),
    )
    .await;
    // Below the threshold: sent as asked.
    let below = gw.post("/v1/chat/completions", chat("gpt-4o", 16)).await;
    assert_eq!(below.status(), 200);
    assert!(below.headers().get("x-auditpulse-model-swapped").is_none());
    assert_eq!(gw.fake.requests().last().unwrap().json()["model"], "gpt-4o");
    gw.calls(1).await;

    // 6,000,000 nanos of spend recorded elsewhere (an OTLP span, say) for the application.
    writer(&gw.app)
        .write(&[call(gw.tenant, Some("support-bot"), 40_000, 0)])
        .await
        .unwrap();
    // The gateway's counter learns of spend it did not reserve at the next evaluation round.
    let swapped = loop {
        let r = gw.post("/v1/chat/completions", chat("gpt-4o", 16)).await;
        assert_eq!(r.status(), 200);
        if r.headers().get("x-auditpulse-model-swapped").is_some() {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        swapped.headers()["x-auditpulse-model-swapped"],
        "gpt-4o -> gpt-4o-mini"
    );
    let sent = gw.fake.requests().last().unwrap().json();
    assert_eq!(sent["model"], "gpt-4o-mini");
    assert_eq!(sent["messages"], chat("gpt-4o", 16)["messages"]);
    let answer: Value = swapped.json().await.unwrap();
    assert_eq!(answer["model"], "gpt-4o-mini");
    let store = gw.app.state.store.clone();
    let mut latest = None;
    for _ in 0..200 {
        let rows = store
            .call_page(gw.tenant, &CallFilter::default(), None, 100)
            .await
            .unwrap();
        if let Some(row) = rows.iter().find(|r| r.swapped_to.is_some()) {
            latest = Some(row.view().unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let recorded = latest.expect("the swapped call is recorded");
    assert_eq!(recorded.model_requested.as_deref(), Some("gpt-4o"));
    assert_eq!(recorded.swapped_to.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(recorded.model_answered.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(recorded.priced_model.as_deref(), Some("gpt-4o-mini"));
}

async fn at_the_hard_limit_calls_are_refused_in_the_providers_shape(backend: Backend) {
    let gw = Gateway::start(backend).await;
    let b = budget(
        &gw,
        json!({"name": "tenant cap", "scope": {"kind": "tenant"}, "spend": "llm",
               "period": "day", "amount": "0.01", "currency": "USD", "hard_limit": true}),
    )
    .await;
    // 9,600,000 of 10,000,000 nanos spent: a gpt-4o call with a ~160-byte prompt and 100
    // output tokens could cost 160 x 2,500 + 100 x 10,000 = 1,400,000.
    writer(&gw.app)
        .write(&[call(gw.tenant, Some("batch"), 64_000, 0)])
        .await
        .unwrap();
    let before = gw.fake.requests().len();
    let refused = loop {
        let r = gw.post("/v1/chat/completions", chat("gpt-4o", 100)).await;
        if r.status() == 429 {
            break r;
        }
        assert_eq!(r.status(), 200);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(refused.headers()["x-should-retry"], "false");
    assert!(refused.headers().get("retry-after").is_some());
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "budget_exceeded");
    assert_eq!(body["error"]["type"], "insufficient_quota");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("tenant cap"));
    // Anthropic's route answers in Anthropic's shape.
    let messages = gw
        .post(
            "/v1/messages",
            json!({"model": "claude-sonnet-4-5", "max_tokens": 1000,
                   "messages": [{"role": "user", "content": "hello"}]}),
        )
        .await;
    assert_eq!(messages.status(), 429);
    let body: Value = messages.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "rate_limit_error");
    // A call small enough to fit still goes through: 10 output tokens of gpt-4o-mini.
    let small = gw
        .post("/v1/chat/completions", chat("gpt-4o-mini", 10))
        .await;
    assert_eq!(small.status(), 200);
    assert!(gw
        .app
        .metrics()
        .await
        .contains("auditpulse_budget_decisions_total{outcome=\"refused\"} 2"));
    let sent_after = gw.fake.requests().len() - before;
    let got = status(&gw.app, &gw.admin, &b["id"]).await;
    assert_eq!(got["blocked"], false, "{got}");
    assert!(sent_after >= 1);
}

on_both_backends!(above_the_swap_threshold_the_next_model_is_sent);
on_both_backends!(at_the_hard_limit_calls_are_refused_in_the_providers_shape);

/// Two instances over one database, each with the gateway's rate limit out of the way.
async fn second_instance(gw: &Gateway, backend: Backend) -> TestApp {
    TestApp::spawn_with(
        backend,
        &[
            (vars::ALLOW_PRIVATE_OUTBOUND, "true"),
            (vars::DATABASE_URL, gw.app.database_url()),
            (vars::RATE_LIMIT_GATEWAY_IP, "100000/m,burst=10000"),
        ],
    )
    .await
}

async fn concurrent_calls_on_two_instances_never_pass_the_hard_limit(backend: Backend) {
    let gw = Gateway::start_with(
        backend,
        &[(vars::RATE_LIMIT_GATEWAY_IP, "100000/m,burst=10000")],
    )
    .await;
    gw.fake.script(Script::delay(Duration::from_millis(30)));
    let other = second_instance(&gw, backend).await;
    let b = budget(
        &gw,
        json!({"name": "cap", "scope": {"kind": "tenant"}, "spend": "llm", "period": "month",
               "amount": "0.02", "currency": "USD", "hard_limit": true}),
    )
    .await;
    // 19,200,000 of 20,000,000 nanos spent. Each call: ~150-byte body x 150 + 20 x 600 <=
    // 35,000 reserved, about 5,250 + 12,000 spent; room for a few dozen, not 200.
    writer(&gw.app)
        .write(&[call(gw.tenant, Some("batch"), 128_000, 0)])
        .await
        .unwrap();
    let bases = [gw.app.url(""), other.url("")];
    let client = reqwest::Client::new();
    let key = Arc::new(gw.key.clone());
    let mut tasks = Vec::new();
    for i in 0..200 {
        let url = format!("{}/v1/chat/completions", bases[i % 2]);
        let (client, key) = (client.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(key.as_str())
                .json(&chat("gpt-4o-mini", 20))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut ok = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            429 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    eprintln!("admitted {ok}, refused {refused}");
    assert!(ok > 0 && refused > 0, "ok {ok}, refused {refused}");
    // Every admitted call is recorded and its reservation settled.
    let admitted = ok + 2;
    let store = gw.app.state.store.clone();
    for _ in 0..400 {
        let rows = store
            .call_page(gw.tenant, &CallFilter::default(), None, 1000)
            .await
            .unwrap();
        if rows.len() >= admitted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let mut settled = Value::Null;
    for _ in 0..200 {
        settled = status(&gw.app, &gw.admin, &b["id"]).await;
        if settled["reserved"] == "0.000000000" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(settled["reserved"], "0.000000000", "{settled}");
    let spent: i64 = settled["spent"]
        .as_str()
        .unwrap()
        .replace('.', "")
        .parse()
        .unwrap();
    assert!(
        spent <= 20_000_000,
        "spent {spent} nanos of 20,000,000: {settled}"
    );
    assert!(
        spent > 19_200_000,
        "the admitted calls were recorded: {settled}"
    );
    drop(other);
}

on_both_backends!(concurrent_calls_on_two_instances_never_pass_the_hard_limit);
