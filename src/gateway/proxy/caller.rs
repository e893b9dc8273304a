//! Who is calling the gateway: the AuditPulse API key, sent the way each SDK sends its own key
//! (`Authorization: Bearer ap_…`, or `x-api-key: ap_…` as older Anthropic clients do), with
//! scope `gateway:use`; and the attribution the request names.
//!
//! Invariant: a call is relayed only for a valid key with `gateway:use`; the tenant comes from
//! the key, never from the request; attribution values are bounded printable text.

use std::time::Duration;

use http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::auth::Permission;
use crate::domain::{ApiKeyId, TenantId};
use crate::error::{Error, Result};
use crate::gateway::calls::Attribution;
use crate::gateway::ttl::TtlCache;
use crate::identity::api_keys;
use crate::store::IdentityStore;

/// The longest attribution value accepted, in bytes.
pub const MAX_ATTRIBUTE: usize = 256;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub tenant: TenantId,
    pub key: ApiKeyId,
    /// The key's name: the application of its calls unless the request names one.
    pub key_name: String,
}

/// The AuditPulse key a request carries, in either header.
fn presented(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(http::header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim());
    }
    headers.get("x-api-key")?.to_str().ok().map(str::trim)
}

/// Keys proven recently, by the SHA-256 of the presented token (the token itself is not kept):
/// a revoked key stops working within [`CALLER_TTL`].
pub type Callers = TtlCache<[u8; 32], Caller>;

/// How long a proven key is trusted without asking the database again.
pub const CALLER_TTL: Duration = Duration::from_secs(1);

pub fn callers() -> Callers {
    TtlCache::new(CALLER_TTL, 10_000)
}

/// Authenticates the request's key and checks it may use the gateway.
pub async fn authenticate(
    store: &dyn IdentityStore,
    callers: &Callers,
    headers: &HeaderMap,
) -> Result<Caller> {
    authenticate_for(store, callers, headers, Permission::GatewayUse).await
}

/// Authenticates the request's key and checks it grants `permission`. `callers` must be a cache
/// used for this permission only.
pub async fn authenticate_for(
    store: &dyn IdentityStore,
    callers: &Callers,
    headers: &HeaderMap,
    permission: Permission,
) -> Result<Caller> {
    let token = presented(headers).filter(|t| t.starts_with("ap_"));
    let Some(token) = token else {
        return Err(Error::Unauthenticated);
    };
    let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    if let Some(caller) = callers.get(&digest) {
        return Ok(caller);
    }
    let caller = verified(store, token, permission).await?;
    callers.put(digest, caller.clone());
    Ok(caller)
}

async fn verified(
    store: &dyn IdentityStore,
    token: &str,
    permission: Permission,
) -> Result<Caller> {
    let Some(record) = api_keys::verify(store, token).await? else {
        return Err(Error::Unauthenticated);
    };
    api_keys::principal_of(&record).require(permission)?;
    Ok(Caller {
        tenant: record.tenant_id,
        key: record.key.id,
        key_name: record.key.name,
    })
}

/// One attribution header's value: printable, at most [`MAX_ATTRIBUTE`] bytes.
fn attribute(headers: &HeaderMap, name: &str) -> Result<Option<String>> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|t| t.len() <= MAX_ATTRIBUTE && t.chars().all(|c| !c.is_control()))
        .ok_or_else(|| {
            Error::BadRequest(format!(
                "{name} must be printable text of at most {MAX_ATTRIBUTE} bytes"
            ))
        })?;
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// Application (header, else the key's name), project (header) and end user (header, else the
/// body's `user` / `metadata.user_id`).
pub fn attribution(
    headers: &HeaderMap,
    caller: &Caller,
    body_user: Option<String>,
) -> Result<Attribution> {
    let application =
        attribute(headers, "x-auditpulse-application")?.or_else(|| Some(caller.key_name.clone()));
    let project = attribute(headers, "x-auditpulse-project")?;
    let end_user = match attribute(headers, "x-auditpulse-user")? {
        Some(user) => Some(user),
        None => body_user
            .filter(|u| u.len() <= MAX_ATTRIBUTE && !u.is_empty())
            .map(|u| u.chars().filter(|c| !c.is_control()).collect()),
    };
    Ok(Attribution {
        application,
        project,
        end_user,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn caller() -> Caller {
        Caller {
            tenant: TenantId::new(),
            key: ApiKeyId::new(),
            key_name: "billing-bot".into(),
        }
    }

    #[test]
    fn either_sdk_header_carries_the_key() {
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_static("Bearer ap_x_y"));
        assert_eq!(presented(&h), Some("ap_x_y"));
        let mut h = HeaderMap::new();
        h.insert("x-api-key", HeaderValue::from_static("ap_x_y"));
        assert_eq!(presented(&h), Some("ap_x_y"));
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_static("Basic ap_x_y"));
        assert_eq!(presented(&h), None);
    }

    #[test]
    fn headers_override_the_keys_defaults_and_the_body() {
        let mut h = HeaderMap::new();
        let a = attribution(&h, &caller(), Some("body-user".into())).unwrap();
        assert_eq!(a.application.as_deref(), Some("billing-bot"));
        assert_eq!(a.end_user.as_deref(), Some("body-user"));
        h.insert(
            "x-auditpulse-application",
            HeaderValue::from_static("search"),
        );
        h.insert("x-auditpulse-project", HeaderValue::from_static("q4"));
        h.insert("x-auditpulse-user", HeaderValue::from_static("u-7"));
        let a = attribution(&h, &caller(), Some("body-user".into())).unwrap();
        assert_eq!(
            (
                a.application.as_deref(),
                a.project.as_deref(),
                a.end_user.as_deref()
            ),
            (Some("search"), Some("q4"), Some("u-7"))
        );
        h.insert(
            "x-auditpulse-project",
            HeaderValue::from_str(&"p".repeat(MAX_ATTRIBUTE + 1)).unwrap(),
        );
        let err = attribution(&h, &caller(), None).unwrap_err();
        assert_eq!(err.status(), 400);
    }
}
