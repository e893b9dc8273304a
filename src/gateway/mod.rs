//! LLM spend: the metering gateway in front of OpenAI- and Anthropic-compatible providers, the
//! versioned price catalog every LLM call is priced by, and the stream readers that find a call's
//! usage in what the provider sent.
//!
//! The map: `model` (providers, token usage in one provider-neutral shape, nano-dollar costs),
//! `prices` (the catalog: dated prices per model with tiers, exact cost arithmetic, the shipped
//! data set and tenant overrides), `pricing` (imported catalogs and overrides in storage, the
//! price book loaded from them, repricing, the price routes, the unpriced-model alert), `stream` (what a request asks for and the
//! one change made to it, the streaming tap that forwards an answer while reading its usage,
//! usage from whole bodies, the incremental server-sent-events reader), `providers`
//! (each tenant's upstream keys, sealed at rest, and the look-up the proxy makes per call),
//! `calls` (each call's tokens and exact cost, recorded off the request path), `proxy` (the
//! provider-shaped routes and the streaming relay), `ttl` (the short cache of per-call look-ups).
//!
//! Invariant: the pure parts (`model`, `prices` arithmetic, `stream`) do no I/O; a cost is always
//! an exact integer number of nano-dollars or explicitly unknown, never a float and never a
//! guessed zero.

pub mod calls;
pub mod model;
pub mod prices;
pub mod pricing;
pub mod providers;
pub mod proxy;
pub mod stream;
pub mod ttl;

pub use model::{Nanos, Provider, Usage};
