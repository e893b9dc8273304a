//! Tenants: the organisations whose data AuditPulse keeps apart. Managed by system administrators.

mod model;
pub mod routes;

pub use model::{CreateTenant, NewTenant, Tenant, TenantPage};
