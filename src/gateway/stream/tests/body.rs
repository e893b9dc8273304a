//! Usage from whole JSON answers.

use super::fixtures::*;
use crate::gateway::model::Usage;
use crate::gateway::stream::{from_body, Endpoint, Seen};

fn usage(endpoint: Endpoint, body: &str) -> Option<Usage> {
    from_body(endpoint, body.as_bytes()).usage
}

#[test]
fn each_endpoint_reads_its_usage_model_and_id() {
    let seen = from_body(Endpoint::ChatCompletions, CHAT_BODY.as_bytes());
    assert_eq!(
        seen.usage,
        Some(Usage::from_openai(2006, 1920, 0, 300, 128))
    );
    assert_eq!(seen.model.as_deref(), Some("gpt-4.1-2025-04-14"));
    assert_eq!(
        seen.response_id.as_deref(),
        Some("chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT")
    );
    assert!(seen.complete);

    let seen = from_body(Endpoint::Responses, RESPONSES_BODY.as_bytes());
    let u = seen.usage.unwrap_or_default();
    assert_eq!(
        (u.input, u.cache_read, u.output, u.reasoning),
        (13, 1024, 211, 192)
    );
    assert_eq!(seen.model.as_deref(), Some("o3-2025-04-16"));

    let seen = from_body(Endpoint::Embeddings, EMBEDDINGS_BODY.as_bytes());
    assert_eq!(seen.usage, Some(Usage::from_openai(8, 0, 0, 0, 0)));
    assert_eq!(seen.model.as_deref(), Some("text-embedding-3-small"));
    assert_eq!(seen.response_id, None);

    let seen = from_body(Endpoint::Messages, MESSAGES_BODY.as_bytes());
    let u = seen.usage.unwrap_or_default();
    assert_eq!(
        (
            u.input,
            u.cache_read,
            u.cache_write_5m,
            u.cache_write_1h,
            u.output
        ),
        (21, 188_086, 400, 600, 393)
    );
    assert_eq!(
        seen.response_id.as_deref(),
        Some("msg_013Zva2CMHLNnXjNJJKqJ2EF")
    );

    // Counting tokens is free: zero billed tokens, not an unknown usage.
    assert_eq!(
        usage(Endpoint::CountTokens, COUNT_TOKENS_BODY),
        Some(Usage::default())
    );
}

#[test]
fn cache_writes_without_a_consistent_split_are_five_minute_writes() {
    let no_split =
        r#"{"usage":{"input_tokens":5,"cache_creation_input_tokens":70,"output_tokens":2}}"#;
    let u = usage(Endpoint::Messages, no_split).unwrap_or_default();
    assert_eq!((u.cache_write_5m, u.cache_write_1h), (70, 0));
    let wrong_split = r#"{"usage":{"input_tokens":5,"cache_creation_input_tokens":70,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":2}}"#;
    let u = usage(Endpoint::Messages, wrong_split).unwrap_or_default();
    assert_eq!((u.cache_write_5m, u.cache_write_1h), (70, 0));
}

#[test]
fn unbelievable_counts_are_missing_and_garbage_gives_nothing() {
    for bad in [
        "-5",
        "5.5",
        "\"12\"",
        "1000000000001",
        "1e3",
        "null",
        "true",
    ] {
        let body = format!(r#"{{"usage":{{"prompt_tokens":{bad},"completion_tokens":7}}}}"#);
        assert_eq!(
            usage(Endpoint::ChatCompletions, &body),
            Some(Usage::from_openai(0, 0, 0, 7, 0)),
            "prompt_tokens {bad}"
        );
        let body = format!(r#"{{"usage":{{"prompt_tokens":{bad}}}}}"#);
        assert_eq!(
            usage(Endpoint::Embeddings, &body),
            None,
            "prompt_tokens {bad}"
        );
    }
    // The largest believable count is kept.
    let body = r#"{"usage":{"input_tokens":1000000000000,"output_tokens":0}}"#;
    assert_eq!(
        usage(Endpoint::Responses, body).map(|u| u.input),
        Some(1_000_000_000_000)
    );

    for garbage in [
        "",
        "{",
        "[]",
        "null",
        "\u{feff}{}",
        "{\"usage\": []}",
        "{\"usage\": 3}",
    ] {
        for endpoint in [
            Endpoint::ChatCompletions,
            Endpoint::Responses,
            Endpoint::Embeddings,
            Endpoint::Messages,
            Endpoint::CountTokens,
        ] {
            assert_eq!(
                from_body(endpoint, garbage.as_bytes()).usage,
                None,
                "{garbage:?}"
            );
        }
    }
    assert_eq!(
        from_body(Endpoint::ChatCompletions, b"{\"id\": 1"),
        Seen::default()
    );
    // An error answer is whole but carries no usage.
    let error = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let seen = from_body(Endpoint::Messages, error.as_bytes());
    assert_eq!((seen.usage, seen.complete), (None, true));
}
