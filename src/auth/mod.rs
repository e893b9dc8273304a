//! Who is calling and what they may do. Authentication is pluggable through [`Authenticator`]:
//! the identity capability provides the real one (JWT sessions, API keys); until a request is
//! authenticated, every route outside the public allow-list answers 401.

pub mod api_key;
mod authenticator;
pub mod jwt;
pub mod jwt_crypto;
mod middleware;
pub mod password;
mod permissions;
mod principal;
pub mod totp;

pub use authenticator::{Authenticator, NoAuthenticator};
pub use middleware::require_principal;
pub use permissions::{allows, ApiScope, Permission};
pub use principal::{Principal, PrincipalKind, Role};
