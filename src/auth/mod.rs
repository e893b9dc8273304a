//! Who is calling and what they may do. Authentication is pluggable through [`Authenticator`]:
//! the identity capability provides the real one (JWT sessions, API keys); until a request is
//! authenticated, every route outside the public allow-list answers 401.

mod authenticator;
mod handle;
mod middleware;
mod permissions;
mod principal;
mod scope;

pub use authenticator::{Authenticator, NoAuthenticator};
pub use handle::Scoped;
pub use middleware::{require_principal, Gate};
pub use permissions::{allows, ApiScope, Permission};
pub use principal::{Principal, PrincipalKind, Role};
pub use scope::TenantScope;
