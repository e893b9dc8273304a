//! Fuzz target for OTLP trace ingest's decoding and attribute extraction: the first byte picks
//! the encoding (bit 0: protobuf or OTLP/JSON) and gzip (bit 1), the rest is the body of
//! `POST /v1/traces`. A decoded request is read into LLM calls twice.
//!
//! Invariant checked: nothing panics; every span is counted exactly once (a call, ignored or
//! rejected); reading is deterministic (same calls, same ids); a call's token counts stay within
//! the accepted bound and reasoning never exceeds output; a refusal is a 400 or 413 with a
//! message.
#![forbid(unsafe_code)]
#![no_main]

use auditpulse::domain::{ApiKeyId, TenantId};
use auditpulse::otlp::attrs::MAX_TOKENS;
use auditpulse::otlp::body::{decode_bytes, span_count, Encoding};
use auditpulse::otlp::ingest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&mode, body)) = input.split_first() else {
        return;
    };
    let encoding = if mode & 1 == 0 {
        Encoding::Protobuf
    } else {
        Encoding::Json
    };
    let request = match decode_bytes(encoding, mode & 2 != 0, body) {
        Ok(request) => request,
        Err(refusal) => {
            assert!(refusal.status == 400 || refusal.status == 413, "{}", refusal.status);
            assert!(!refusal.message.is_empty());
            return;
        }
    };
    let (tenant, key) = (TenantId::from_uuid(Default::default()), ApiKeyId::from_uuid(Default::default()));
    let batch = ingest::read(&request, tenant, key);
    let counted = batch.calls.len() as u64 + batch.ignored + batch.rejected;
    assert_eq!(counted, span_count(&request) as u64, "every span counted once");
    assert!(batch.reasons.len() as u64 <= batch.rejected);
    assert_eq!(batch.message().is_some(), batch.rejected > 0);
    for call in &batch.calls {
        let u = call.usage.expect("a call has usage");
        assert!(u.prompt_total() <= 3 * MAX_TOKENS && u.output <= MAX_TOKENS);
        assert!(u.reasoning <= u.output);
    }
    let again = ingest::read(&request, tenant, key);
    assert_eq!(again.calls, batch.calls, "reading is deterministic");
});
