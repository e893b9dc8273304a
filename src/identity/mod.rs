//! Identity and access: users, login (passwords, TOTP, lockout), sessions with rotating refresh
//! tokens, API keys, first-run setup, and the authenticator that turns a request's credentials
//! into a [`crate::auth::Principal`].
//!
//! Invariant: handlers reach identity data only through a [`TenantScope`] made from the
//! authenticated principal, never from a tenant id in a URL or body.

mod model;
mod scope;

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
