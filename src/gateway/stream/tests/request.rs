//! What `inspect` reads from requests and the one change it makes.

use serde_json::Value;

use crate::error::Error;
use crate::gateway::stream::{inspect, Endpoint, Inspected};

fn ok(endpoint: Endpoint, body: &str) -> Inspected {
    match inspect(endpoint, body.as_bytes()) {
        Ok(i) => i,
        Err(e) => panic!("refused {body}: {e}"),
    }
}

fn refused(endpoint: Endpoint, body: &[u8]) -> Error {
    match inspect(endpoint, body) {
        Ok(_) => panic!("accepted {}", String::from_utf8_lossy(body)),
        Err(e) => e,
    }
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

// Odd spacing, an unknown field, a float and an integer beyond u64 that a re-serialisation
// would change.
const CHAT: &str = "{ \"model\" : \"gpt-4o\",\n  \"temperature\": 0.70, \"seed\": 184467440737095516160, \"x_vendor\": {\"k\": [1, 2]},\n  \"user\": \"u-42\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]";

#[test]
fn a_request_is_forwarded_byte_for_byte_when_nothing_is_added() {
    let body = format!("{CHAT}}}");
    let i = ok(Endpoint::ChatCompletions, &body);
    assert_eq!(i.body, body.as_bytes());
    assert_eq!(i.model.as_deref(), Some("gpt-4o"));
    assert_eq!(i.user.as_deref(), Some("u-42"));
    assert!(!i.stream && !i.strip_usage_chunk);

    let asked =
        format!("{CHAT}, \"stream\": true, \"stream_options\": {{\"include_usage\": true}}}}");
    let i = ok(Endpoint::ChatCompletions, &asked);
    assert_eq!(i.body, asked.as_bytes());
    assert!(
        i.stream && !i.strip_usage_chunk,
        "the client asked itself: nothing to strip"
    );
}

#[test]
fn a_streamed_chat_without_usage_gets_include_usage_and_nothing_else_changes() {
    let body = format!("  \n{CHAT}, \"stream\": true}}");
    let i = ok(Endpoint::ChatCompletions, &body);
    assert!(i.stream && i.strip_usage_chunk);
    let expected = body.replacen('{', r#"{"stream_options":{"include_usage":true},"#, 1);
    assert_eq!(String::from_utf8_lossy(&i.body), expected);
    assert_eq!(json(&i.body)["stream_options"]["include_usage"], true);
}

#[test]
fn existing_stream_options_keep_their_other_fields() {
    for (options, rewritten) in [
        (
            r#"{"include_obfuscation": false}"#,
            r#"{"include_obfuscation":false,"include_usage":true}"#,
        ),
        (
            r#"{"include_usage": false, "include_obfuscation": true}"#,
            r#"{"include_obfuscation":true,"include_usage":true}"#,
        ),
        ("null", r#"{"include_usage":true}"#),
    ] {
        let body = format!("{CHAT}, \"stream_options\": {options}, \"stream\": true}}");
        let i = ok(Endpoint::ChatCompletions, &body);
        assert!(i.strip_usage_chunk, "{options}");
        assert_eq!(
            String::from_utf8_lossy(&i.body),
            body.replacen(options, rewritten, 1),
            "only stream_options is rewritten"
        );
    }
}

#[test]
fn only_a_streamed_chat_completion_is_changed() {
    let responses = r#"{"model":"o3","input":"hi","stream":true,"user":"u1"}"#;
    let i = ok(Endpoint::Responses, responses);
    assert!(i.stream && !i.strip_usage_chunk);
    assert_eq!(i.body, responses.as_bytes());
    assert_eq!(i.user.as_deref(), Some("u1"));

    let messages = r#"{"model":"claude-sonnet-4-5","max_tokens":1024,"stream":true,"metadata":{"user_id":"13803d75-b4b5-4c3e-b2a2-6f21399b021b"},"messages":[]}"#;
    let i = ok(Endpoint::Messages, messages);
    assert!(i.stream && !i.strip_usage_chunk);
    assert_eq!(i.body, messages.as_bytes());
    assert_eq!(i.model.as_deref(), Some("claude-sonnet-4-5"));
    assert_eq!(
        i.user.as_deref(),
        Some("13803d75-b4b5-4c3e-b2a2-6f21399b021b")
    );

    // Endpoints that never stream ignore a stray flag.
    let i = ok(
        Endpoint::Embeddings,
        r#"{"model":"text-embedding-3-small","input":"x","stream":true}"#,
    );
    assert!(!i.stream && !i.strip_usage_chunk);
    let i = ok(
        Endpoint::CountTokens,
        r#"{"model":"claude-sonnet-4-5","messages":[],"stream":true}"#,
    );
    assert!(!i.stream);
}

#[test]
fn bodies_the_provider_could_not_read_are_refused_with_a_reason() {
    let cases: &[(&[u8], &str)] = &[
        (b"{\"model\": \"gpt-4o\",", "malformed JSON"),
        (b"", "malformed JSON"),
        (b"\xff\xfe", "malformed JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"\"text\"", "must be a JSON object"),
        (br#"{"model": 4}"#, "model must be a string"),
        (
            br#"{"model": "m", "stream": "yes"}"#,
            "stream must be true or false",
        ),
        (
            br#"{"stream": true, "stream_options": "all"}"#,
            "stream_options must be an object",
        ),
        (br#"{"user": ["a"]}"#, "user must be a string"),
    ];
    for (body, reason) in cases {
        let e = refused(Endpoint::ChatCompletions, body);
        assert!(
            e.to_string().contains(reason),
            "{e} for {}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST);
    }
    let e = refused(Endpoint::Messages, br#"{"metadata": {"user_id": 7}}"#);
    assert_eq!(e.to_string(), "metadata.user_id must be a string");
    let e = refused(Endpoint::Messages, br#"{"metadata": []}"#);
    assert_eq!(e.to_string(), "metadata must be an object");
    let long = format!(r#"{{"model": "{}"}}"#, "m".repeat(300));
    let e = refused(Endpoint::ChatCompletions, long.as_bytes());
    assert_eq!(e.to_string(), "model is longer than 256 bytes");
}

#[test]
fn deeply_nested_bodies_do_not_overflow_the_stack() {
    let depth = 200_000;
    let body = format!(
        r#"{{"model":"gpt-4o","stream":true,"messages":{}{}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    // Accepted or refused, but answered: the nesting is skipped over, not recursed into.
    let _ = inspect(Endpoint::ChatCompletions, body.as_bytes());
    let options = format!(
        r#"{{"stream":true,"stream_options":{{"x":{}{}}}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let e = refused(Endpoint::ChatCompletions, options.as_bytes());
    assert!(
        e.to_string().starts_with("stream_options: recursion limit"),
        "{e}"
    );
}
