//! The real authenticator: `Authorization: Bearer <access token>` checked against its session on
//! every request, and (at merge) `Bearer ap_...` API keys.
//!
//! Invariant: a token is accepted only when it verifies (HS256, a configured `kid`, every claim)
//! AND its session is alive, read through a cache trusted for at most one second; the principal's
//! role and administrator flag come from the stored user, not from the token.

use std::sync::Arc;

use async_trait::async_trait;
use axum::http::header;
use axum::http::request::Parts;

use crate::auth::{Authenticator, Principal};
use crate::config::SessionConfig;
use crate::domain::time::{self, Timestamp};
use crate::domain::SessionId;
use crate::error::Result;
use crate::identity::credentials::jwt::Claims;
use crate::identity::sessions::cache::SessionCache;
use crate::identity::sessions::service::{self as sessions, check_live};
use crate::identity::sessions::tokens::AccessTokens;
use crate::identity::store::IdentityStore;
use crate::identity::SessionState;

pub struct SessionAuthenticator {
    store: Arc<dyn IdentityStore>,
    tokens: Arc<AccessTokens>,
    cache: Arc<SessionCache>,
    config: SessionConfig,
}

impl SessionAuthenticator {
    pub fn new(
        store: Arc<dyn IdentityStore>,
        tokens: Arc<AccessTokens>,
        cache: Arc<SessionCache>,
        config: SessionConfig,
    ) -> Self {
        Self {
            store,
            tokens,
            cache,
            config,
        }
    }

    async fn access_token(&self, token: &str) -> Result<Option<Principal>> {
        let Ok(claims) = self.tokens.verify(token) else {
            return Ok(None);
        };
        let Ok(sid) = claims.sid.parse::<SessionId>() else {
            return Ok(None);
        };
        let Some(state) = self.cache.state(self.store.as_ref(), sid).await? else {
            return Ok(None);
        };
        let now = time::now();
        if !belongs(&claims, &state) {
            tracing::debug!("access token refused: it does not match its session's user");
            return Ok(None);
        }
        if let Err(dead) = check_live(
            &state,
            state.session.last_seen_at,
            now,
            self.config.idle_timeout,
        ) {
            tracing::debug!(
                reason = dead.reason(),
                "access token refused: session not alive"
            );
            return Ok(None);
        }
        self.touch(sid, now).await;
        Ok(Some(principal(&state)))
    }

    /// Records activity, at most once per touch interval per session from this process.
    async fn touch(&self, sid: SessionId, now: Timestamp) {
        let interval = sessions::touch_interval(self.config.idle_timeout);
        if self.cache.claim_touch(sid, interval) {
            if let Err(error) = self.store.touch_session(sid, now).await {
                tracing::warn!(%error, "could not record session activity");
            }
        }
    }
}

/// The token names the session's own user and tenant.
fn belongs(claims: &Claims, state: &SessionState) -> bool {
    let user = &state.user;
    claims.sub == user.id.to_string()
        && claims.tid == user.tenant_id.map(|t| t.to_string())
        && state.session.user_id == user.id
}

fn principal(state: &SessionState) -> Principal {
    let user = &state.user;
    let mut principal = Principal::user(
        user.id.to_string(),
        user.tenant_id,
        user.role,
        user.system_admin,
    );
    principal.session = Some(state.session.id);
    principal.mfa_enrollment_required =
        user.tenant_id.is_some() && state.tenant_requires_totp && !user.totp_enabled;
    principal
}

/// The bearer credential of a request, if it has one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[async_trait]
impl Authenticator for SessionAuthenticator {
    async fn authenticate(&self, parts: &Parts) -> Result<Option<Principal>> {
        let Some(token) = bearer(parts) else {
            return Ok(None);
        };
        if token.starts_with("ap_") {
            return crate::identity::api_keys::authenticate(self.store.as_ref(), token).await;
        }
        self.access_token(token).await
    }
}

/// Tries each authenticator in turn; the first that recognises the request's credentials wins.
pub struct Chain(pub Vec<Arc<dyn Authenticator>>);

#[async_trait]
impl Authenticator for Chain {
    async fn authenticate(&self, parts: &Parts) -> Result<Option<Principal>> {
        for authenticator in &self.0 {
            if let Some(principal) = authenticator.authenticate(parts).await? {
                return Ok(Some(principal));
            }
        }
        Ok(None)
    }
}
