//! Stream readers for the gateway: pure readers of what a client asks and what a provider
//! answers, no I/O.
//!
//! The map: `request` (which endpoint, model, user, stream flag and output-token limit a
//! request names, the change made to it for metering, asking a streamed chat answer for its
//! usage, and the model swap a budget asks for), `tap` (forwards a
//! streamed answer and reads its usage from a copy), `body` (usage from a whole JSON answer),
//! `seen` (what both learn), `choices` (when the tap need not hold an event back), `fields` (the providers' usage objects, read once for bodies and
//! streams), `sse` (an incremental server-sent-events parser fed arbitrary byte chunks).
//!
//! Invariant: forwarded bytes are the bytes that came, except the two documented changes made
//! for metering (`request`'s `stream_options`, and `tap` removing the usage chunk that change
//! produced); no input panics and memory is bounded per event.

mod body;
mod choices;
mod fields;
mod request;
mod seen;
pub mod sse;
mod tap;
#[cfg(test)]
mod tests;

pub use body::from_body;
pub use request::{inspect, with_model, Endpoint, Inspected, MAX_MODEL, MAX_USER};
pub use seen::Seen;
pub use tap::{Tap, MAX_EVENT};
