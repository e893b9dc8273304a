//! The audit trail: an append-only, tamper-evident record of security-relevant events.
//!
//! - `model`: the event (sequence, UTC time, tenant, actor, action, target, source, outcome,
//!   structured details that never hold secrets).
//! - `chain`: the canonical form, `hash = SHA-256(prev_hash || canonical)`, and verification that
//!   names the first event whose content, order or deletion breaks the chain. Pure.
//! - `checkpoint`: HMAC-signed checkpoints that retention pruning leaves behind. Pure.
//! - `log`: [`AuditLog`], the one writer. Callers queue events; one task drains the queue in
//!   batches and appends each batch in one transaction that locks the chain head (group commit),
//!   so concurrent writers, in this instance or others, keep one consistent chain.
//! - `sink`: the `EventSink` that brings every security event from `crate::events` here without
//!   blocking the code that emitted it.
//! - `verify`: walks the stored chain from genesis or the newest verified checkpoint.
//! - `retention`: prunes whole old prefixes and records a signed checkpoint.
//! - `routes`: `GET /api/v1/audit-events` with filters, cursor pagination and JSONL/CSV export.
//!
//! Storage is `store::AuditStore` (`audit/store/`). Invariant: audit rows are never updated; they are deleted only
//! by retention pruning, as a whole prefix, and the database refuses anything else by trigger.

pub mod chain;
pub mod checkpoint;
mod log;
mod model;
pub mod retention;
pub mod routes;
mod sink;
mod store;
mod verify;

pub use checkpoint::Checkpoint;
pub use log::AuditLog;
pub use model::{details_text, ActorKind, AuditEvent, NewAuditEvent, Outcome};
pub use sink::AuditSink;
pub use store::{AuditQuery, AuditStore};
pub use verify::{verify, Verdict};
