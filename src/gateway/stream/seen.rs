//! What the gateway learnt about one call from the provider's answer, streamed or not.
//!
//! Invariant: every field is what the provider said or `None`; nothing is guessed. `complete`
//! says the answer reached its end (the provider's end-of-stream marker, or a whole JSON body),
//! so `usage` is the final one; without it `usage` is as far as the answer got.

use crate::gateway::model::Usage;

/// Usage and identity of one call as read from the provider's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    /// The tokens the provider reported; `None` when it reported none we could read.
    pub usage: Option<Usage>,
    /// The model that answered (may differ from the one asked for, e.g. a dated snapshot).
    pub model: Option<String>,
    /// The provider's id of the answer (`chatcmpl-…`, `resp_…`, `msg_…`).
    pub response_id: Option<String>,
    /// The answer reached its end: `data: [DONE]`, `message_stop`, a terminal Responses event
    /// (`response.completed`, `.incomplete`, `.failed`), or a whole JSON body.
    pub complete: bool,
}
