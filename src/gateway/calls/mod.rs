//! LLM calls: what one call through the gateway used and cost, who it is attributed to, and how
//! it reaches storage and the ledger without slowing the call down.
//!
//! The map: `model` (a finished call, its outcome and cost status, the listed view), `store`
//! (both backends), `record` (pricing, the spend event, the background batch writer), `usage` (calls summed by
//! attribution and UTC bucket), `routes` (`/api/v1/llm/calls` and `/api/v1/llm/usage`).
//!
//! Invariant: a call's cost is exact nano-dollars or explicitly `unpriced`/`no_usage`, never a
//! guessed zero; a priced call is one spend event (source `gateway`, currency `USD_NANO`, the
//! call's id as its reference), so a retried write never counts it twice.

pub mod model;
pub mod record;
pub mod routes;
pub mod store;
pub mod usage;

pub use model::{Attribution, CallCost, CallOutcome, CallSource, CostStatus, LlmCall, NewCall};
pub use record::{cost_of, Recorder, RecorderTask, Writer};
pub use store::{CallCursor, CallFilter, CallRow, CallStore, UsageRow};
pub use usage::{GroupKey, Interval, UsageGroup, UsageSums};
