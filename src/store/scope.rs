//! The one tenant-scope type: whose rows a storage call may reach.
//!
//! Invariant: every storage method that reaches tenant-owned rows takes a [`Scope`] and filters by
//! it on both backends; on PostgreSQL the same scope is also set for row-level security in the
//! transaction that runs the statement. Handlers get a `Scope` only from the authenticated
//! principal; `Scope::System` is for the few paths that must look across tenants (login by e-mail,
//! token and key checks, setup, system administrators, the CLI).

use crate::domain::TenantId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One tenant's rows only.
    Tenant(TenantId),
    /// Every row: system paths, and global system administrators' own rows (no tenant).
    System,
}

impl Scope {
    /// The tenant filter's parameter in `($N IS NULL OR tenant_id = $N)`: `NULL` (no filter) for
    /// the system scope.
    pub fn tenant(self) -> Option<TenantId> {
        match self {
            Scope::Tenant(tenant) => Some(tenant),
            Scope::System => None,
        }
    }
}
