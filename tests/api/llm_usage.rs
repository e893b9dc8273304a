//! The LLM spend API on both backends: calls written by the recorder at known times and
//! attribution, then listed (filters, cursor pages) and summed (`group_by`, UTC days) through
//! `/api/v1/llm/...`, with totals equal to hand-summed nano-dollars, unpriced calls counted but
//! never summed, tenants isolated, read-only callers allowed; and the LLM metrics after calls.

use std::collections::HashSet;
use std::time::Duration;

use auditpulse::auth::Role;
use auditpulse::domain::{ApiKeyId, LlmCallId, TenantId};
use auditpulse::gateway::calls::{Attribution, CallOutcome, CallSource, NewCall, Writer};
use auditpulse::gateway::{Provider, Usage};
use serde_json::{json, Value};

use crate::accounts::{json_of, post, tenant_with_admin};
use crate::helpers::{error_of, Backend, TestApp};
use crate::on_both_backends;

fn call(
    tenant: TenantId,
    at: &str,
    app: Option<&str>,
    model: &str,
    usage: Option<Usage>,
) -> NewCall {
    NewCall {
        id: LlmCallId::new(),
        tenant,
        source: CallSource::Gateway,
        api_key: None,
        provider: Provider::OpenAi,
        endpoint: "chat.completions",
        attribution: Attribution {
            application: app.map(str::to_owned),
            project: Some("helpdesk".into()),
            end_user: None,
        },
        model_requested: Some(model.to_owned()),
        swapped_to: None,
        model_answered: Some(model.to_owned()),
        response_id: None,
        streamed: false,
        http_status: Some(200),
        outcome: if usage.is_some() {
            CallOutcome::Completed
        } else {
            CallOutcome::ProviderError
        },
        usage,
        started_at: at.parse().unwrap(),
        latency_us: 1_000,
        ttft_us: None,
        error: None,
    }
}

fn tokens(prompt: u64, cached: u64, output: u64) -> Option<Usage> {
    Some(Usage::from_openai(prompt, cached, 0, output, 0))
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

/// Tenant A's calls. gpt-4o-mini costs 150 nanos per input token, 75 per cached one and 600
/// per output token; each call's cost in nanos is written beside it.
fn calls_of_a(a: TenantId, key: ApiKeyId) -> Vec<NewCall> {
    vec![
        // 600 x 150 + 400 x 75 + 200 x 600 = 240,000
        NewCall {
            api_key: Some(key),
            ..call(
                a,
                "2025-06-01T10:00:00Z",
                Some("bot"),
                "gpt-4o-mini",
                tokens(1_000, 400, 200),
            )
        },
        // 100 x 150 + 10 x 600 = 21,000, the last second of June 1st (UTC)
        call(
            a,
            "2025-06-01T23:59:59Z",
            Some("bot"),
            "gpt-4o-mini",
            tokens(100, 0, 10),
        ),
        // 10 x 150 + 600 = 2,100, June 2nd
        call(
            a,
            "2025-06-02T00:00:01Z",
            Some("bot"),
            "gpt-4o-mini",
            tokens(10, 0, 1),
        ),
        // 2,100
        call(
            a,
            "2025-06-01T12:00:00Z",
            Some("search"),
            "gpt-4o-mini",
            tokens(10, 0, 1),
        ),
        // unpriced: tokens, no price
        call(
            a,
            "2025-06-01T11:00:00Z",
            Some("bot"),
            "house-model",
            tokens(50, 0, 5),
        ),
        // no usage (a provider error), no application
        call(a, "2025-06-01T09:00:00Z", None, "gpt-4o-mini", None),
    ]
}

const TOTAL_NANOS: i64 = 240_000 + 21_000 + 2_100 + 2_100;

struct Setup {
    app: TestApp,
    a: TenantId,
    admin_a: String,
    admin_b: String,
    calls: Vec<NewCall>,
    key: ApiKeyId,
}

async fn setup(backend: Backend) -> Setup {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (a, _, admin_a) = tenant_with_admin(&app, "acme").await;
    let (b, _, admin_b) = tenant_with_admin(&app, "globex").await;
    let key = ApiKeyId::new();
    let calls = calls_of_a(a, key);
    let w = writer(&app);
    w.write(&calls).await.unwrap();
    w.write(&[call(
        b,
        "2025-06-01T10:00:00Z",
        Some("bot"),
        "gpt-4o-mini",
        tokens(1_000_000, 0, 0),
    )])
    .await
    .unwrap();
    Setup {
        app,
        a,
        admin_a,
        admin_b,
        calls,
        key,
    }
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    json_of(app.get_as(token, path).await, 200).await
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn calls_are_listed_filtered_and_paged(backend: Backend) {
    let s = setup(backend).await;
    let (app, t) = (&s.app, s.admin_a.as_str());
    // Newest first, one cursor page after another, every call once.
    let mut seen = Vec::new();
    let mut path = "/api/v1/llm/calls?limit=4".to_owned();
    loop {
        let page = get(app, t, &path).await;
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/llm/calls?limit=4&cursor={c}"),
            None => break,
        }
    }
    let mut newest_first = s.calls.clone();
    newest_first.sort_by_key(|c| std::cmp::Reverse(c.started_at));
    let expected: Vec<String> = newest_first.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(seen, expected);

    let count = |query: &'static str| async move {
        ids(&get(app, t, &format!("/api/v1/llm/calls?{query}")).await).len()
    };
    assert_eq!(count("application=bot").await, 4);
    assert_eq!(count("from=2025-06-02").await, 1);
    assert_eq!(count("to=2025-06-01").await, 5, "a date includes its day");
    assert_eq!(
        count("to=2025-06-01T10:00:00Z").await,
        1,
        "a time is exclusive"
    );
    assert_eq!(count("cost_status=unpriced").await, 1);
    assert_eq!(count("model=house-model&application=bot").await, 1);
    assert_eq!(count("provider=anthropic").await, 0);
    assert_eq!(count("project=helpdesk").await, 6);
    let by_key = get(app, t, &format!("/api/v1/llm/calls?api_key={}", s.key)).await;
    assert_eq!(ids(&by_key), [s.calls[0].id.to_string()]);

    let one = get(app, t, &format!("/api/v1/llm/calls/{}", s.calls[0].id)).await;
    assert_eq!(one["cost"], "0.000240000");
    assert_eq!(one["cost_nanos"], 240_000);
    assert_eq!(one["application"], "bot");
    assert_eq!(one["usage"]["cache_read"], 400);
    let unpriced = get(app, t, &format!("/api/v1/llm/calls/{}", s.calls[4].id)).await;
    assert_eq!(unpriced["cost_status"], "unpriced");
    assert_eq!(unpriced["cost"], Value::Null);

    for bad in [
        "from=yesterday",
        "limit=0",
        "cursor=nope",
        "tenant=x",
        "cost_status=free",
    ] {
        let r = app.get_as(t, &format!("/api/v1/llm/calls?{bad}")).await;
        assert_eq!(r.status(), 400, "{bad}");
    }
}

/// The group of `page` whose `key` fields equal `want`, on `period`.
fn group<'a>(page: &'a Value, period: &str, want: &[(&str, Value)]) -> &'a Value {
    page["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["period"] == period && want.iter().all(|(k, v)| &g[*k] == v))
        .unwrap_or_else(|| panic!("no group {want:?} on {period}: {page}"))
}

async fn usage_sums_by_group_and_utc_day(backend: Backend) {
    let s = setup(backend).await;
    let (app, t) = (&s.app, s.admin_a.as_str());
    let page = get(
        app,
        t,
        "/api/v1/llm/usage?group_by=application,model&interval=day",
    )
    .await;
    assert_eq!(page["truncated"], false);
    let groups = page["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 5, "{page}");
    let june1 = "2025-06-01T00:00:00Z";
    let bot = group(
        &page,
        june1,
        &[
            ("application", json!("bot")),
            ("model", json!("gpt-4o-mini")),
        ],
    );
    assert_eq!(bot["calls"], 2);
    assert_eq!(bot["cost_nanos"], 240_000 + 21_000);
    assert_eq!(bot["cost"], "0.000261000");
    assert_eq!(bot["tokens"]["input"], 600 + 100);
    assert_eq!(bot["tokens"]["cache_read"], 400);
    assert_eq!(bot["tokens"]["output"], 210);
    let house = group(&page, june1, &[("model", json!("house-model"))]);
    assert_eq!(
        (
            &house["calls"],
            &house["unpriced_calls"],
            &house["cost_nanos"]
        ),
        (&json!(1), &json!(1), &json!(0)),
        "an unpriced call is counted, not summed"
    );
    assert_eq!(house["tokens"]["input"], 50);
    let nameless = group(&page, june1, &[("application", Value::Null)]);
    assert_eq!(
        (&nameless["calls"], &nameless["cost_nanos"]),
        (&json!(1), &json!(0))
    );
    let june2 = group(
        &page,
        "2025-06-02T00:00:00Z",
        &[("application", json!("bot"))],
    );
    assert_eq!(june2["cost_nanos"], 2_100);
    // Periods come in order; within one, the costliest group first.
    assert_eq!(groups[0]["application"], "bot");
    assert_eq!(groups[4]["period"], "2025-06-02T00:00:00Z");
    assert!(
        groups[0].get("project").is_none(),
        "only the keys asked for"
    );

    let totals = &page["totals"];
    assert_eq!(totals["calls"], 6);
    assert_eq!(totals["cost_nanos"], TOTAL_NANOS);
    assert_eq!(totals["cost"], "0.000265200");
    assert_eq!(totals["unpriced_calls"], 1);
    assert_eq!(totals["priced_calls"], 4);
    let summed: i64 = groups
        .iter()
        .map(|g| g["cost_nanos"].as_i64().unwrap())
        .sum();
    assert_eq!(summed, TOTAL_NANOS);

    // Filters apply to the sums; a month bucket holds both days.
    let month = get(app, t, "/api/v1/llm/usage?interval=month&application=bot").await;
    let june = group(&month, "2025-06-01T00:00:00Z", &[]);
    assert_eq!(june["calls"], 4);
    assert_eq!(june["cost_nanos"], 240_000 + 21_000 + 2_100);
    let hours = get(
        app,
        t,
        "/api/v1/llm/usage?interval=hour&from=2025-06-01T23:00:00Z",
    )
    .await;
    let hour = group(&hours, "2025-06-01T23:00:00Z", &[]);
    assert_eq!(hour["cost_nanos"], 21_000);
    // Totals alone, without groups.
    let plain = get(app, t, "/api/v1/llm/usage").await;
    assert_eq!(plain["groups"], json!([]));
    assert_eq!(plain["totals"]["cost_nanos"], TOTAL_NANOS);

    let bad = app
        .get_as(t, "/api/v1/llm/usage?group_by=application,tenant")
        .await;
    assert_eq!(bad.status(), 400);
    assert!(error_of(bad).await.to_string().contains("group_by"));
    let bad = app.get_as(t, "/api/v1/llm/usage?interval=week").await;
    assert_eq!(bad.status(), 400);
}

async fn tenants_see_only_their_calls_and_readers_read(backend: Backend) {
    let s = setup(backend).await;
    let app = &s.app;
    // B sees its own call only: none of A's calls, sums or ids.
    let b_calls = get(app, &s.admin_b, "/api/v1/llm/calls").await;
    assert_eq!(ids(&b_calls).len(), 1);
    assert!(!ids(&b_calls).contains(&s.calls[0].id.to_string()));
    let b_usage = get(app, &s.admin_b, "/api/v1/llm/usage?group_by=application").await;
    assert_eq!(b_usage["totals"]["calls"], 1);
    assert_eq!(b_usage["totals"]["cost_nanos"], 150_000_000);
    let other = app
        .get_as(&s.admin_b, &format!("/api/v1/llm/calls/{}", s.calls[0].id))
        .await;
    assert_eq!(other.status(), 404);

    // A viewer and a read-only API key read; nobody unauthenticated does.
    let (_, viewer) = app.user_token(s.a, Role::Viewer).await;
    let usage = get(app, &viewer, "/api/v1/llm/usage").await;
    assert_eq!(usage["totals"]["calls"], 6);
    let key = json_of(
        post(
            app,
            &s.admin_a,
            "/api/v1/api-keys",
            json!({"name": "bi", "scopes": ["read"]}),
        )
        .await,
        201,
    )
    .await;
    let key = key["key"].as_str().unwrap();
    assert_eq!(ids(&get(app, key, "/api/v1/llm/calls").await).len(), 6);
    for path in ["/api/v1/llm/calls", "/api/v1/llm/usage"] {
        assert_eq!(app.get(path).await.status(), 401, "{path}");
    }
}

/// The value of the sample whose name and labels are exactly `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn recorded_calls_show_in_the_metrics(backend: Backend) {
    let s = setup(backend).await;
    let app = &s.app;
    // Through the app's own recorder, as the gateway hands calls over.
    let priced = call(
        s.a,
        "2025-06-03T10:00:00Z",
        Some("bot"),
        "gpt-4o-mini",
        tokens(1_000, 400, 200),
    );
    let unpriced = call(
        s.a,
        "2025-06-03T11:00:00Z",
        Some("bot"),
        "house-model",
        tokens(50, 0, 5),
    );
    app.state.gateway.recorder.record(priced).await;
    app.state.gateway.recorder.record(unpriced).await;
    // The metrics follow the write: wait until both calls are written and counted.
    let mut text = String::new();
    for _ in 0..100 {
        text = app.metrics().await;
        let page = get(app, &s.admin_a, "/api/v1/llm/calls?from=2025-06-03").await;
        if ids(&page).len() == 2 && text.matches("auditpulse_llm_calls_total{").count() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let spend = format!(
        r#"{{tenant="{}",application="bot",provider="openai",model="gpt-4o-mini"}}"#,
        s.a
    );
    let cost = sample(&text, &format!("auditpulse_llm_cost_usd_total{spend}"));
    assert!(
        cost.is_some_and(|c| (c - 0.00024).abs() < 1e-12),
        "{cost:?} {text}"
    );
    let input = format!(
        r#"auditpulse_llm_tokens_total{{tenant="{}",application="bot",provider="openai",model="house-model",kind="input"}}"#,
        s.a
    );
    assert_eq!(sample(&text, &input), Some(50.0), "{text}");
    for (status, n) in [("priced", 1.0), ("unpriced", 1.0)] {
        let series = format!(
            r#"auditpulse_llm_calls_total{{provider="openai",outcome="completed",cost_status="{status}"}}"#
        );
        assert_eq!(sample(&text, &series), Some(n), "{text}");
    }
    let labels: HashSet<&str> = text
        .lines()
        .filter(|l| l.starts_with("auditpulse_llm_cost_usd_total{"))
        .collect();
    assert_eq!(
        labels.len(),
        1,
        "no cost series for an unpriced model: {text}"
    );
    assert!(text.contains("# TYPE auditpulse_gateway_added_latency_seconds histogram"));
}

on_both_backends!(
    calls_are_listed_filtered_and_paged,
    usage_sums_by_group_and_utc_day,
    tenants_see_only_their_calls_and_readers_read,
    recorded_calls_show_in_the_metrics
);
