//! Fuzz target for the gateway's whole-body readers: the first byte picks the endpoint, the
//! rest is read both as a client's request (`inspect`) and as a provider's answer
//! (`from_body`).
//!
//! Invariant checked: neither panics; a request is forwarded byte-identical unless the usage
//! chunk is asked for, and then the changed body is a JSON object asking for it that, read
//! again, needs no change and names the same model, user and stream flag; usage counts stay
//! within the believable bound.
#![forbid(unsafe_code)]
#![no_main]

use auditpulse::gateway::stream::{from_body, inspect, Endpoint};
use libfuzzer_sys::fuzz_target;

const ENDPOINTS: [Endpoint; 5] = [
    Endpoint::ChatCompletions,
    Endpoint::Responses,
    Endpoint::Embeddings,
    Endpoint::Messages,
    Endpoint::CountTokens,
];

fuzz_target!(|input: &[u8]| {
    let Some((&mode, body)) = input.split_first() else {
        return;
    };
    let endpoint = ENDPOINTS[usize::from(mode) % ENDPOINTS.len()];
    if let Some(usage) = from_body(endpoint, body).usage {
        assert!(usage.prompt_total() <= 4_000_000_000_000 && usage.output <= 1_000_000_000_000);
        assert!(usage.reasoning <= usage.output);
    }
    let Ok(inspected) = inspect(endpoint, body) else {
        return;
    };
    if !inspected.strip_usage_chunk {
        assert!(inspected.body == body, "body changed without a reason");
        return;
    }
    assert!(endpoint == Endpoint::ChatCompletions && inspected.stream);
    let v: serde_json::Value = match serde_json::from_slice(&inspected.body) {
        Ok(v) => v,
        Err(e) => panic!("the changed body is not JSON: {e}"),
    };
    assert!(v["stream_options"]["include_usage"] == serde_json::Value::Bool(true));
    match inspect(endpoint, &inspected.body) {
        Ok(again) => {
            assert!(!again.strip_usage_chunk && again.body == inspected.body);
            assert!(again.model == inspected.model && again.user == inspected.user);
            assert!(again.stream);
        }
        Err(e) => panic!("the changed body is refused: {e}"),
    }
});
