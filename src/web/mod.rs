//! The HTTP surface: routes, the protections every request passes through, TLS, the server loop
//! with graceful shutdown. The wiring that builds the state lives in `crate::app`.

mod api_conventions;
mod client_ip;
mod context;
mod early_errors;
mod headers;
mod health;
mod json;
mod limits;
mod openapi;
pub mod pagination;
mod query;
mod router;
pub mod routes;
pub(crate) mod server;
pub(crate) mod tls;

pub use client_ip::ClientIp;
pub use context::{ErrorEnvelope, Relayed, RequestId};
pub use json::{ValidJson, Validate};
pub use query::ValidQuery;
pub(crate) use router::router;
