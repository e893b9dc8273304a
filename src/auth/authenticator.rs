//! The authentication hook. The identity capability implements it for sessions and API keys.

use async_trait::async_trait;
use axum::http::request::Parts;

use super::principal::Principal;
use crate::error::Result;

#[async_trait]
pub trait Authenticator: Send + Sync {
    /// The principal the request's credentials prove, `Ok(None)` when it carries none this
    /// authenticator accepts. Invalid credentials are `Ok(None)` too: callers answer 401 either way.
    async fn authenticate(&self, parts: &Parts) -> Result<Option<Principal>>;
}

/// Accepts nobody. The default until user and API-key authentication is configured.
pub struct NoAuthenticator;

#[async_trait]
impl Authenticator for NoAuthenticator {
    async fn authenticate(&self, _parts: &Parts) -> Result<Option<Principal>> {
        Ok(None)
    }
}
