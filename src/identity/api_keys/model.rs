//! API key request and response bodies, their validation, and the rule that a key never holds
//! more than its creator. Pure, no I/O (validation reads the clock).
//!
//! Invariant: a key can be given a scope only if its creator holds every permission the scope
//! grants; so creating a key is never a way to raise one's own privileges.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{allows, ApiScope, Permission, Principal};
use crate::domain::time::{self, Timestamp};
use crate::domain::ApiKeyId;
use crate::error::FieldError;
use crate::identity::ApiKey;
use crate::web::Validate;

pub const MAX_NAME_CHARS: usize = 100;

/// Body of `POST /api/v1/api-keys`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateApiKey {
    /// What the key is for, 1 to 100 characters.
    #[schema(min_length = 1)]
    pub name: String,
    /// One or more of `read`, `ingest:write`, `gateway:use`, `audit:read`.
    #[schema(value_type = Vec<crate::auth::ApiScope>, min_items = 1)]
    pub scopes: Vec<String>,
    /// When the key stops working (RFC 3339, in the future); never when left out.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

/// A new key, with its full secret: shown this once and never again.
#[derive(Serialize, ToSchema)]
pub struct CreatedApiKey {
    pub id: ApiKeyId,
    /// The whole key, `ap_<public id>_<secret>`. Store it now: only a hash of it is kept.
    pub key: String,
    pub public_id: String,
    pub name: String,
    pub scopes: Vec<ApiScope>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
}

impl std::fmt::Debug for CreatedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CreatedApiKey(ap_{}_[REDACTED])", self.public_id)
    }
}

/// The tenant's keys, without their secrets.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyList {
    /// Keys not revoked, oldest first.
    pub items: Vec<ApiKey>,
}

/// The scopes, once validated: known, without repeats, in the order given.
pub fn parse_scopes(scopes: &[String]) -> Vec<ApiScope> {
    let mut parsed: Vec<ApiScope> = Vec::new();
    for scope in scopes.iter().filter_map(|s| ApiScope::parse(s)) {
        if !parsed.contains(&scope) {
            parsed.push(scope);
        }
    }
    parsed
}

/// The expiry, once validated.
pub fn parse_expiry(expires_at: Option<&str>) -> Option<Timestamp> {
    expires_at.and_then(|t| time::from_text(t).ok())
}

impl Validate for CreateApiKey {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            errors.push(FieldError::new("name", "must be 1 to 100 characters"));
        } else if name.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "name",
                "must not contain control characters",
            ));
        }
        if self.scopes.is_empty() {
            errors.push(FieldError::new("scopes", "give at least one scope"));
        }
        for (i, scope) in self.scopes.iter().enumerate() {
            if ApiScope::parse(scope).is_none() {
                errors.push(FieldError::new(
                    format!("scopes[{i}]"),
                    "unknown scope; expected one of read, ingest:write, gateway:use, audit:read",
                ));
            }
        }
        if let Some(text) = &self.expires_at {
            match time::from_text(text) {
                Err(_) => errors.push(FieldError::new(
                    "expires_at",
                    "must be an RFC 3339 time such as 2027-01-01T00:00:00Z",
                )),
                Ok(at) if at <= time::now() => {
                    errors.push(FieldError::new("expires_at", "must be in the future"))
                }
                Ok(_) => {}
            }
        }
        errors
    }
}

/// The first permission that one of `scopes` grants and `creator` does not hold, if any: a key may
/// not be given it.
pub fn beyond_creator(creator: &Principal, scopes: &[ApiScope]) -> Option<Permission> {
    scopes
        .iter()
        .flat_map(|s| s.permissions())
        .copied()
        .find(|p| !allows(creator, *p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{PrincipalKind, Role};

    fn body(name: &str, scopes: &[&str], expires_at: Option<&str>) -> CreateApiKey {
        CreateApiKey {
            name: name.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            expires_at: expires_at.map(Into::into),
        }
    }

    fn fields(b: &CreateApiKey) -> Vec<String> {
        b.validate().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn every_invalid_field_is_named() {
        assert_eq!(
            fields(&body(
                "",
                &["read", "admin", "users:write"],
                Some("yesterday")
            )),
            vec!["name", "scopes[1]", "scopes[2]", "expires_at"]
        );
        assert_eq!(fields(&body("ci", &[], None)), vec!["scopes"]);
        assert_eq!(
            fields(&body("ci", &["read"], Some("2001-01-01T00:00:00Z"))),
            vec!["expires_at"],
            "an expiry in the past"
        );
        let ok = body(
            "ci",
            &["read", "audit:read", "read"],
            Some("2999-01-01T00:00:00Z"),
        );
        assert!(fields(&ok).is_empty());
        assert_eq!(
            parse_scopes(&ok.scopes),
            vec![ApiScope::Read, ApiScope::AuditRead],
            "repeats are dropped"
        );
        assert!(parse_expiry(ok.expires_at.as_deref()).is_some());
    }

    #[test]
    fn a_key_never_gets_a_permission_its_creator_lacks() {
        let admin = Principal::user("u1", None, Some(Role::Admin), false);
        assert_eq!(beyond_creator(&admin, &ApiScope::ALL), None);
        // An auditor may read the audit trail and spend data, but not ingest or use the gateway.
        let auditor = Principal::user("u2", None, Some(Role::Auditor), false);
        assert_eq!(
            beyond_creator(&auditor, &[ApiScope::Read, ApiScope::AuditRead]),
            None
        );
        assert_eq!(
            beyond_creator(&auditor, &[ApiScope::AuditRead, ApiScope::IngestWrite]),
            Some(Permission::IngestWrite)
        );
        let viewer = Principal::user("u3", None, Some(Role::Viewer), false);
        assert_eq!(
            beyond_creator(&viewer, &[ApiScope::AuditRead]),
            Some(Permission::AuditRead)
        );
        // A key's own scopes bound what it could hand on.
        let mut key = Principal::user("key:x", None, None, false);
        key.kind = PrincipalKind::ApiKey;
        key.scopes = vec![ApiScope::Read];
        assert_eq!(
            beyond_creator(&key, &[ApiScope::GatewayUse]),
            Some(Permission::GatewayUse)
        );
    }

    #[test]
    fn a_created_key_does_not_print_its_secret() {
        let created = CreatedApiKey {
            id: ApiKeyId::new(),
            key: "ap_0123456789abcdef_s3cr3ts3cr3ts3cr3ts3cr3ts3cr3ts3c".into(),
            public_id: "0123456789abcdef".into(),
            name: "ci".into(),
            scopes: vec![ApiScope::Read],
            created_at: time::now(),
            expires_at: None,
        };
        let printed = format!("{created:?}");
        assert!(!printed.contains("s3cr3t"), "{printed}");
        assert!(printed.contains("0123456789abcdef"));
    }
}
