//! What `inspect` reads from requests, the one change it makes, and the model swap `with_model` makes.

use bytes::Bytes;
use serde_json::Value;

use crate::error::Error;
use crate::gateway::stream::{inspect, with_model, Endpoint, Inspected};

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

#[test]
fn the_output_token_limit_is_read_from_each_endpoints_own_field() {
    let cases = [
        (
            Endpoint::ChatCompletions,
            r#"{"max_tokens": 300}"#,
            Some(300),
        ),
        (
            Endpoint::ChatCompletions,
            r#"{"max_tokens": 300, "max_completion_tokens": 40}"#,
            Some(40),
        ),
        (
            Endpoint::ChatCompletions,
            r#"{"max_completion_tokens": 40, "max_tokens": 300}"#,
            Some(40),
        ),
        (
            Endpoint::ChatCompletions,
            r#"{"max_completion_tokens": null, "max_tokens": 300}"#,
            Some(300),
        ),
        (
            Endpoint::ChatCompletions,
            r#"{"max_output_tokens": 9}"#,
            None,
        ),
        (Endpoint::ChatCompletions, r#"{"model": "gpt-4o"}"#, None),
        (Endpoint::Messages, r#"{"max_tokens": 1024}"#, Some(1024)),
        (Endpoint::Messages, r#"{"max_completion_tokens": 5}"#, None),
        (Endpoint::Responses, r#"{"max_output_tokens": 0}"#, Some(0)),
        (Endpoint::Responses, r#"{"max_tokens": 77}"#, None),
        (Endpoint::Embeddings, r#"{"max_tokens": 77}"#, None),
        (Endpoint::CountTokens, r#"{"max_tokens": 77}"#, None),
        // Beyond u64: as large as it gets, never wrapped to a small number.
        (
            Endpoint::Messages,
            r#"{"max_tokens": 184467440737095516160}"#,
            Some(u64::MAX),
        ),
    ];
    for (endpoint, body, expected) in cases {
        let i = ok(endpoint, body);
        assert_eq!(i.max_output_tokens, expected, "{endpoint:?} {body}");
        assert_eq!(i.body, body.as_bytes(), "reading the limit changes nothing");
    }
}

#[test]
fn an_output_token_limit_that_is_not_a_whole_number_is_refused_by_name() {
    let cases = [
        (
            Endpoint::ChatCompletions,
            r#"{"max_tokens": -1}"#,
            "max_tokens must not be negative",
        ),
        (
            Endpoint::ChatCompletions,
            r#"{"max_completion_tokens": 1.5}"#,
            "max_completion_tokens must be a whole number of tokens",
        ),
        (
            Endpoint::ChatCompletions,
            r#"{"max_completion_tokens": 10, "max_tokens": "lots"}"#,
            "max_tokens must be a whole number of tokens",
        ),
        (
            Endpoint::Messages,
            r#"{"max_tokens": 1e3}"#,
            "max_tokens must be a whole number of tokens",
        ),
        (
            Endpoint::Messages,
            r#"{"max_tokens": "1024"}"#,
            "max_tokens must be a whole number of tokens",
        ),
        (
            Endpoint::Messages,
            r#"{"max_tokens": true}"#,
            "max_tokens must be a whole number of tokens",
        ),
        (
            Endpoint::Responses,
            r#"{"max_output_tokens": -0}"#,
            "max_output_tokens must not be negative",
        ),
        (
            Endpoint::Responses,
            r#"{"max_output_tokens": [100]}"#,
            "max_output_tokens must be a whole number of tokens",
        ),
    ];
    for (endpoint, body, reason) in cases {
        let e = refused(endpoint, body.as_bytes());
        assert_eq!(e.to_string(), reason, "{body}");
        assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST);
    }
}

fn swapped(body: &str, model: &str) -> String {
    match with_model(&Bytes::copy_from_slice(body.as_bytes()), model) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => panic!("not swapped in {body}: {e}"),
    }
}

#[test]
fn a_model_swap_changes_only_the_top_level_model_value() {
    // Odd spacing, unknown fields, escaped quotes and unicode in other members, and `model`
    // keys nested in a message, a tool and a string that must stay as they are.
    let body = "{\n  \"messages\": [{\"role\": \"user\", \"content\": \"say \\\"model\\\": \\\"x\\\" \u{e9}\u{1F600}\", \"model\": \"gpt-4-turbo\"}],\n  \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"model\", \"parameters\": {\"model\": {\"type\": \"string\"}}}}],\n  \"model\"  :\t\"gpt-4-turbo\" ,\n  \"x_vendor\": {\"model\": \"gpt-4-turbo\"}, \"temperature\": 0.70, \"seed\": 184467440737095516160\n}";
    let out = swapped(body, "gpt-3.5-turbo");
    assert_eq!(
        out,
        body.replacen(
            "\"model\"  :\t\"gpt-4-turbo\"",
            "\"model\"  :\t\"gpt-3.5-turbo\"",
            1
        )
    );
    let v = json(out.as_bytes());
    assert_eq!(v["model"], "gpt-3.5-turbo");
    assert_eq!(v["messages"][0]["model"], "gpt-4-turbo");
    assert_eq!(v["x_vendor"]["model"], "gpt-4-turbo");
}

#[test]
fn a_swapped_model_name_is_json_escaped() {
    let body = r#"{"model":"a","input":"hi"}"#;
    for model in [
        "quo\"te",
        "back\\slash",
        "new\nline",
        "caf\u{e9}-\u{1F600}",
        "ctl\u{1}",
    ] {
        let out = swapped(body, model);
        let v = json(out.as_bytes());
        assert_eq!(v["model"], model, "{out}");
        assert_eq!(v["input"], "hi");
    }
    assert_eq!(swapped(body, "m\"x"), r#"{"model":"m\"x","input":"hi"}"#);
}

#[test]
fn a_repeated_or_escaped_model_key_is_swapped_wherever_the_provider_might_read_it() {
    let body = r#"{"model":"gpt-4o","n":1,"model":"gpt-4-turbo"}"#;
    assert_eq!(
        swapped(body, "gpt-4o-mini"),
        r#"{"model":"gpt-4o-mini","n":1,"model":"gpt-4o-mini"}"#
    );
    let escaped = r#"{"mod\u0065l": "gpt-4o", "user": "u"}"#;
    assert_eq!(
        swapped(escaped, "gpt-4o-mini"),
        r#"{"mod\u0065l": "gpt-4o-mini", "user": "u"}"#
    );
    // A non-string model (refused by inspect anyway) is replaced whole.
    assert_eq!(swapped(r#"{"model": null}"#, "m"), r#"{"model": "m"}"#);
}

#[test]
fn a_model_swap_keeps_the_usage_rewrite_in_either_order() {
    let body = format!("  \n{CHAT}, \"stream\": true}}");
    let inspected = ok(Endpoint::ChatCompletions, &body);
    assert!(inspected.strip_usage_chunk);
    let out = swapped(&String::from_utf8_lossy(&inspected.body), "gpt-4o-mini");
    let expected = body
        .replacen('{', r#"{"stream_options":{"include_usage":true},"#, 1)
        .replacen("\"gpt-4o\"", "\"gpt-4o-mini\"", 1);
    assert_eq!(out, expected);

    // Swapped first, then inspected: the same bytes, and the new model read back.
    let first = swapped(&body, "gpt-4o-mini");
    let again = ok(Endpoint::ChatCompletions, &first);
    assert_eq!(String::from_utf8_lossy(&again.body), expected);
    assert_eq!(again.model.as_deref(), Some("gpt-4o-mini"));
}

#[test]
fn a_body_without_a_model_or_not_an_object_cannot_be_swapped() {
    for (body, reason) in [
        (
            &br#"{"messages":[{"model":"x"}]}"#[..],
            "the request names no model",
        ),
        (b"[1]", "the request body must be a JSON object"),
        (b"{\"model\":", "malformed JSON"),
    ] {
        match with_model(&Bytes::copy_from_slice(body), "m") {
            Ok(b) => panic!("swapped {b:?}"),
            Err(e) => assert!(e.to_string().contains(reason), "{e}"),
        }
    }
}
