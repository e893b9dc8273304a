//! Tenants: the organisations whose data AuditPulse keeps apart. Managed by system administrators.

mod model;
pub mod routes;
mod store;

pub use model::{CreateTenant, NewTenant, Tenant, TenantPage};
pub use store::TenantStore;
