//! The HTTP surface: the application (build, bind, serve), its routes, and the protections every
//! request passes through.

mod api_conventions;
mod app;
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
pub mod routes;
mod server;
mod state;
mod tls;

pub use app::{master_keys, shutdown_signal, Application, ApplicationBuilder};
pub use client_ip::ClientIp;
pub use context::{ErrorEnvelope, RequestId};
pub use json::{ValidJson, Validate};
pub use query::ValidQuery;
pub use state::AppState;
