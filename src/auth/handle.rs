//! The handle through which a handler reaches a capability's storage on a caller's behalf: the
//! permission is checked and the tenant fixed when the handle is opened, so a handler never holds
//! a bare store and a scope side by side.
//!
//! Invariant: a [`Scoped`] exists only after `principal.require(permission)` succeeded, and its
//! scope is the caller's own tenant (or, for a global system administrator without a tenant and
//! only through [`Scoped::open`], the system scope). Nothing else constructs one.

use std::sync::Arc;

use crate::auth::{Permission, Principal, TenantScope};
use crate::domain::TenantId;
use crate::error::Result;
use crate::store::Scope;

/// A capability's store opened for one caller.
pub struct Scoped<T: ?Sized> {
    store: Arc<T>,
    scope: Scope,
    permission: Permission,
}

impl<T: ?Sized> Scoped<T> {
    /// Checks `permission` and opens `store` in the caller's scope: their tenant, or the system
    /// scope for a global system administrator (who has no tenant).
    pub fn open(principal: &Principal, permission: Permission, store: Arc<T>) -> Result<Self> {
        principal.require(permission)?;
        Ok(Self {
            store,
            scope: TenantScope::of(principal).scope(),
            permission,
        })
    }

    /// Like [`Scoped::open`], but for tenant-owned data only: a caller without a tenant is
    /// refused (`Forbidden`) before any storage call.
    pub fn open_tenant(
        principal: &Principal,
        permission: Permission,
        store: Arc<T>,
    ) -> Result<Self> {
        let handle = Self::open(principal, permission, store)?;
        TenantScope::of(principal).tenant()?;
        Ok(handle)
    }

    /// For what system administrators read across tenants (the audit trail, security alerts):
    /// the system scope for a system administrator, the caller's tenant otherwise, `Forbidden`
    /// for a caller with neither.
    pub fn open_system_wide(
        principal: &Principal,
        permission: Permission,
        store: Arc<T>,
    ) -> Result<Self> {
        principal.require(permission)?;
        let scope = match (principal.system_admin, principal.tenant) {
            (true, _) => Scope::System,
            (false, Some(tenant)) => Scope::Tenant(tenant),
            (false, None) => return Err(crate::error::Error::Forbidden),
        };
        Ok(Self {
            store,
            scope,
            permission,
        })
    }

    /// The scope every storage call through this handle must use.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The caller's tenant, `None` in the system scope.
    pub fn tenant(&self) -> Option<TenantId> {
        self.scope.tenant()
    }

    /// The permission checked when the handle was opened.
    pub fn permission(&self) -> Permission {
        self.permission
    }

    pub fn store(&self) -> &T {
        &self.store
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::error::Error;

    fn principal(role: Option<Role>, tenant: Option<TenantId>, system_admin: bool) -> Principal {
        Principal::user("u", tenant, role, system_admin)
    }

    #[test]
    fn opens_in_the_callers_tenant_only_after_the_permission_is_checked() {
        let tenant = TenantId::new();
        let viewer = principal(Some(Role::Viewer), Some(tenant), false);
        let handle = Scoped::open(&viewer, Permission::LedgerRead, Arc::new(())).unwrap();
        assert_eq!(handle.scope(), Scope::Tenant(tenant));
        assert_eq!(handle.tenant(), Some(tenant));
        assert!(matches!(
            Scoped::open(&viewer, Permission::UsersWrite, Arc::new(())),
            Err(Error::PermissionDenied { .. })
        ));
    }

    #[test]
    fn system_wide_reading_is_for_system_administrators_only() {
        let tenant = TenantId::new();
        let admin_with_tenant = principal(Some(Role::Admin), Some(tenant), true);
        let all = Scoped::open_system_wide(&admin_with_tenant, Permission::AuditRead, Arc::new(()));
        assert_eq!(all.unwrap().scope(), Scope::System);
        let auditor = principal(Some(Role::Auditor), Some(tenant), false);
        let own = Scoped::open_system_wide(&auditor, Permission::AuditRead, Arc::new(()));
        assert_eq!(own.unwrap().scope(), Scope::Tenant(tenant));
        let viewer = principal(Some(Role::Viewer), Some(tenant), false);
        assert!(matches!(
            Scoped::open_system_wide(&viewer, Permission::AuditRead, Arc::new(())),
            Err(Error::PermissionDenied { .. })
        ));
    }

    #[test]
    fn tenant_data_refuses_a_caller_without_a_tenant() {
        let sysadmin = principal(None, None, true);
        let handle = Scoped::open(&sysadmin, Permission::AuditRead, Arc::new(())).unwrap();
        assert_eq!(handle.scope(), Scope::System);
        assert!(matches!(
            Scoped::open_tenant(&sysadmin, Permission::AuditRead, Arc::new(())),
            Err(Error::Forbidden)
        ));
    }
}
