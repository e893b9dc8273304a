//! The LLM price catalog's administration on both backends: a tenant's negotiated override
//! prices its next call and shows in `GET /api/v1/prices`, only administrators set one, and
//! another tenant is unaffected; `auditpulse prices import` refuses a bad file and puts a good
//! one in force; `prices list` shows it; `prices reprice --unpriced` prices a call recorded
//! while its model was unknown and writes its spend event, once; an unpriced model raises one
//! alert a day and counts in the metrics.

use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use auditpulse::auth::Role;
use auditpulse::domain::{LlmCallId, TenantId};
use auditpulse::gateway::calls::{Attribution, CallOutcome, CallSource, NewCall, Writer};
use auditpulse::gateway::pricing::{self, UnpricedAlerts};
use auditpulse::gateway::{Provider, Usage};
use auditpulse::ledger::{Source, SpendFilter};
use auditpulse::security::{SecurityAlertFilter, SecurityAlertKind};
use auditpulse::store::Scope;
use reqwest::Method;
use serde_json::{json, Value};

use crate::accounts::{audited, delete, json_of, tenant_with_admin, user};
use crate::helpers::{Backend, TestApp, MASTER_KEY, PASSWORD};
use crate::on_both_backends;

fn call(tenant: TenantId, model: &str, usage: Usage) -> NewCall {
    NewCall {
        id: LlmCallId::new(),
        tenant,
        source: CallSource::Gateway,
        api_key: None,
        provider: Provider::OpenAi,
        endpoint: "chat.completions",
        attribution: Attribution::default(),
        model_requested: Some(model.to_owned()),
        swapped_to: None,
        model_answered: Some(model.to_owned()),
        response_id: None,
        streamed: false,
        http_status: Some(200),
        outcome: CallOutcome::Completed,
        usage: Some(usage),
        started_at: "2025-06-01T12:00:00Z".parse().unwrap(),
        latency_us: 1_000,
        ttft_us: None,
        error: None,
    }
}

fn writer(app: &TestApp) -> Writer {
    Writer {
        store: app.state.store.clone(),
        ledger: app.state.ledger.clone(),
        prices: app.state.prices.clone(),
        observer: None,
        budgets: None,
    }
}

async fn put(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.client
        .request(Method::PUT, app.url("/api/v1/prices/overrides"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The model's entry in the tenant's view.
async fn priced_as(app: &TestApp, token: &str, model: &str) -> Value {
    let path = format!("/api/v1/prices?provider=openai&model={model}");
    let body = json_of(app.get_as(token, &path).await, 200).await;
    let items = body["items"].as_array().unwrap();
    assert!(items.iter().all(|i| i["provider"] == "openai"));
    items
        .iter()
        .find(|i| i["model"] == model)
        .cloned()
        .unwrap_or(Value::Null)
}

async fn cost(app: &TestApp, tenant: TenantId, id: LlmCallId) -> Option<i64> {
    let row = app.state.store.call(tenant, id).await.unwrap().unwrap();
    row.cost_nanos
}

async fn overrides_price_the_next_call_for_that_tenant_only(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (a, _, admin) = tenant_with_admin(&app, "acme").await;
    let (b, _, admin_b) = tenant_with_admin(&app, "globex").await;
    user(&app, a, "viewer@acme.example", Role::Viewer).await;
    let viewer = app
        .login("viewer@acme.example", PASSWORD)
        .await
        .access_token;

    let before = priced_as(&app, &viewer, "gpt-4o-mini").await;
    assert_eq!(before["source"], "catalog");
    assert_eq!(before["prices"]["input"], "0.15");

    let negotiated = json!({"provider": "openai", "model": "gpt-4o-mini",
        "effective_from": "2025-01-01", "input": "1", "output": "2", "cache_read": "0.5"});
    // Only administrators set prices; a bad price is refused naming the field, not echoed.
    let refused = put(&app, &viewer, negotiated.clone()).await;
    assert_eq!(refused.status(), 403);
    let bad = json!({"provider": "openai", "model": "gpt-4o-mini",
        "effective_from": "2025-01-01", "input": "-1", "output": "1e9"});
    let body = json_of(put(&app, &admin, bad).await, 422).await;
    let text = body.to_string();
    assert!(
        text.contains("\"input\"") && text.contains("\"output\""),
        "{text}"
    );
    assert!(!text.contains("1e9"), "{text}");

    let set = json_of(put(&app, &admin, negotiated.clone()).await, 200).await;
    assert_eq!(set["cache_read"], "0.5");
    audited(&app, &admin, "gateway.price_override_set").await;
    let view = priced_as(&app, &viewer, "gpt-4o-mini").await;
    assert_eq!(view["source"], "override");
    assert_eq!(view["effective_from"], "2025-01-01");
    assert_eq!(view["prices"]["input"], "1");
    assert_eq!(view["prices"]["cache_read"], "0.5");
    assert_eq!(
        priced_as(&app, &admin_b, "gpt-4o-mini").await["source"],
        "catalog"
    );

    // 1,000 prompt tokens of which 400 cached, 200 output. Acme's rate:
    // 600 x $1 + 400 x $0.50 + 200 x $2 per million = 1,200 micro-dollars = 1,200,000 nanos.
    // Globex's catalog price: 600 x 0.15 + 400 x 0.075 + 200 x 0.60 = 240 micro-dollars.
    let usage = Usage::from_openai(1_000, 400, 0, 200, 0);
    let (ca, cb) = (call(a, "gpt-4o-mini", usage), call(b, "gpt-4o-mini", usage));
    writer(&app).write(&[ca.clone(), cb.clone()]).await.unwrap();
    assert_eq!(cost(&app, a, ca.id).await, Some(1_200_000));
    assert_eq!(cost(&app, b, cb.id).await, Some(240_000));

    // Listed, and deleted: the catalog prices the model again.
    let listed = json_of(app.get_as(&viewer, "/api/v1/prices/overrides").await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(
        json_of(app.get_as(&admin_b, "/api/v1/prices/overrides").await, 200).await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let key =
        "/api/v1/prices/overrides?provider=openai&model=gpt-4o-mini&effective_from=2025-01-01";
    assert_eq!(delete(&app, &viewer, key).await.status(), 403);
    assert_eq!(delete(&app, &admin_b, key).await.status(), 404);
    assert_eq!(delete(&app, &admin, key).await.status(), 204);
    assert_eq!(
        priced_as(&app, &viewer, "gpt-4o-mini").await["source"],
        "catalog"
    );
    let again = call(a, "gpt-4o-mini", usage);
    writer(&app)
        .write(std::slice::from_ref(&again))
        .await
        .unwrap();
    assert_eq!(cost(&app, a, again.id).await, Some(240_000));
}

on_both_backends!(overrides_price_the_next_call_for_that_tenant_only);

async fn an_unpriced_model_raises_one_alert_and_counts(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (a, _, _) = tenant_with_admin(&app, "acme").await;
    let w = Writer {
        observer: Some(Arc::new(UnpricedAlerts::new(
            app.state.store.clone(),
            app.state.metrics.clone(),
        ))),
        ..writer(&app)
    };
    let usage = Usage::from_openai(10, 0, 0, 5, 0);
    w.write(&[call(a, "house-model", usage), call(a, "house-model", usage)])
        .await
        .unwrap();
    let filter = SecurityAlertFilter {
        kind: Some(SecurityAlertKind::UnpricedModel),
        ..SecurityAlertFilter::default()
    };
    let mut alerts = Vec::new();
    for _ in 0..100 {
        alerts = app
            .state
            .store
            .list_alerts(Scope::Tenant(a), &filter, 10)
            .await
            .unwrap();
        if !alerts.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(alerts.len(), 1, "one alert for two calls of the model");
    assert_eq!(alerts[0].subject, "model openai/house-model");
    assert!(app
        .metrics()
        .await
        .contains("auditpulse_llm_unpriced_calls_total{provider=\"openai\"} 2"));
}

on_both_backends!(an_unpriced_model_raises_one_alert_and_counts);

fn cli(url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_auditpulse"));
    cmd.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .env(auditpulse::config::vars::MASTER_KEYS, MASTER_KEY)
        .stdin(Stdio::null());
    cmd
}

async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("the binary runs"))
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The shipped catalog with one more model, `house-model` at $2 in and $10 out per million.
fn catalog_with_house_model() -> String {
    let shipped = include_str!("../../src/gateway/prices/data/llm-prices.json");
    let mut file: Value = serde_json::from_str(shipped).unwrap();
    file["source"] = json!("acme negotiated catalog 2026-12");
    file["models"].as_array_mut().unwrap().push(json!({
        "provider": "openai", "model": "house-model", "ids": ["house-model"],
        "history": [{"from": null, "prices": {"input": "2", "output": "10"}}]
    }));
    file.to_string()
}

async fn the_cli_imports_lists_and_reprices(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (a, _, _) = tenant_with_admin(&app, "acme").await;
    let unknown = call(a, "house-model", Usage::from_openai(1_000, 0, 0, 100, 0));
    writer(&app)
        .write(std::slice::from_ref(&unknown))
        .await
        .unwrap();
    assert_eq!(cost(&app, a, unknown.id).await, None);
    let db = app.stop_keeping_db().await;
    let dir = tempfile::tempdir().unwrap();

    // Nothing to price yet: the catalog in force does not know the model.
    let out = output(cli(&db.url, &["prices", "reprice", "--unpriced"])).await;
    assert!(out.status.success(), "{out:?}");
    assert!(text(&out.stdout).contains("acme: priced 0 calls, 1 still unpriced"));

    // A file that is not a catalog, or has one bad price, is refused and nothing changes.
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "{\"models\": [1, 2]").unwrap();
    let bad_price = dir.path().join("bad.json");
    std::fs::write(
        &bad_price,
        catalog_with_house_model().replace("\"10\"", "\"ten\""),
    )
    .unwrap();
    for file in [&garbage, &bad_price] {
        let out = output(cli(&db.url, &["prices", "import", file.to_str().unwrap()])).await;
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let err = text(&out.stderr);
        assert!(err.contains("was refused, nothing changed"), "{err}");
    }
    let out = output(cli(&db.url, &["prices", "list", "--model", "house-model"])).await;
    assert!(!text(&out.stdout).contains("house-model"));

    let good = dir.path().join("prices.json");
    std::fs::write(&good, catalog_with_house_model()).unwrap();
    let out = output(cli(&db.url, &["prices", "import", good.to_str().unwrap()])).await;
    assert!(out.status.success(), "{out:?}");
    let said = text(&out.stdout);
    assert!(said.contains("1 added, 0 removed"), "{said}");
    assert!(said.contains("+ openai/house-model"), "{said}");

    let out = output(cli(&db.url, &["prices", "list", "--model", "house-model"])).await;
    let listed = text(&out.stdout);
    let line = listed
        .lines()
        .find(|l| l.starts_with("house-model"))
        .unwrap();
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&cols[..4], ["house-model", "openai", "2", "10"], "{listed}");

    // 1,000 input x $2 + 100 output x $10 per million = 3,000 micro-dollars = 3,000,000 nanos.
    let out = output(cli(
        &db.url,
        &["prices", "reprice", "--unpriced", "--tenant", "acme"],
    ))
    .await;
    assert!(out.status.success(), "{out:?}");
    assert!(text(&out.stdout).contains("acme: priced 1 calls, 0 still unpriced"));
    let out = output(cli(&db.url, &["prices", "reprice", "--unpriced"])).await;
    assert!(text(&out.stdout).contains("acme: priced 0 calls, 0 still unpriced"));

    let url = auditpulse::config::DatabaseUrl::parse(&db.url).unwrap();
    let store = auditpulse::app::connect(&url, 2).await.unwrap();
    let row = store.call(a, unknown.id).await.unwrap().unwrap();
    assert_eq!(row.cost_nanos, Some(3_000_000));
    let filter = SpendFilter {
        source: Some(Source::Gateway),
        ..SpendFilter::default()
    };
    let spend = store.spend_page(a, &filter, None, 10).await.unwrap();
    let spend: Vec<_> = spend
        .into_iter()
        .map(|r| (r.source_ref, r.amount_minor, r.currency))
        .collect();
    assert_eq!(
        spend,
        [(unknown.id.to_string(), 3_000_000, "USD_NANO".to_owned())]
    );
    // The next start loads the imported catalog.
    let book = pricing::load_book(store.as_ref()).await.unwrap();
    assert!(book
        .catalog(a)
        .find(Provider::OpenAi, "house-model")
        .is_some());
    store.close().await;
}

on_both_backends!(the_cli_imports_lists_and_reprices);

async fn an_override_for_the_same_date_replaces_and_tenants_stay_apart(backend: Backend) {
    use auditpulse::gateway::pricing::OverrideRow;
    let (_db, store) = crate::crypto::migrated(backend).await;
    let (a, b) = (
        crate::crypto::tenant(&store, "a").await,
        crate::crypto::tenant(&store, "b").await,
    );
    let row = |tenant, input: &str| OverrideRow {
        tenant_id: tenant,
        provider: "openai".into(),
        model: "gpt-4o".into(),
        effective_from: "2026-01-01".parse().unwrap(),
        prices_json: json!({"prices": {"input": input, "output": "1"}}).to_string(),
        created_by: "admin".into(),
        created_at: auditpulse::store::Time(auditpulse::domain::time::now()),
    };
    assert!(!store.put_price_override(&row(a, "1")).await.unwrap());
    assert!(store.put_price_override(&row(a, "2")).await.unwrap());
    let mine = store.price_overrides(a).await.unwrap();
    assert_eq!(mine.len(), 1, "the same date replaces");
    assert!(mine[0].prices_json.contains("\"2\""));
    assert!(store.price_overrides(b).await.unwrap().is_empty());
    store.put_price_override(&row(b, "3")).await.unwrap();
    assert_eq!(store.all_price_overrides().await.unwrap().len(), 2);
    let day = "2026-01-01".parse().unwrap();
    assert!(!store
        .delete_price_override(b, "anthropic", "gpt-4o", day)
        .await
        .unwrap());
    assert!(store
        .delete_price_override(a, "openai", "gpt-4o", day)
        .await
        .unwrap());
    assert_eq!(store.price_overrides(b).await.unwrap().len(), 1);
}

on_both_backends!(an_override_for_the_same_date_replaces_and_tenants_stay_apart);
