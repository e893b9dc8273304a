//! Fakes of the pluggable parts: an authenticator of fixed bearer tokens (the principals named by
//! the token constants of `helpers`) and an event sink that keeps every security event.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use auditpulse::auth::{Authenticator, Principal, Role};
use auditpulse::domain::TenantId;
use auditpulse::events::{EventSink, SecurityEvent};
use axum::http::request::Parts;

use super::{ADMIN, ADMIN_B, ADMIN_TENANT, AUDITOR, SYSADMIN, TENANT_A, TENANT_B, VIEWER};

/// Accepts fixed bearer tokens: the stand-in for the identity capability's authenticator.
pub struct StaticTokens(HashMap<String, Principal>);

impl StaticTokens {
    pub fn standard() -> Self {
        let mut tokens = HashMap::new();
        tokens.insert(
            SYSADMIN.to_owned(),
            Principal::user("user-sysadmin", None, None, true),
        );
        tokens.insert(
            VIEWER.to_owned(),
            Principal::user(
                "user-viewer",
                Some(TenantId::new()),
                Some(Role::Viewer),
                false,
            ),
        );
        tokens.insert(
            ADMIN.to_owned(),
            Principal::user(
                "user-admin",
                Some(ADMIN_TENANT.parse().unwrap()),
                Some(Role::Admin),
                false,
            ),
        );
        for (token, id, tenant, role) in [
            (AUDITOR, "user-auditor-a", TENANT_A, Role::Auditor),
            (ADMIN_B, "user-admin-b", TENANT_B, Role::Admin),
        ] {
            tokens.insert(
                token.to_owned(),
                Principal::user(id, Some(tenant.parse().unwrap()), Some(role), false),
            );
        }
        StaticTokens(tokens)
    }
}

#[async_trait]
impl Authenticator for StaticTokens {
    async fn authenticate(&self, parts: &Parts) -> auditpulse::Result<Option<Principal>> {
        let token = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        Ok(token.and_then(|t| self.0.get(t)).cloned())
    }
}

/// Keeps every security event for assertions.
#[derive(Default)]
pub struct RecordingSink(pub Mutex<Vec<SecurityEvent>>);

impl EventSink for RecordingSink {
    fn record(&self, event: &SecurityEvent) {
        self.0.lock().unwrap().push(event.clone());
    }
}

impl RecordingSink {
    pub fn actions(&self) -> Vec<&'static str> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.kind.action())
            .collect()
    }
}
