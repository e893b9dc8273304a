//! LLM calls on both backends: the recorder prices each call once, stores it with its tokens,
//! and puts a priced call in the ledger as one spend event of its exact cost in nano-dollars;
//! an unknown model is stored `unpriced` with no cost and no spend event; a retried batch adds
//! nothing; a SIGTERM-style drain writes everything queued; tenants never see each other's calls.

use std::sync::Arc;

use auditpulse::crypto::Keyring;
use auditpulse::domain::{time, ApiKeyId, LlmCallId, TenantId};
use auditpulse::gateway::calls::{
    Attribution, CallFilter, CallOutcome, CallSource, NewCall, Recorder, Writer,
};
use auditpulse::gateway::prices::{shipped, PriceBook};
use auditpulse::gateway::{Provider, Usage};
use auditpulse::ledger::{Ledger, Source, SpendFilter};

use crate::crypto::{master, migrated, tenant};
use crate::helpers::Backend;
use crate::on_both_backends;

pub(crate) fn call(tenant: TenantId, model: &str, usage: Option<Usage>) -> NewCall {
    NewCall {
        id: LlmCallId::new(),
        tenant,
        source: CallSource::Gateway,
        api_key: Some(ApiKeyId::new()),
        provider: Provider::OpenAi,
        endpoint: "chat.completions",
        attribution: Attribution {
            application: Some("support-bot".into()),
            project: Some("helpdesk".into()),
            end_user: Some("user-42".into()),
        },
        model_requested: Some(model.to_owned()),
        swapped_to: None,
        model_answered: Some(model.to_owned()),
        response_id: Some("chatcmpl-1".into()),
        streamed: true,
        http_status: Some(200),
        outcome: CallOutcome::Completed,
        usage,
        started_at: "2025-06-01T12:00:00Z".parse().unwrap(),
        latency_us: 1_500,
        ttft_us: Some(300),
        error: None,
    }
}

pub(crate) async fn writer(
    backend: Backend,
) -> (crate::helpers::TestDb, Writer, TenantId, TenantId) {
    let (db, store) = migrated(backend).await;
    let keyring = Arc::new(Keyring::new(master(&[("k1", 1)]), store.clone()));
    let ledger = Arc::new(Ledger::new(store.clone(), keyring));
    let (a, b) = (tenant(&store, "a").await, tenant(&store, "b").await);
    let writer = Writer {
        store: store.clone(),
        ledger,
        prices: Arc::new(PriceBook::new(shipped().unwrap())),
        observer: None,
        budgets: None,
    };
    (db, writer, a, b)
}

async fn gateway_spend(w: &Writer, t: TenantId) -> Vec<(String, i64, String)> {
    let filter = SpendFilter {
        source: Some(Source::Gateway),
        ..SpendFilter::default()
    };
    let rows = w
        .ledger
        .store()
        .spend_page(t, &filter, None, 100)
        .await
        .unwrap();
    rows.into_iter()
        .map(|r| (r.source_ref, r.amount_minor, r.currency))
        .collect()
}

async fn a_priced_call_is_one_exact_spend_event(backend: Backend) {
    let (_db, w, a, b) = writer(backend).await;
    // gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per million tokens.
    // 1,000 prompt tokens of which 400 cached, 200 output:
    // 600 x 0.15 + 400 x 0.075 + 200 x 0.60 = 90 + 30 + 120 = 240 micro-dollars = 240,000 nanos.
    let priced = call(
        a,
        "gpt-4o-mini",
        Some(Usage::from_openai(1_000, 400, 0, 200, 0)),
    );
    let unknown = call(
        a,
        "no-such-model-7",
        Some(Usage::from_openai(10, 0, 0, 5, 0)),
    );
    let error = NewCall {
        outcome: CallOutcome::ProviderError,
        http_status: Some(429),
        ..call(a, "gpt-4o-mini", None)
    };
    let batch = vec![priced.clone(), unknown.clone(), error.clone()];
    w.write(&batch).await.unwrap();
    // A retried batch (the writer crashed after committing) adds nothing.
    w.write(&batch).await.unwrap();

    let rows = w
        .store
        .call_page(a, &CallFilter::default(), None, 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    let by_id = |id| rows.iter().find(|r| r.id == id).unwrap().view().unwrap();
    let p = by_id(priced.id);
    assert_eq!(p.cost_nanos, Some(240_000));
    assert_eq!(p.cost.as_deref(), Some("0.000240000"));
    assert_eq!(
        (p.usage.input, p.usage.cache_read, p.usage.output),
        (600, 400, 200)
    );
    assert_eq!(p.application.as_deref(), Some("support-bot"));
    let u = by_id(unknown.id);
    assert_eq!(u.cost_status.as_str(), "unpriced");
    assert_eq!(u.cost_nanos, None, "an unknown model is never priced at $0");
    assert_eq!(u.usage.input, 10);
    assert_eq!(by_id(error.id).cost_status.as_str(), "no_usage");

    assert_eq!(
        gateway_spend(&w, a).await,
        [(priced.id.to_string(), 240_000, "USD_NANO".to_owned())],
        "only the priced call is spend, at its exact cost"
    );
    // Tenant B sees none of it.
    assert!(w
        .store
        .call_page(b, &CallFilter::default(), None, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(w.store.call(b, priced.id).await.unwrap().is_none());
    assert!(gateway_spend(&w, b).await.is_empty());
}

async fn calls_page_newest_first_and_filter(backend: Backend) {
    let (_db, w, a, _) = writer(backend).await;
    let base = time::now();
    let calls: Vec<NewCall> = (0..5)
        .map(|i| NewCall {
            started_at: base + chrono::Duration::seconds(i),
            attribution: Attribution {
                application: Some(if i % 2 == 0 { "even" } else { "odd" }.into()),
                ..Attribution::default()
            },
            ..call(a, "gpt-4o-mini", Some(Usage::from_openai(10, 0, 0, 1, 0)))
        })
        .collect();
    w.write(&calls).await.unwrap();
    let first = w
        .store
        .call_page(a, &CallFilter::default(), None, 2)
        .await
        .unwrap();
    assert_eq!(
        first.iter().map(|r| r.id).collect::<Vec<_>>(),
        [calls[4].id, calls[3].id]
    );
    let cursor = auditpulse::gateway::calls::CallCursor {
        started_at: first[1].started_at,
        id: first[1].id,
    };
    let rest = w
        .store
        .call_page(a, &CallFilter::default(), Some(cursor), 10)
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|r| r.id).collect::<Vec<_>>(),
        [calls[2].id, calls[1].id, calls[0].id]
    );
    let odd = CallFilter {
        application: Some("odd".into()),
        ..CallFilter::default()
    };
    assert_eq!(w.store.call_page(a, &odd, None, 10).await.unwrap().len(), 2);
}

async fn unpriced_calls_are_priced_once_later(backend: Backend) {
    let (_db, w, a, _) = writer(backend).await;
    let c = call(a, "house-model", Some(Usage::from_openai(100, 0, 0, 10, 0)));
    w.write(std::slice::from_ref(&c)).await.unwrap();
    let unpriced = w.store.unpriced_calls(a, None, 10).await.unwrap();
    assert_eq!(unpriced.iter().map(|r| r.id).collect::<Vec<_>>(), [c.id]);
    let cost = auditpulse::gateway::Nanos(1_234);
    let set = [(c.id, cost, "house-model".to_owned())];
    assert_eq!(w.store.set_costs(a, &set).await.unwrap(), 1);
    // Only an unpriced call can be priced: a second reprice changes nothing.
    assert_eq!(w.store.set_costs(a, &set).await.unwrap(), 0);
    assert!(w
        .store
        .unpriced_calls(a, None, 10)
        .await
        .unwrap()
        .is_empty());
    let row = w.store.call(a, c.id).await.unwrap().unwrap();
    assert_eq!(row.cost_nanos, Some(1_234));
}

async fn draining_the_recorder_writes_every_queued_call(backend: Backend) {
    let (_db, w, a, _) = writer(backend).await;
    let (recorder, task) = Recorder::start(w.clone());
    let n = 2_000;
    for _ in 0..n {
        recorder
            .record(call(
                a,
                "gpt-4o-mini",
                Some(Usage::from_openai(10, 0, 0, 1, 0)),
            ))
            .await;
    }
    use auditpulse::app::BackgroundTask;
    Box::new(task).drain().await;
    let mut seen = 0;
    let mut after = None;
    loop {
        let page = w
            .store
            .call_page(a, &CallFilter::default(), after, 500)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(auditpulse::gateway::calls::CallCursor {
            started_at: last.started_at,
            id: last.id,
        });
        seen += page.len();
    }
    assert_eq!(seen, n);
    // A call recorded after shutdown began is still written, directly.
    let late = call(a, "gpt-4o-mini", None);
    recorder.record(late.clone()).await;
    assert!(w.store.call(a, late.id).await.unwrap().is_some());
}

on_both_backends!(
    a_priced_call_is_one_exact_spend_event,
    calls_page_newest_first_and_filter,
    unpriced_calls_are_priced_once_later,
    draining_the_recorder_writes_every_queued_call
);
