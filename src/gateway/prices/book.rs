//! The price book the running service prices calls with: the catalog in force (shipped, or a
//! newer one imported) and each tenant's negotiated overrides over it.
//!
//! Invariant: a tenant's view is always the current catalog with that tenant's overrides and no
//! other tenant's; replacing the catalog or a tenant's overrides takes effect for the next call.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::{Catalog, Override};
use crate::domain::TenantId;

/// Shared by the gateway's recorder, the price routes and repricing.
#[derive(Debug, Default)]
pub struct PriceBook {
    base: RwLock<Arc<Catalog>>,
    overrides: RwLock<HashMap<TenantId, Vec<Override>>>,
    /// Derived views, rebuilt when the catalog or the tenant's overrides change.
    views: RwLock<HashMap<TenantId, Arc<Catalog>>>,
}

impl PriceBook {
    pub fn new(base: Catalog) -> Self {
        Self {
            base: RwLock::new(Arc::new(base)),
            ..Self::default()
        }
    }

    /// The catalog without any tenant's overrides.
    pub fn base(&self) -> Arc<Catalog> {
        read(&self.base).clone()
    }

    /// The catalog `tenant`'s calls are priced with.
    pub fn catalog(&self, tenant: TenantId) -> Arc<Catalog> {
        if let Some(view) = read(&self.views).get(&tenant) {
            return view.clone();
        }
        let view = match read(&self.overrides).get(&tenant) {
            Some(o) if !o.is_empty() => Arc::new(self.base().with_overrides(o.clone())),
            _ => self.base(),
        };
        write(&self.views).insert(tenant, view.clone());
        view
    }

    /// Puts a newer catalog in force for every tenant.
    pub fn replace(&self, base: Catalog) {
        *write(&self.base) = Arc::new(base);
        write(&self.views).clear();
    }

    /// Replaces `tenant`'s overrides (all of them, as stored).
    pub fn set_overrides(&self, tenant: TenantId, overrides: Vec<Override>) {
        write(&self.overrides).insert(tenant, overrides);
        write(&self.views).remove(&tenant);
    }

    pub fn overrides(&self, tenant: TenantId) -> Vec<Override> {
        read(&self.overrides)
            .get(&tenant)
            .cloned()
            .unwrap_or_default()
    }
}

// A panic while holding one of these locks leaves valid maps: keep using them.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}
