//! One export request to LLM calls: each span read under every convention, calls given ids that
//! make a retry a no-op, and the counts the answer and the metrics report.
//!
//! Invariant: every span of the request is counted exactly once, as a call, ignored or rejected.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use sha2::{Digest, Sha256};

use super::attrs::Attributes;
use super::extract::{self, SpanCall, Verdict};
use crate::domain::{ApiKeyId, LlmCallId, TenantId};
use crate::gateway::calls::{CallOutcome, CallSource, NewCall};

/// Rejection reasons quoted in the answer at most; the rest are counted.
const REASONS: usize = 3;

/// What a request held.
#[derive(Debug, Default)]
pub struct Batch {
    pub calls: Vec<NewCall>,
    pub ignored: u64,
    pub rejected: u64,
    /// The first few reasons, with the span they are about.
    pub reasons: Vec<String>,
}

impl Batch {
    /// The `partial_success` message: the first reasons, and how many more.
    pub fn message(&self) -> Option<String> {
        if self.rejected == 0 {
            return None;
        }
        let mut text = self.reasons.join("; ");
        let more = self.rejected.saturating_sub(self.reasons.len() as u64);
        if more > 0 {
            text.push_str(&format!("; and {more} more"));
        }
        Some(text)
    }
}

/// Reads every span of `request` for `tenant`, sent with `key`.
pub fn read(request: &ExportTraceServiceRequest, tenant: TenantId, key: ApiKeyId) -> Batch {
    let mut batch = Batch::default();
    for resource_spans in &request.resource_spans {
        let resource_attrs = resource_spans
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        let resource = Attributes::new(resource_attrs);
        for span in resource_spans.scope_spans.iter().flat_map(|s| &s.spans) {
            match extract::read(span, &resource) {
                Verdict::Call(call) => batch.calls.push(new_call(*call, tenant, key)),
                Verdict::NotLlm => batch.ignored += 1,
                Verdict::Refused(reason) => {
                    batch.rejected += 1;
                    if batch.reasons.len() < REASONS {
                        // A span id is 8 bytes; a longer one is not echoed whole.
                        let id = &span.span_id[..span.span_id.len().min(8)];
                        batch
                            .reasons
                            .push(format!("span {}: {reason}", hex::encode(id)));
                    }
                }
            }
        }
    }
    batch
}

/// The call's id: a UUIDv7 with the span's start time (so calls list in time order) and bits
/// from a hash of tenant, trace id and span id (so the same span is always the same call).
pub fn call_id(tenant: TenantId, trace_id: &[u8; 16], span_id: &[u8; 8], millis: u64) -> LlmCallId {
    let mut hash = Sha256::new();
    hash.update(b"auditpulse otlp span\0");
    hash.update(tenant.as_uuid().as_bytes());
    hash.update(trace_id);
    hash.update(span_id);
    let digest = hash.finalize();
    let mut random = [0u8; 10];
    random.copy_from_slice(&digest[..10]);
    LlmCallId::from_uuid(uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid())
}

fn new_call(call: SpanCall, tenant: TenantId, key: ApiKeyId) -> NewCall {
    let millis = u64::try_from(call.started_at.timestamp_millis()).unwrap_or(0);
    NewCall {
        id: call_id(tenant, &call.trace_id, &call.span_id, millis),
        tenant,
        source: CallSource::Otlp,
        api_key: Some(key),
        provider: call.provider,
        endpoint: call.operation,
        attribution: call.attribution,
        model_requested: call.model_requested,
        swapped_to: None,
        model_answered: call.model_answered,
        response_id: call.response_id,
        streamed: false,
        http_status: None,
        outcome: if call.failed {
            CallOutcome::ProviderError
        } else {
            CallOutcome::Completed
        },
        usage: Some(call.usage),
        started_at: call.started_at,
        latency_us: call.latency_us,
        ttft_us: None,
        error: call
            .failed
            .then(|| "the span's status is an error".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_span_is_the_same_call_and_other_tenants_spans_are_not() {
        let tenant = TenantId::new();
        let a = call_id(tenant, &[1; 16], &[2; 8], 1_796_378_400_000);
        assert_eq!(a, call_id(tenant, &[1; 16], &[2; 8], 1_796_378_400_000));
        assert_ne!(a, call_id(tenant, &[1; 16], &[3; 8], 1_796_378_400_000));
        assert_ne!(
            a,
            call_id(TenantId::new(), &[1; 16], &[2; 8], 1_796_378_400_000)
        );
        assert_eq!(a.as_uuid().get_version_num(), 7);
        let later = call_id(tenant, &[1; 16], &[2; 8], 1_796_378_460_000);
        assert!(later > a, "ids follow the span's start time");
    }
}
