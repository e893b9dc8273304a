//! Stream readers for the gateway: pure parsers of what a provider sends, no I/O.
//!
//! The map: `sse` (an incremental server-sent-events parser fed arbitrary byte chunks).
//!
//! Invariant: nothing here changes the bytes the gateway forwards; parsers read a copy.

pub mod sse;
