//! Identity and access: users, login (passwords, TOTP, lockout), sessions with rotating refresh
//! tokens, API keys, first-run setup, and the authenticator that turns a request's credentials
//! into a [`crate::auth::Principal`].
//!
//! Invariant: handlers reach identity data only through a [`TenantScope`] made from the
//! authenticated principal, never from a tenant id in a URL or body.

mod model;
mod scope;

pub use model::{
    email_key, ApiKey, ApiKeyAuth, LoginRecord, NewApiKey, NewSession, NewUser, RefreshOutcome,
    Session, SessionState, Throttle, TotpRecord, User, UserPatch, SYSTEM_TENANT,
};
pub use scope::TenantScope;
