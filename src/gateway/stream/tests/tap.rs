//! The streaming tap: what the client receives and what usage is read, for any chunking.

use super::fixtures::*;
use crate::gateway::model::Usage;
use crate::gateway::stream::{Endpoint, Seen, Tap, MAX_EVENT};

/// Feeds the chunks; returns the bytes the client got (the held rest flushed at the end) and
/// what was seen.
fn run(endpoint: Endpoint, strip: bool, chunks: &[&[u8]]) -> (Vec<u8>, Seen) {
    let mut tap = Tap::new(endpoint, strip);
    let mut out = Vec::new();
    for chunk in chunks {
        out.extend_from_slice(&tap.feed(chunk));
    }
    out.extend_from_slice(&tap.flush());
    (out, tap.finish())
}

/// The result of feeding `stream` whole, after checking that every two-way split and
/// byte-by-byte feeding give the same.
fn any_chunking(endpoint: Endpoint, strip: bool, stream: &[u8]) -> (Vec<u8>, Seen) {
    let whole = run(endpoint, strip, &[stream]);
    for i in 0..=stream.len() {
        let (a, b) = stream.split_at(i);
        assert_eq!(run(endpoint, strip, &[a, b]), whole, "split at {i}");
    }
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(run(endpoint, strip, &bytes), whole, "byte by byte");
    whole
}

#[test]
fn a_chat_stream_is_forwarded_unchanged_and_its_usage_read() {
    let (out, seen) = any_chunking(Endpoint::ChatCompletions, false, CHAT_STREAM.as_bytes());
    assert_eq!(out, CHAT_STREAM.as_bytes());
    assert_eq!(
        seen.usage,
        Some(Usage::from_openai(2006, 1920, 0, 300, 128))
    );
    assert_eq!(seen.model.as_deref(), Some("gpt-4o-2024-08-06"));
    assert_eq!(
        seen.response_id.as_deref(),
        Some("chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG")
    );
    assert!(seen.complete);
}

#[test]
fn stripping_removes_exactly_the_usage_chunk() {
    let expected = CHAT_STREAM.replace(CHAT_USAGE_CHUNK, "");
    assert_ne!(expected, CHAT_STREAM);
    let (out, seen) = any_chunking(Endpoint::ChatCompletions, true, CHAT_STREAM.as_bytes());
    assert_eq!(String::from_utf8_lossy(&out), expected);
    assert_eq!(
        seen.usage,
        Some(Usage::from_openai(2006, 1920, 0, 300, 128))
    );
    assert!(seen.complete);

    // The same with CRLF framing: the chunk's own CRLFs go with it, the next event's stay.
    let crlf = CHAT_STREAM.replace('\n', "\r\n");
    let (out, seen) = any_chunking(Endpoint::ChatCompletions, true, crlf.as_bytes());
    assert_eq!(
        String::from_utf8_lossy(&out),
        expected.replace('\n', "\r\n")
    );
    assert!(seen.usage.is_some() && seen.complete);

    // Only the first usage chunk is the gateway's; a repeated one is the provider's business.
    let twice = CHAT_STREAM.replace("data: [DONE]", &format!("{CHAT_USAGE_CHUNK}data: [DONE]"));
    let (out, _) = run(Endpoint::ChatCompletions, true, &[twice.as_bytes()]);
    assert_eq!(String::from_utf8_lossy(&out), CHAT_STREAM);
}

#[test]
fn stripping_holds_back_only_an_unfinished_event_that_could_be_the_usage_chunk() {
    let mut tap = Tap::new(Endpoint::ChatCompletions, true);
    let content = CHAT_STREAM.split("\n\n").nth(1).unwrap_or_default();
    let choices = content.find(r#""choices":[{"#).unwrap_or_default();
    let half = &content.as_bytes()[..choices + 12];
    // Past `"choices":[{` the event cannot be the usage chunk: it goes out at once.
    assert_eq!(tap.feed(half), half);
    let usage_start = &CHAT_USAGE_CHUNK.as_bytes()[..40];
    let mut tap = Tap::new(Endpoint::ChatCompletions, true);
    assert!(
        tap.feed(usage_start).is_empty(),
        "could still be the usage chunk"
    );
    // Not stripping, nothing is ever held.
    let mut tap = Tap::new(Endpoint::ChatCompletions, false);
    assert_eq!(tap.feed(usage_start), usage_start);
    // Stripping only applies to chat completions.
    let mut tap = Tap::new(Endpoint::Messages, true);
    assert_eq!(tap.feed(usage_start), usage_start);
}

#[test]
fn a_responses_stream_reads_usage_from_its_terminal_event() {
    let (out, seen) = any_chunking(Endpoint::Responses, false, RESPONSES_STREAM.as_bytes());
    assert_eq!(out, RESPONSES_STREAM.as_bytes());
    assert_eq!(
        seen.usage,
        Some(Usage::from_openai(1037, 1024, 0, 211, 192))
    );
    assert_eq!(seen.model.as_deref(), Some("o3-2025-04-16"));
    assert_eq!(
        seen.response_id.as_deref(),
        Some("resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41")
    );
    assert!(seen.complete);

    let incomplete = RESPONSES_STREAM
        .replace("response.completed", "response.incomplete")
        .replace(
            r#""status":"completed","model""#,
            r#""status":"incomplete","model""#,
        );
    let (_, seen) = run(Endpoint::Responses, false, &[incomplete.as_bytes()]);
    assert!(seen.complete && seen.usage.is_some());
}

#[test]
fn an_anthropic_stream_takes_cumulative_counts_from_start_and_delta() {
    let (out, seen) = any_chunking(Endpoint::Messages, false, MESSAGES_STREAM.as_bytes());
    assert_eq!(out, MESSAGES_STREAM.as_bytes());
    assert_eq!(
        seen.usage,
        Some(Usage::from_anthropic(
            21,
            188_086,
            1000,
            Some((400, 600)),
            393
        ))
    );
    assert_eq!(seen.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
    assert_eq!(
        seen.response_id.as_deref(),
        Some("msg_01XFDUDYJgAACzvnptvVoYEL")
    );
    assert!(seen.complete);

    // Newer versions repeat the input counts in message_delta: the later report wins, and a
    // changed cache-write total without a split is a 5-minute write.
    let repeated = MESSAGES_STREAM.replace(
        r#""usage":{"output_tokens":393}"#,
        r#""usage":{"input_tokens":25,"cache_creation_input_tokens":1200,"cache_read_input_tokens":188086,"output_tokens":393}"#,
    );
    let (_, seen) = run(Endpoint::Messages, false, &[repeated.as_bytes()]);
    assert_eq!(
        seen.usage,
        Some(Usage::from_anthropic(25, 188_086, 1200, None, 393))
    );
}

#[test]
fn a_truncated_stream_is_incomplete_with_the_usage_seen_so_far() {
    let cut = MESSAGES_STREAM
        .find("event: message_delta")
        .unwrap_or_default();
    let (out, seen) = any_chunking(
        Endpoint::Messages,
        false,
        &MESSAGES_STREAM.as_bytes()[..cut],
    );
    assert_eq!(out.len(), cut);
    assert!(!seen.complete);
    assert_eq!(seen.usage.map(|u| (u.input, u.output)), Some((21, 1)));

    let cut = CHAT_STREAM.find(CHAT_USAGE_CHUNK).unwrap_or_default() + 100;
    for strip in [false, true] {
        let (out, seen) = run(
            Endpoint::ChatCompletions,
            strip,
            &[&CHAT_STREAM.as_bytes()[..cut]],
        );
        assert_eq!(
            out,
            &CHAT_STREAM.as_bytes()[..cut],
            "the held rest is flushed"
        );
        assert_eq!((seen.usage, seen.complete), (None, false));
    }
    // An in-stream error ends the answer without completing it.
    let error = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    let cut = MESSAGES_STREAM
        .find("event: content_block_delta")
        .unwrap_or_default();
    let stream = format!("{}{error}", &MESSAGES_STREAM[..cut]);
    let (_, seen) = run(Endpoint::Messages, false, &[stream.as_bytes()]);
    assert!(!seen.complete && seen.usage.is_some());
}

#[test]
fn malformed_events_are_forwarded_and_skipped() {
    let junk = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":\n\ndata: \u{0}\u{7f}]]\n\n: comment\n\nevent: x\n\n";
    let stream = format!("{junk}{CHAT_STREAM}");
    for strip in [false, true] {
        let (out, seen) = any_chunking(Endpoint::ChatCompletions, strip, stream.as_bytes());
        let expected = if strip {
            stream.replace(CHAT_USAGE_CHUNK, "")
        } else {
            stream.clone()
        };
        assert_eq!(String::from_utf8_lossy(&out), expected);
        assert!(seen.usage.is_some() && seen.complete);
    }
    let mut tap = Tap::new(Endpoint::Messages, false);
    let noise = b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":-1,\"output_tokens\":1e9}}}\n\n";
    assert_eq!(tap.feed(noise), &noise[..]);
    assert_eq!(tap.finish().usage, None);
}

#[test]
fn an_oversized_event_is_forwarded_untouched_and_not_read() {
    let padded = CHAT_USAGE_CHUNK.replace(
        r#""choices":[]"#,
        &format!(r#""pad":"{}","choices":[]"#, "x".repeat(MAX_EVENT)),
    );
    let stream = format!("{padded}data: [DONE]\n\n");
    let bytes = stream.as_bytes();
    for chunks in [vec![bytes], bytes.chunks(64 * 1024).collect()] {
        let (out, seen) = run(Endpoint::ChatCompletions, true, &chunks);
        assert!(out == bytes, "forwarded unchanged");
        assert_eq!((seen.usage, seen.complete), (None, true));
    }
}

#[test]
fn an_empty_chunk_between_cr_and_lf_does_not_split_the_crlf() {
    // Found by the gateway_tap fuzz target: the usage chunk's blank line ended in CR at the end
    // of a chunk, an empty chunk came, then the LF; the LF was forwarded alone.
    let crlf = CHAT_STREAM.replace('\n', "\r\n");
    let bytes = crlf.as_bytes();
    let expected = crlf.replace(&CHAT_USAGE_CHUNK.replace('\n', "\r\n"), "");
    assert_ne!(expected, crlf);
    let at = crlf.find("data: [DONE]").unwrap_or_default() - 1;
    let (out, _) = run(
        Endpoint::ChatCompletions,
        true,
        &[&bytes[..at], &[], &[], &bytes[at..]],
    );
    assert_eq!(String::from_utf8_lossy(&out), expected);
}
