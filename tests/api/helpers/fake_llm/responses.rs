//! The fake OpenAI Responses API (`POST /v1/responses`), plain and streamed: `response.created`,
//! `response.in_progress`, the output items (a `reasoning` item first for reasoning models, then
//! the `message`), `response.output_text.delta` per word, and `response.completed` (or
//! `response.incomplete` when `max_output_tokens` cut the answer) carrying the usage.
//!
//! Invariant: every event has a `sequence_number` one above the previous, starting at 0; only the
//! final event carries usage (`response.created` has `"usage": null`).

use serde_json::{json, Value};

use super::stream::named;
use super::tokens::{answer_words, chunks, content_text, content_words, reasoning_tokens, words};
use super::{now, random_id, Answer, Call};

/// The words of `input`: a string, or items with a `content` (string or parts) or an `output`.
fn input_words(input: &Value) -> u64 {
    match input {
        Value::String(text) => words(text),
        Value::Array(items) => items
            .iter()
            .map(|item| content_words(&item["content"]) + item["output"].as_str().map_or(0, words))
            .sum(),
        _ => 0,
    }
}

fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "annotations": [], "logprobs": [], "text": text})
}

fn message(id: &str, status: &str, content: Value) -> Value {
    json!({"id": id, "type": "message", "status": status, "content": content, "role": "assistant"})
}

/// The `response` object, `status` and `output` and `usage` as given.
fn object(
    id: &str,
    created: i64,
    model: &str,
    request: &Value,
    status: &str,
    output: Value,
    usage: Value,
) -> Value {
    let incomplete = (status == "incomplete").then(|| json!({"reason": "max_output_tokens"}));
    json!({
        "id": id, "object": "response", "created_at": created, "status": status,
        "background": false, "error": null, "incomplete_details": incomplete,
        "instructions": request["instructions"], "max_output_tokens": request["max_output_tokens"],
        "max_tool_calls": null, "model": model, "output": output, "parallel_tool_calls": true,
        "previous_response_id": null, "prompt_cache_key": null,
        "reasoning": {"effort": null, "summary": null}, "safety_identifier": null,
        "service_tier": "default", "store": true, "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"}, "tool_choice": "auto",
        "tools": [], "top_logprobs": 0, "top_p": 1.0, "truncation": "disabled", "usage": usage,
        "user": null, "metadata": {},
    })
}

pub(crate) fn answer(model: &str, request: &Value, call: &Call) -> Answer {
    let instructions = request["instructions"].as_str().unwrap_or("");
    let cached = if words(instructions) > 0
        && call.cache_hit(format!(
            "openai-instructions:{}",
            content_text(&json!(instructions))
        )) {
        words(instructions)
    } else {
        0
    };
    let input = words(instructions) + input_words(&request["input"]);
    let reasoning = reasoning_tokens(model);
    let (answer, cut) = answer_words(request["max_output_tokens"].as_u64(), reasoning);
    let output_tokens = answer.len() as u64 + reasoning;
    let usage = json!({
        "input_tokens": input, "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input + output_tokens,
    });
    let status = if cut { "incomplete" } else { "completed" };
    let id = format!("resp_{}", random_id(48));
    let msg_id = format!("msg_{}", random_id(48));
    let text = answer.join(" ");
    let reasoning_item = (reasoning > 0).then(
        || json!({"id": format!("rs_{}", random_id(48)), "type": "reasoning", "summary": []}),
    );
    let mut output: Vec<Value> = reasoning_item.iter().cloned().collect();
    output.push(message(&msg_id, status, json!([text_part(&text)])));
    let created = now();
    if request["stream"] != json!(true) {
        let body = object(&id, created, model, request, status, json!(output), usage);
        return Answer::Json(body);
    }
    let mut events = Events::default();
    let pending = object(
        &id,
        created,
        model,
        request,
        "in_progress",
        json!([]),
        Value::Null,
    );
    events.push("response.created", json!({"response": pending}));
    events.push("response.in_progress", json!({"response": pending}));
    if let Some(item) = &reasoning_item {
        events.push(
            "response.output_item.added",
            json!({"output_index": 0, "item": item}),
        );
        events.push(
            "response.output_item.done",
            json!({"output_index": 0, "item": item}),
        );
    }
    let at = output.len() - 1;
    let part = |t: &str| json!({"item_id": msg_id, "output_index": at, "content_index": 0, "part": text_part(t)});
    events.push(
        "response.output_item.added",
        json!({"output_index": at, "item": message(&msg_id, "in_progress", json!([]))}),
    );
    events.push("response.content_part.added", part(""));
    for delta in chunks(&answer) {
        events.push(
            "response.output_text.delta",
            json!({"item_id": msg_id, "output_index": at,
            "content_index": 0, "delta": delta, "logprobs": [], "obfuscation": "xyz"}),
        );
    }
    events.push(
        "response.output_text.done",
        json!({"item_id": msg_id, "output_index": at,
        "content_index": 0, "text": text, "logprobs": []}),
    );
    events.push("response.content_part.done", part(&text));
    events.push(
        "response.output_item.done",
        json!({"output_index": at, "item": output[at]}),
    );
    let last = if cut {
        "response.incomplete"
    } else {
        "response.completed"
    };
    events.push(
        last,
        json!({"response": object(&id, created, model, request, status, json!(output), usage)}),
    );
    Answer::Stream(events.frames)
}

#[derive(Default)]
struct Events {
    frames: Vec<String>,
}

impl Events {
    fn push(&mut self, kind: &str, mut data: Value) {
        data["type"] = json!(kind);
        data["sequence_number"] = json!(self.frames.len());
        self.frames.push(named(kind, &data));
    }
}
