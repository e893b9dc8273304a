//! Fuzz target for the gateway's streaming tap: the first byte picks the endpoint and whether
//! the usage chunk is stripped, the second seeds the chunk sizes, the rest is the provider's
//! stream.
//!
//! Invariant checked: it never panics; fed in chunks it forwards the same bytes and sees the
//! same usage as fed whole; without stripping the client gets exactly the provider's bytes,
//! with stripping at most one contiguous run of them is taken out.
#![forbid(unsafe_code)]
#![no_main]

use auditpulse::gateway::stream::{Endpoint, Seen, Tap};
use libfuzzer_sys::fuzz_target;

const ENDPOINTS: [Endpoint; 4] = [
    Endpoint::ChatCompletions,
    Endpoint::Responses,
    Endpoint::Messages,
    Endpoint::Embeddings,
];

fn run(endpoint: Endpoint, strip: bool, chunks: &[&[u8]]) -> (Vec<u8>, Seen) {
    let mut tap = Tap::new(endpoint, strip);
    let mut out = Vec::new();
    for chunk in chunks {
        out.extend_from_slice(&tap.feed(chunk));
    }
    out.extend_from_slice(&tap.flush());
    (out, tap.finish())
}

fuzz_target!(|input: &[u8]| {
    let [mode, seed, stream @ ..] = input else {
        return;
    };
    let endpoint = ENDPOINTS[usize::from(mode & 3)];
    let strip = mode & 4 != 0;
    // Chunk sizes from 0 to 63, varied by a small LCG so cuts land everywhere.
    let mut state = u32::from(*seed);
    let mut chunks = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = ((state >> 16) % 64) as usize;
        let (chunk, tail) = rest.split_at(n.min(rest.len()));
        chunks.push(chunk);
        rest = tail;
    }
    let whole = run(endpoint, strip, &[stream]);
    let chunked = run(endpoint, strip, &chunks);
    assert!(whole == chunked, "chunking changed the result");
    let out = whole.0;
    if !strip || endpoint != Endpoint::ChatCompletions {
        assert!(out == stream, "forwarded bytes differ");
    } else {
        let prefix = out.iter().zip(stream).take_while(|(a, b)| a == b).count();
        let suffix = out
            .iter()
            .rev()
            .zip(stream.iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        assert!(
            out.len() <= stream.len() && prefix + suffix >= out.len(),
            "more than one run of bytes removed"
        );
    }
});
