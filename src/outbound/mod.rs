//! Outbound HTTP to URLs users configure: the policy (which URLs and addresses may be reached),
//! the filtering resolver and the clients built on them (`client` for bounded JSON calls,
//! `stream` for relayed provider traffic). Plaid uses it now; the LLM gateway's
//! provider base URLs and alert webhooks are to use it too.
//!
//! Invariant: every outbound request goes through [`Client`], which checks the URL against the
//! [`OutboundPolicy`] (https in production; private, loopback, link-local, unique-local, CGNAT,
//! unspecified, multicast and IPv4-mapped private addresses refused unless explicitly allowed)
//! both on the literal host and on every address the host name resolves to, follows no redirect,
//! and bounds time and response size.

mod address;
mod client;
mod policy;
mod resolve;
mod stream;

pub use address::is_blocked;
pub use client::{Client, Limits, OutboundError, Response};
pub use policy::OutboundPolicy;
pub use stream::{StreamClient, StreamLimits};
