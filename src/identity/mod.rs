//! Identity and access: users, login (passwords, TOTP, lockout), sessions with rotating refresh
//! tokens, API keys, first-run setup, and the authenticator that turns a request's credentials
//! into a [`crate::auth::Principal`].
//!
//! Invariant: handlers reach identity data only through a [`TenantScope`] made from the
//! authenticated principal, never from a tenant id in a URL or body.

mod model;
mod scope;

// Authentication: tokens, sessions, login, lockout, second factors, setup.
mod attempts;
mod authenticator;
mod cache;
pub mod cookie;
mod cross_site;
pub mod lockout;
pub mod login;
pub mod password;
pub mod refresh;
mod request;
mod second_factor;
pub mod session_routes;
pub mod sessions;
pub mod setup;
mod setup_page;
pub mod tokens;
pub mod totp;

pub use authenticator::{Chain, SessionAuthenticator};
pub use cache::SessionCache;

// --- account management: /me, users, API keys, tenant settings (id-manage) ---------------------
mod admin;
/// API keys: create, list, revoke, and `authenticate` for `ap_` bearer tokens.
pub mod api_keys;
/// `GET /api/v1/me`.
pub mod me;
/// `GET/PATCH /api/v1/settings`: the caller's tenant's settings.
pub mod settings;
/// `/api/v1/users`: tenant administrators manage their tenant's accounts; `create_user` (CLI too).
pub mod users;
// --- end of account management ------------------------------------------------------------------

pub use model::{
    email_key, ApiKey, ApiKeyAuth, LoginRecord, NewApiKey, NewSession, NewUser, RefreshOutcome,
    Session, SessionState, Throttle, TotpRecord, User, UserPatch, SYSTEM_TENANT,
};
pub use scope::TenantScope;
pub use tokens::AccessTokens;

use crate::domain::{SessionId, UserId};
use crate::web::AppState;

/// Call after ending sessions (an administrator ending a user's sessions, deactivating or
/// deleting a user): this process refuses their access tokens from the next request on, not a
/// second later.
pub fn sessions_ended(state: &AppState, ids: &[SessionId]) {
    sessions::ended(state, ids);
}

/// Call after changing a user in a way their sessions must see at once (deactivated, deleted,
/// role or two-factor changed): their sessions are read afresh on the next request.
pub fn user_changed(state: &AppState, user: UserId) {
    state.sessions.evict_user(user);
}
