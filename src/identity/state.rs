//! What the identity capability needs from the application, and nothing more: its handlers take
//! `State<IdentityState>` (made from the application state by axum's `FromRef`), its services a
//! `&IdentityState`.

use std::sync::Arc;

use crate::auth::Principal;
use crate::config::Config;
use crate::crypto::Keyring;
use crate::domain::TenantId;
use crate::events::Events;
use crate::identity::credentials::password::PasswordHasher;
use crate::identity::store::IdentityStore;
use crate::identity::{AccessTokens, SessionCache};
use crate::ratelimit::Limits;
use crate::web::ClientIp;

#[derive(Clone)]
pub struct IdentityState {
    pub store: Arc<dyn IdentityStore>,
    pub config: Arc<Config>,
    /// Signs and verifies access tokens.
    pub tokens: Arc<AccessTokens>,
    /// Session states read by the authenticator; evicted when sessions end.
    pub sessions: Arc<SessionCache>,
    /// Argon2id hashing on the blocking pool, a few at a time.
    pub passwords: Arc<PasswordHasher>,
    pub events: Arc<Events>,
    /// Field encryption (TOTP secrets).
    pub keyring: Arc<Keyring>,
    /// Per-principal limits (login attempts per account).
    pub limits: Limits,
}

impl IdentityState {
    /// Records an administrative change made by `principal`.
    pub fn admin_action(
        &self,
        principal: &Principal,
        ip: ClientIp,
        action: &'static str,
        target: Option<(&'static str, String)>,
        tenant: Option<TenantId>,
        details: serde_json::Value,
    ) {
        self.events
            .admin_action(&principal.id, ip.0, action, target, tenant, details);
    }
}
