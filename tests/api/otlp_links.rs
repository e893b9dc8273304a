//! OTLP spans and gateway calls describing the same provider answer, on both backends: whichever
//! arrives first, the ledger holds one spend event (the gateway's) and the usage sums count the
//! call once; a span is listed with the call it is linked to; a retried span adds nothing.

use auditpulse::domain::{ApiKeyId, LlmCallId, TenantId};
use auditpulse::gateway::calls::Writer;
use auditpulse::gateway::calls::{CallFilter, CallSource, NewCall};
use auditpulse::gateway::Usage;
use auditpulse::ledger::{Source, SpendFilter};

use crate::helpers::Backend;
use crate::llm_calls::{call, writer};
use crate::on_both_backends;

/// The same answer as seen in an OTLP span.
fn span_of(gateway: &NewCall) -> NewCall {
    NewCall {
        id: LlmCallId::new(),
        source: CallSource::Otlp,
        endpoint: "chat",
        streamed: false,
        http_status: None,
        ttft_us: None,
        ..gateway.clone()
    }
}

async fn spend(w: &Writer, t: TenantId, source: Source) -> Vec<(String, i64)> {
    let filter = SpendFilter {
        source: Some(source),
        ..SpendFilter::default()
    };
    let rows = w
        .ledger
        .store()
        .spend_page(t, &filter, None, 100)
        .await
        .unwrap();
    rows.into_iter()
        .map(|r| (r.source_ref, r.amount_minor))
        .collect()
}

async fn total_cost(w: &Writer, t: TenantId) -> (i64, i64) {
    let rows = w
        .store
        .usage(t, &CallFilter::default(), &[], None, 10)
        .await
        .unwrap();
    (rows[0].calls, rows[0].cost_nanos)
}

fn answered(tenant: TenantId, response_id: &str) -> NewCall {
    NewCall {
        response_id: Some(response_id.to_owned()),
        api_key: Some(ApiKeyId::new()),
        ..call(
            tenant,
            "gpt-4o-mini",
            Some(Usage::from_openai(1_000, 400, 0, 200, 0)),
        )
    }
}

async fn a_span_of_a_gateway_call_is_linked_not_counted_again(backend: Backend) {
    let (_db, w, a, _) = writer(backend).await;
    let gateway = answered(a, "chatcmpl-link-1");
    w.write(std::slice::from_ref(&gateway)).await.unwrap();
    let span = span_of(&gateway);
    w.write(std::slice::from_ref(&span)).await.unwrap();
    w.write(std::slice::from_ref(&span)).await.unwrap(); // the exporter's retry

    assert_eq!(
        spend(&w, a, Source::Gateway).await,
        [(gateway.id.to_string(), 240_000)]
    );
    assert!(
        spend(&w, a, Source::Otlp).await.is_empty(),
        "the span is not spend again"
    );
    assert_eq!(
        total_cost(&w, a).await,
        (1, 240_000),
        "usage counts the call once"
    );
    let listed = w
        .store
        .call(a, span.id)
        .await
        .unwrap()
        .unwrap()
        .view()
        .unwrap();
    assert!(
        listed.linked_call_id.is_some(),
        "the span is listed as linked"
    );
    assert_eq!(listed.cost_nanos, Some(240_000));
}

async fn a_gateway_call_after_its_span_takes_the_spans_spend_event(backend: Backend) {
    let (_db, w, a, b) = writer(backend).await;
    let gateway = answered(a, "chatcmpl-link-2");
    let span = span_of(&gateway);
    w.write(std::slice::from_ref(&span)).await.unwrap();
    assert_eq!(
        spend(&w, a, Source::Otlp).await,
        [(span.id.to_string(), 240_000)]
    );
    assert_eq!(total_cost(&w, a).await, (1, 240_000));

    w.write(std::slice::from_ref(&gateway)).await.unwrap();
    assert!(
        spend(&w, a, Source::Otlp).await.is_empty(),
        "the span's spend event is taken back"
    );
    assert_eq!(
        spend(&w, a, Source::Gateway).await,
        [(gateway.id.to_string(), 240_000)]
    );
    assert_eq!(total_cost(&w, a).await, (1, 240_000), "still one call");
    // A retried span batch after the link does not bring its spend event back.
    w.write(std::slice::from_ref(&span)).await.unwrap();
    assert!(spend(&w, a, Source::Otlp).await.is_empty());

    // Another tenant's call with the same response id links nothing across tenants.
    let other = answered(b, "chatcmpl-link-2");
    w.write(&[other]).await.unwrap();
    let mine = span_of(&answered(a, "chatcmpl-link-3"));
    w.write(std::slice::from_ref(&mine)).await.unwrap();
    assert_eq!(
        spend(&w, a, Source::Otlp).await,
        [(mine.id.to_string(), 240_000)]
    );
}

async fn spans_without_a_gateway_call_are_spend_of_their_own(backend: Backend) {
    let (_db, w, a, _) = writer(backend).await;
    let lone = span_of(&answered(a, "msg_lone"));
    let no_id = NewCall {
        response_id: None,
        ..span_of(&answered(a, "unused"))
    };
    w.write(&[lone.clone(), no_id.clone()]).await.unwrap();
    let mut want = vec![
        (lone.id.to_string(), 240_000),
        (no_id.id.to_string(), 240_000),
    ];
    let mut got = spend(&w, a, Source::Otlp).await;
    want.sort();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(total_cost(&w, a).await, (2, 480_000));
}

on_both_backends!(
    a_span_of_a_gateway_call_is_linked_not_counted_again,
    a_gateway_call_after_its_span_takes_the_spans_spend_event,
    spans_without_a_gateway_call_are_spend_of_their_own,
);
