//! Tenants: the organisations whose data AuditPulse keeps apart. Managed by system administrators.

mod model;
pub mod routes;
mod store;

pub use model::{CreateTenant, NewTenant, Tenant, TenantPage};
pub use store::TenantStore;

/// The tenant with this slug, page by page through the list.
pub async fn find_by_slug(
    store: &dyn TenantStore,
    slug: &str,
) -> crate::error::Result<Option<Tenant>> {
    let mut after = None;
    loop {
        let page = store.list_tenants(after, 200).await?;
        if let Some(tenant) = page.iter().find(|t| t.slug == slug) {
            return Ok(Some(tenant.clone()));
        }
        match page.last() {
            Some(last) if page.len() == 200 => after = Some(last.id),
            _ => return Ok(None),
        }
    }
}
