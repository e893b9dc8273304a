//! Named permissions, the one table that grants them to roles, the API-key scopes that grant
//! them to machines, and the one function that checks. Unknown means denied.

use super::principal::{Principal, PrincipalKind, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    TenantsRead,
    TenantsWrite,
    SecurityRead,
    AuditRead,
    /// Read the tenant's spend data (ledger, anomalies, budgets).
    LedgerRead,
    /// Export the tenant's transactions in bulk (CSV, JSON lines); every export is audited.
    LedgerExport,
    /// Review anomalies (status, outcome, notes, assignment) and snooze rules.
    AnomaliesReview,
    /// Change the tenant's detection configuration (thresholds, weights, presets) and retrain.
    DetectionConfigure,
    UsersRead,
    UsersWrite,
    ApiKeysRead,
    ApiKeysWrite,
    /// Change the tenant's settings (for example, require two-factor authentication).
    SettingsWrite,
    /// Send spend data in (bank files, OTLP spans).
    IngestWrite,
    /// Call LLM providers through the metering gateway.
    GatewayUse,
    /// Set and delete the tenant's LLM provider keys (the gateway's upstream credentials).
    ProvidersManage,
    /// Create, change and delete the tenant's budgets.
    BudgetsManage,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::TenantsRead => "tenants:read",
            Permission::TenantsWrite => "tenants:write",
            Permission::SecurityRead => "security:read",
            Permission::AuditRead => "audit:read",
            Permission::LedgerRead => "ledger:read",
            Permission::LedgerExport => "ledger:export",
            Permission::AnomaliesReview => "anomalies:review",
            Permission::DetectionConfigure => "detection:configure",
            Permission::UsersRead => "users:read",
            Permission::UsersWrite => "users:write",
            Permission::ApiKeysRead => "api_keys:read",
            Permission::ApiKeysWrite => "api_keys:write",
            Permission::SettingsWrite => "settings:write",
            Permission::IngestWrite => "ingest:write",
            Permission::GatewayUse => "gateway:use",
            Permission::ProvidersManage => "providers:manage",
            Permission::BudgetsManage => "budgets:manage",
        }
    }
}

use Permission::*;

/// Permissions of each tenant role. System administrators additionally hold `SYSTEM_ADMIN`.
const ROLE_PERMISSIONS: &[(Role, &[Permission])] = &[
    (Role::Viewer, &[LedgerRead]),
    (
        Role::Auditor,
        &[LedgerRead, LedgerExport, AuditRead, AnomaliesReview],
    ),
    (
        Role::Admin,
        &[
            LedgerRead,
            LedgerExport,
            AuditRead,
            AnomaliesReview,
            DetectionConfigure,
            SecurityRead,
            UsersRead,
            UsersWrite,
            ApiKeysRead,
            ApiKeysWrite,
            SettingsWrite,
            IngestWrite,
            GatewayUse,
            ProvidersManage,
            BudgetsManage,
        ],
    ),
];

const SYSTEM_ADMIN: &[Permission] = &[TenantsRead, TenantsWrite, SecurityRead, AuditRead];

/// What an API key may be given. A key holds only the permissions of its scopes, and a user can
/// give a key only scopes whose permissions they hold themselves.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub enum ApiScope {
    /// Read the tenant's spend data.
    #[serde(rename = "read")]
    Read,
    #[serde(rename = "ingest:write")]
    IngestWrite,
    #[serde(rename = "gateway:use")]
    GatewayUse,
    #[serde(rename = "audit:read")]
    AuditRead,
}

const SCOPE_PERMISSIONS: &[(ApiScope, &[Permission])] = &[
    (ApiScope::Read, &[LedgerRead]),
    (ApiScope::IngestWrite, &[IngestWrite]),
    (ApiScope::GatewayUse, &[GatewayUse]),
    (ApiScope::AuditRead, &[AuditRead]),
];

impl ApiScope {
    pub const ALL: [ApiScope; 4] = [
        ApiScope::Read,
        ApiScope::IngestWrite,
        ApiScope::GatewayUse,
        ApiScope::AuditRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApiScope::Read => "read",
            ApiScope::IngestWrite => "ingest:write",
            ApiScope::GatewayUse => "gateway:use",
            ApiScope::AuditRead => "audit:read",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The permissions this scope grants.
    pub fn permissions(self) -> &'static [Permission] {
        SCOPE_PERMISSIONS
            .iter()
            .find(|(s, _)| *s == self)
            .map_or(&[], |(_, p)| p)
    }
}

/// The one authorization check.
pub fn allows(principal: &Principal, permission: Permission) -> bool {
    if principal.kind == PrincipalKind::ApiKey {
        return principal
            .scopes
            .iter()
            .any(|scope| scope.permissions().contains(&permission));
    }
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

    fn principal(role: Option<Role>, system_admin: bool) -> Principal {
        Principal::user("u1", None, role, system_admin)
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

    #[test]
    fn api_keys_hold_only_their_scopes() {
        let mut key = Principal::user("ap_x", None, Some(Role::Admin), false);
        key.kind = PrincipalKind::ApiKey;
        key.scopes = vec![ApiScope::Read];
        assert!(allows(&key, Permission::LedgerRead));
        assert!(
            !allows(&key, Permission::UsersWrite),
            "the role is ignored for keys"
        );
        assert!(!allows(&key, Permission::AuditRead));
        key.scopes = vec![ApiScope::AuditRead];
        assert!(allows(&key, Permission::AuditRead));
        assert_eq!(ApiScope::parse("ingest:write"), Some(ApiScope::IngestWrite));
        assert_eq!(ApiScope::parse("admin"), None);
    }

    #[test]
    fn viewers_only_read() {
        let viewer = principal(Some(Role::Viewer), false);
        assert!(allows(&viewer, Permission::LedgerRead));
        for p in [
            UsersWrite,
            UsersRead,
            ApiKeysWrite,
            SettingsWrite,
            AuditRead,
            IngestWrite,
            ProvidersManage,
        ] {
            assert!(!allows(&viewer, p), "{p:?}");
        }
    }

    #[test]
    fn only_tenant_admins_manage_provider_keys() {
        assert!(allows(
            &principal(Some(Role::Admin), false),
            Permission::ProvidersManage
        ));
        for role in [Role::Viewer, Role::Auditor] {
            assert!(!allows(&principal(Some(role), false), ProvidersManage));
        }
        assert!(!allows(&principal(None, true), ProvidersManage));
        let mut key = Principal::user("ap_x", None, Some(Role::Admin), false);
        key.kind = PrincipalKind::ApiKey;
        key.scopes = ApiScope::ALL.to_vec();
        assert!(!allows(&key, ProvidersManage), "no API-key scope grants it");
    }
}
