//! Sessions: access tokens, rotating refresh tokens in a cookie, the session cache, and the
//! authenticator that turns a request's credentials into a principal.

pub mod authenticator;
pub mod cache;
pub mod cookie;
mod cross_site;
pub mod routes;
pub mod service;
pub mod tokens;
