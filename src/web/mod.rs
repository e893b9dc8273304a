//! The HTTP surface: routes, the protections every request passes through, TLS, the server loop
//! with graceful shutdown. The wiring that builds the state lives in `crate::app`.

mod client_ip;
mod context;
mod headers;
mod health;
mod json;
mod limits;
mod openapi;
pub mod pagination;
mod router;
pub mod routes;
pub(crate) mod server;
pub(crate) mod tls;

pub use client_ip::ClientIp;
pub use context::{ErrorEnvelope, RequestId};
pub use json::{ValidJson, Validate};
pub(crate) use router::router;
