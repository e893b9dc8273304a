//! One test per convention, with the attributes each instrumentation really writes.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{status::StatusCode, Span, Status};

use super::*;

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn s(key: &str, v: &str) -> KeyValue {
    kv(key, Value::StringValue(v.into()))
}

fn i(key: &str, v: i64) -> KeyValue {
    kv(key, Value::IntValue(v))
}

/// 2026-12-04T10:00:00Z, lasting 1.5 s.
fn span(attributes: Vec<KeyValue>) -> Span {
    Span {
        trace_id: vec![7; 16],
        span_id: vec![9; 8],
        name: "chat".into(),
        start_time_unix_nano: 1_796_378_400_000_000_000,
        end_time_unix_nano: 1_796_378_401_500_000_000,
        attributes,
        ..Default::default()
    }
}

fn read_with(attributes: Vec<KeyValue>, resource: Vec<KeyValue>) -> Verdict {
    read(&span(attributes), &Attributes::new(&resource))
}

fn call(attributes: Vec<KeyValue>) -> SpanCall {
    match read_with(attributes, vec![s("service.name", "support-bot")]) {
        Verdict::Call(call) => *call,
        other => panic!("not a call: {other:?}"),
    }
}

fn refused(attributes: Vec<KeyValue>) -> String {
    match read_with(attributes, vec![]) {
        Verdict::Refused(reason) => reason,
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn current_gen_ai_conventions_give_provider_models_id_and_every_token_kind() {
    let c = call(vec![
        s("gen_ai.provider.name", "openai"),
        s("gen_ai.operation.name", "chat"),
        s("gen_ai.request.model", "gpt-4o"),
        s("gen_ai.response.model", "gpt-4o-2024-08-06"),
        s("gen_ai.response.id", "chatcmpl-abc"),
        i("gen_ai.usage.input_tokens", 2_006),
        i("gen_ai.usage.cache_read.input_tokens", 1_920),
        i("gen_ai.usage.output_tokens", 300),
        i("gen_ai.usage.reasoning.output_tokens", 128),
    ]);
    assert_eq!(c.provider, Provider::OpenAi);
    assert_eq!(c.operation, "chat");
    assert_eq!(c.model_requested.as_deref(), Some("gpt-4o"));
    assert_eq!(c.model_answered.as_deref(), Some("gpt-4o-2024-08-06"));
    assert_eq!(c.response_id.as_deref(), Some("chatcmpl-abc"));
    // Cached tokens are part of the input count, not added to it.
    assert_eq!(
        (
            c.usage.input,
            c.usage.cache_read,
            c.usage.output,
            c.usage.reasoning
        ),
        (86, 1_920, 300, 128)
    );
    assert_eq!(c.usage.prompt_total(), 2_006);
    assert_eq!(c.attribution.application.as_deref(), Some("support-bot"));
    assert_eq!(c.started_at.to_rfc3339(), "2026-12-04T10:00:00+00:00");
    assert_eq!(c.latency_us, 1_500_000);
    assert_eq!((c.trace_id, c.span_id), ([7; 16], [9; 8]));
}

#[test]
fn deprecated_gen_ai_names_still_count() {
    let c = call(vec![
        s("gen_ai.system", "anthropic"),
        s("gen_ai.request.model", "claude-sonnet-4-5"),
        i("gen_ai.usage.prompt_tokens", 1_000),
        i("gen_ai.usage.completion_tokens", 50),
        i("gen_ai.usage.cache_read_input_tokens", 400),
        i("gen_ai.usage.cache_creation_input_tokens", 100),
    ]);
    assert_eq!(c.provider, Provider::Anthropic);
    assert_eq!(
        (
            c.usage.input,
            c.usage.cache_read,
            c.usage.cache_write_5m,
            c.usage.output
        ),
        (500, 400, 100, 50)
    );
}

#[test]
fn cache_counts_above_the_input_count_were_counted_apart_and_are_added() {
    // Anthropic's own usage: input_tokens excludes cache reads and writes.
    let c = call(vec![
        s("gen_ai.provider.name", "anthropic"),
        s("gen_ai.response.model", "claude-sonnet-4-5"),
        i("gen_ai.usage.input_tokens", 21),
        i("gen_ai.usage.cache_read.input_tokens", 188_086),
        i("gen_ai.usage.cache_creation.input_tokens", 1_000),
        i("gen_ai.usage.output_tokens", 393),
    ]);
    assert_eq!(
        (c.usage.input, c.usage.cache_read, c.usage.cache_write_5m),
        (21, 188_086, 1_000)
    );
}

#[test]
fn openinference_spans_from_its_langchain_instrumentation() {
    let c = call(vec![
        s("openinference.span.kind", "LLM"),
        s("llm.provider", "openai"),
        s("llm.system", "openai"),
        s("llm.model_name", "gpt-4o-mini"),
        i("llm.token_count.prompt", 120),
        i("llm.token_count.completion", 30),
        i("llm.token_count.total", 150),
        i("llm.token_count.prompt_details.cache_read", 20),
        i("llm.token_count.completion_details.reasoning", 5),
        s("user.id", "u-17"),
    ]);
    assert_eq!(c.provider, Provider::OpenAi);
    assert_eq!(c.model_answered.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(
        (
            c.usage.input,
            c.usage.cache_read,
            c.usage.output,
            c.usage.reasoning
        ),
        (100, 20, 30, 5)
    );
    assert_eq!(c.attribution.end_user.as_deref(), Some("u-17"));
}

#[test]
fn openinference_chain_spans_sum_their_children_and_are_not_counted_again() {
    let verdict = read_with(
        vec![
            s("openinference.span.kind", "CHAIN"),
            i("llm.token_count.prompt", 120),
            i("llm.token_count.completion", 30),
        ],
        vec![],
    );
    assert_eq!(verdict, Verdict::NotLlm);
}

#[test]
fn openllmetry_spans_with_traceloop_association_properties() {
    let c = call(vec![
        s("traceloop.span.kind", "llm"),
        s("llm.request.type", "chat"),
        s("gen_ai.system", "OpenAI"),
        s("gen_ai.request.model", "gpt-4o"),
        i("llm.usage.prompt_tokens", 10),
        i("llm.usage.completion_tokens", 4),
        i("llm.usage.total_tokens", 14),
        s("traceloop.association.properties.user_id", "alice"),
        s("traceloop.association.properties.project", "q4-launch"),
    ]);
    assert_eq!(c.provider, Provider::OpenAi);
    assert_eq!((c.usage.input, c.usage.output), (10, 4));
    assert_eq!(c.attribution.end_user.as_deref(), Some("alice"));
    assert_eq!(c.attribution.project.as_deref(), Some("q4-launch"));
    let workflow = read_with(
        vec![
            s("traceloop.span.kind", "workflow"),
            i("gen_ai.usage.prompt_tokens", 10),
            i("gen_ai.usage.completion_tokens", 4),
        ],
        vec![],
    );
    assert_eq!(workflow, Verdict::NotLlm);
}

#[test]
fn the_cost_trackers_langchain_callback_is_understood() {
    // Its spans: the model's first word as provider, its own token and attribution names, and a
    // float cost of its own that AuditPulse ignores.
    let c = call(vec![
        s("llm.model_name", "gpt-4o"),
        s("llm.provider", "gpt"),
        s("llm.application_name", "chatbot"),
        s("llm.user_id", "user-9"),
        i("llm.input_tokens", 1_000),
        i("llm.output_tokens", 200),
        i("llm.total_tokens", 1_200),
        kv("llm.total_cost_usd", Value::DoubleValue(0.0123)),
    ]);
    assert_eq!(c.provider, Provider::OpenAi);
    assert_eq!((c.usage.input, c.usage.output), (1_000, 200));
    assert_eq!(c.attribution.application.as_deref(), Some("chatbot"));
    assert_eq!(c.attribution.end_user.as_deref(), Some("user-9"));
    let claude = call(vec![
        s("llm.model_name", "claude-3-haiku-20240307"),
        s("llm.provider", "claude"),
        i("llm.input_tokens", 10),
        i("llm.output_tokens", 2),
    ]);
    assert_eq!(claude.provider, Provider::Anthropic);
}

#[test]
fn spans_without_tokens_are_not_llm_calls() {
    let http = read_with(vec![s("http.request.method", "POST")], vec![]);
    assert_eq!(http, Verdict::NotLlm);
    let no_usage = read_with(vec![s("gen_ai.request.model", "gpt-4o")], vec![]);
    assert_eq!(no_usage, Verdict::NotLlm);
}

#[test]
fn calls_that_cannot_be_priced_exactly_are_refused_with_the_reason() {
    let total_only = refused(vec![
        s("gen_ai.request.model", "gpt-4o"),
        i("llm.usage.total_tokens", 14),
    ]);
    assert!(total_only.contains("only a total"), "{total_only}");
    let reseller = refused(vec![
        s("gen_ai.provider.name", "aws.bedrock"),
        s("gen_ai.request.model", "anthropic.claude-3-haiku"),
        i("gen_ai.usage.input_tokens", 10),
        i("gen_ai.usage.output_tokens", 2),
    ]);
    assert!(reseller.contains("aws.bedrock"), "{reseller}");
    let unknown_model = refused(vec![
        s("gen_ai.request.model", "mistral-large"),
        i("gen_ai.usage.input_tokens", 10),
    ]);
    assert!(
        unknown_model.contains("gen_ai.provider.name"),
        "{unknown_model}"
    );
    let negative = refused(vec![
        s("gen_ai.request.model", "gpt-4o"),
        i("gen_ai.usage.input_tokens", -5),
    ]);
    assert!(negative.contains("gen_ai.usage.input_tokens"), "{negative}");
}

#[test]
fn spans_without_ids_or_start_time_are_refused() {
    let attributes = vec![
        s("gen_ai.request.model", "gpt-4o"),
        i("gen_ai.usage.input_tokens", 10),
    ];
    let mut no_start = span(attributes.clone());
    no_start.start_time_unix_nano = 0;
    let mut zero_id = span(attributes);
    zero_id.trace_id = vec![0; 16];
    for bad in [no_start, zero_id] {
        assert!(matches!(
            read(&bad, &Attributes::new(&[])),
            Verdict::Refused(_)
        ));
    }
}

#[test]
fn attribution_prefers_the_span_then_the_resource_and_skips_the_sdk_placeholder() {
    let attributes = vec![
        s("gen_ai.request.model", "gpt-4o"),
        i("gen_ai.usage.input_tokens", 10),
    ];
    let resource = vec![
        s("service.name", "unknown_service:python"),
        s("openinference.project.name", "phoenix-proj"),
    ];
    let Verdict::Call(c) = read_with(attributes.clone(), resource) else {
        panic!("a call");
    };
    assert_eq!(c.attribution.application, None);
    assert_eq!(c.attribution.project.as_deref(), Some("phoenix-proj"));
    let mut with_span_app = attributes;
    with_span_app.push(s("auditpulse.application", "billing"));
    let Verdict::Call(c) = read_with(with_span_app, vec![s("service.name", "svc")]) else {
        panic!("a call");
    };
    assert_eq!(c.attribution.application.as_deref(), Some("billing"));
}

#[test]
fn an_error_status_is_kept_without_its_message() {
    let mut failed = span(vec![
        s("gen_ai.request.model", "gpt-4o"),
        i("gen_ai.usage.input_tokens", 10),
    ]);
    failed.status = Some(Status {
        code: StatusCode::Error as i32,
        message: "prompt text that must not be stored".into(),
    });
    let Verdict::Call(c) = read(&failed, &Attributes::new(&[])) else {
        panic!("a call");
    };
    assert!(c.failed);
}
