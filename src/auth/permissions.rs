//! Named permissions and the one table that grants them. Unknown means denied.

use super::principal::{Principal, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    TenantsRead,
    TenantsWrite,
    SecurityRead,
    AuditRead,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::TenantsRead => "tenants:read",
            Permission::TenantsWrite => "tenants:write",
            Permission::SecurityRead => "security:read",
            Permission::AuditRead => "audit:read",
        }
    }
}

/// Permissions of each tenant role. System administrators additionally hold `SYSTEM_ADMIN`.
const ROLE_PERMISSIONS: &[(Role, &[Permission])] = &[
    (Role::Viewer, &[]),
    (Role::Auditor, &[Permission::AuditRead]),
    (
        Role::Admin,
        &[Permission::SecurityRead, Permission::AuditRead],
    ),
];

const SYSTEM_ADMIN: &[Permission] = &[
    Permission::TenantsRead,
    Permission::TenantsWrite,
    Permission::SecurityRead,
    Permission::AuditRead,
];

/// The one authorization check.
pub fn allows(principal: &Principal, permission: Permission) -> bool {
    if principal.system_admin && SYSTEM_ADMIN.contains(&permission) {
        return true;
    }
    principal
        .role
        .and_then(|role| ROLE_PERMISSIONS.iter().find(|(r, _)| *r == role))
        .is_some_and(|(_, granted)| granted.contains(&permission))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::PrincipalKind;

    fn principal(role: Option<Role>, system_admin: bool) -> Principal {
        Principal {
            id: "u1".into(),
            kind: PrincipalKind::User,
            tenant: None,
            role,
            system_admin,
        }
    }

    #[test]
    fn only_system_administrators_manage_tenants() {
        assert!(allows(&principal(None, true), Permission::TenantsWrite));
        assert!(!allows(
            &principal(Some(Role::Admin), false),
            Permission::TenantsWrite
        ));
        assert!(!allows(
            &principal(Some(Role::Admin), false),
            Permission::TenantsRead
        ));
        assert!(!allows(&principal(None, false), Permission::TenantsRead));
    }

    #[test]
    fn tenant_admins_and_system_admins_read_security_alerts() {
        assert!(allows(
            &principal(Some(Role::Admin), false),
            Permission::SecurityRead
        ));
        assert!(allows(&principal(None, true), Permission::SecurityRead));
        assert!(!allows(
            &principal(Some(Role::Auditor), false),
            Permission::SecurityRead
        ));
        assert!(!allows(
            &principal(Some(Role::Viewer), false),
            Permission::SecurityRead
        ));
    }

    #[test]
    fn auditors_admins_and_system_administrators_read_the_audit_trail() {
        assert!(allows(
            &principal(Some(Role::Auditor), false),
            Permission::AuditRead
        ));
        assert!(allows(
            &principal(Some(Role::Admin), false),
            Permission::AuditRead
        ));
        assert!(allows(&principal(None, true), Permission::AuditRead));
        assert!(!allows(
            &principal(Some(Role::Viewer), false),
            Permission::AuditRead
        ));
        assert!(!allows(&principal(None, false), Permission::AuditRead));
    }
}
