//! OTLP trace ingest: `POST /v1/traces` per the OTLP/HTTP specification, for teams whose LLM
//! calls are already instrumented with OpenTelemetry. Spans that describe an LLM call become LLM
//! calls (source `otlp`), priced by the gateway's catalog at the span's time and written, with
//! their spend events, through the same writer as the gateway's calls.
//!
//! The map: `batcher` (group commit: concurrent exports written together), `body` (content types, gzip, decoding with the OpenTelemetry project's generated
//! types, the answers), `attrs` (attribute look-up and typed values), `conventions` (the
//! attribute names of each instrumentation), `extract` (a span to an LLM call, or why not),
//! `ingest` (a request to calls: ids, counts, the write), `routes` (the handler).
//!
//! Invariant: a call's id is derived from its tenant, trace id and span id, so an exporter's
//! retry writes nothing new; a span with the provider response id of a gateway call is linked to
//! it and never counted twice; the exporter hears success only once the calls are stored.

pub mod attrs;
pub mod batcher;
pub mod body;
pub mod conventions;
pub mod extract;
pub mod ingest;
pub mod routes;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::gateway::proxy::caller::Callers;
use crate::metrics::Metrics;
use crate::store::IdentityStore;

pub use batcher::{Batcher, BatcherTask};
pub use routes::routes;

/// Requests decoded and waiting for their write at once; more wait up to [`QUEUE_WAIT`], then
/// hear 503.
pub const CONCURRENT_WRITES: usize = 32;

/// How long a request waits for a write slot before it is told to come back.
pub const QUEUE_WAIT: Duration = Duration::from_secs(2);

/// What the OTLP route needs.
pub struct Otlp {
    pub identity: Arc<dyn IdentityStore>,
    /// Keys proven for `ingest:write` in the last second (apart from the gateway's).
    pub callers: Callers,
    /// Writes the calls, several requests' together.
    pub writer: Batcher,
    pub metrics: Arc<Metrics>,
    pub slots: Semaphore,
}

impl Otlp {
    pub fn new(identity: Arc<dyn IdentityStore>, writer: Batcher, metrics: Arc<Metrics>) -> Self {
        Self {
            identity,
            callers: crate::gateway::proxy::callers(),
            writer,
            metrics,
            slots: Semaphore::new(CONCURRENT_WRITES),
        }
    }
}
