//! Identity and access: users, login (passwords, TOTP, lockout), sessions with rotating refresh
//! tokens, API keys, first-run setup, and the authenticator that turns a request's credentials
//! into a [`crate::auth::Principal`].
//!
//! Invariant: handlers reach identity data only through a [`TenantScope`] made from the
//! authenticated principal, never from a tenant id in a URL or body.

// One folder per area; each keeps its HTTP handlers in `routes` (a file, or a folder when the area
// serves several resources) and its logic beside them.
/// The caller's own account: `/me`, password change.
pub mod account;
mod admin;
/// API keys: create, list, revoke, and `authenticate` for `ap_` bearer tokens.
pub mod api_keys;
/// Credential primitives: password hashing and policy, JWT, TOTP codes, the API-key format.
pub mod credentials;
/// Logging in: password and second-factor checks, throttling, lockout.
pub mod login;
mod model;
mod request;
/// Sessions: access and refresh tokens, the session cache, the authenticator.
pub mod sessions;
/// The caller's tenant's settings.
pub mod settings;
/// First-run setup.
pub mod setup;
mod state;
/// Identity storage: the `IdentityStore` trait, its SQL and its two backends.
pub mod store;
/// Two-factor enrolment.
pub mod totp;
/// Accounts managed by a tenant's administrators; `create_user` (CLI too).
pub mod users;

pub use sessions::authenticator::{Chain, SessionAuthenticator};
pub use sessions::cache::SessionCache;

pub use crate::auth::TenantScope;
pub use model::{
    email_key, ApiKey, ApiKeyAuth, LoginRecord, NewApiKey, NewSession, NewUser, RefreshOutcome,
    Session, SessionState, Throttle, TotpRecord, User, UserPatch, SYSTEM_TENANT,
};
pub use sessions::tokens::AccessTokens;
pub use state::IdentityState;

use crate::domain::{SessionId, UserId};

/// Call after ending sessions (an administrator ending a user's sessions, deactivating or
/// deleting a user): this process refuses their access tokens from the next request on, not a
/// second later.
pub fn sessions_ended(state: &IdentityState, ids: &[SessionId]) {
    sessions::service::ended(state, ids);
}

/// Call after changing a user in a way their sessions must see at once (deactivated, deleted,
/// role or two-factor changed): their sessions are read afresh on the next request.
pub fn user_changed(sessions: &SessionCache, user: UserId) {
    sessions.evict_user(user);
}
