//! Turning a presented API key into a principal. The authenticator calls [`authenticate`] for
//! bearer tokens that start with `ap_`.
//!
//! Invariant: a key is accepted only when it has the exact AuditPulse form, its public id names a
//! stored key, its secret hashes to the stored SHA-256 (compared in constant time), and it is
//! neither revoked nor expired. Every such check reads the store, so a revocation takes effect on
//! the next request. The principal holds the key's scopes only, never a role.

use std::time::Duration;

use crate::auth::{Principal, PrincipalKind};
use crate::domain::time::{self, Timestamp};
use crate::error::Result;
use crate::identity::credentials::api_key_format::ApiKeyToken;
use crate::identity::store::IdentityStore;
use crate::identity::{ApiKey, ApiKeyAuth};

/// `last_used_at` is written at most this often per key, so a busy key costs no write per request.
pub const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// The principal `presented` proves, or `None` for anything that is not a live key of ours.
pub async fn authenticate(store: &dyn IdentityStore, presented: &str) -> Result<Option<Principal>> {
    Ok(verify(store, presented)
        .await?
        .map(|record| principal_of(&record)))
}

/// The key `presented` proves, when it is a valid, unrevoked, unexpired key (the gateway needs
/// the key itself: its id and name attribute the calls made with it).
pub async fn verify(store: &dyn IdentityStore, presented: &str) -> Result<Option<ApiKeyAuth>> {
    let Some(token) = ApiKeyToken::parse(presented) else {
        return Ok(None);
    };
    let Some(record) = store.api_key_by_public_id(&token.public_id).await? else {
        return Ok(None);
    };
    let now = time::now();
    if !token.matches(&record.secret_hash) || !usable(&record.key, now) {
        tracing::debug!(key = %record.key.public_id, "API key refused");
        return Ok(None);
    }
    if needs_touch(record.key.last_used_at, now) {
        // Bookkeeping only: a failed write must not refuse a valid key.
        if let Err(error) = store.touch_api_key(record.key.id, now).await {
            tracing::warn!(key = %record.key.public_id, error = %error, "cannot record API key use");
        }
    }
    Ok(Some(record))
}

/// The stable principal id of a key: its public id, which logs and audit events may show.
pub fn principal_id(public_id: &str) -> String {
    format!("key:{public_id}")
}

/// Neither revoked nor expired at `now`.
fn usable(key: &ApiKey, now: Timestamp) -> bool {
    key.revoked_at.is_none() && key.expires_at.is_none_or(|at| now < at)
}

fn needs_touch(last_used: Option<Timestamp>, now: Timestamp) -> bool {
    last_used.is_none_or(|at| (now - at).to_std().is_ok_and(|since| since >= TOUCH_EVERY))
}

pub fn principal_of(record: &ApiKeyAuth) -> Principal {
    Principal {
        id: principal_id(&record.key.public_id),
        kind: PrincipalKind::ApiKey,
        tenant: Some(record.tenant_id),
        role: None,
        system_admin: false,
        session: None,
        scopes: record.key.scopes.clone(),
        mfa_enrollment_required: false,
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration as Span;

    use super::*;
    use crate::auth::ApiScope;
    use crate::domain::{ApiKeyId, TenantId};

    fn key(expires: Option<Span>, revoked: bool) -> ApiKey {
        let now = time::now();
        ApiKey {
            id: ApiKeyId::new(),
            public_id: "0123456789abcdef".into(),
            name: "ci".into(),
            scopes: vec![ApiScope::AuditRead],
            created_at: now,
            last_used_at: None,
            expires_at: expires.map(|d| now + d),
            revoked_at: revoked.then_some(now),
        }
    }

    #[test]
    fn revoked_or_expired_keys_are_not_usable() {
        let now = time::now();
        assert!(usable(&key(None, false), now));
        assert!(usable(&key(Some(Span::hours(1)), false), now));
        assert!(!usable(&key(Some(Span::seconds(-1)), false), now));
        assert!(!usable(&key(None, true), now));
        let expiring = key(Some(Span::zero()), false);
        assert!(
            !usable(&expiring, expiring.expires_at.unwrap()),
            "at expiry"
        );
    }

    #[test]
    fn use_is_recorded_at_most_once_a_minute() {
        let now = time::now();
        assert!(needs_touch(None, now));
        assert!(!needs_touch(Some(now - Span::seconds(59)), now));
        assert!(needs_touch(Some(now - Span::seconds(60)), now));
        assert!(
            !needs_touch(Some(now + Span::seconds(5)), now),
            "clock skew"
        );
    }

    #[test]
    fn a_key_principal_holds_its_scopes_and_tenant_only() {
        let tenant = TenantId::new();
        let record = ApiKeyAuth {
            key: key(None, false),
            tenant_id: tenant,
            secret_hash: vec![0; 32],
        };
        let p = principal_of(&record);
        assert_eq!(p.id, "key:0123456789abcdef");
        assert_eq!(p.kind, PrincipalKind::ApiKey);
        assert_eq!(p.tenant, Some(tenant));
        assert_eq!((p.role, p.system_admin, p.session), (None, false, None));
        assert_eq!(p.scopes, vec![ApiScope::AuditRead]);
    }
}
