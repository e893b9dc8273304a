//! API keys: machine credentials of a tenant, with scopes instead of a role. Created, listed and
//! revoked by the tenant's administrators (`/api/v1/api-keys`); checked by [`authenticate`].

mod authenticate;
mod model;
pub mod routes;

pub use authenticate::{authenticate, principal_id, principal_of, verify, TOUCH_EVERY};
pub use model::{beyond_creator, ApiKeyList, CreateApiKey, CreatedApiKey};
