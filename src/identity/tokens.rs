//! Access tokens as this service issues them: HS256 JWTs signed with a key derived (HKDF-SHA256)
//! from the active master key, the master key's id in the header's `kid`.
//!
//! Invariant: a token verifies only under the key its `kid` names among the configured master
//! keys (an unknown `kid` is refused), with every claim checked by `auth::jwt`. After a master key
//! rotation, tokens signed under the old key keep working while that key stays configured.

use serde::Serialize;

use crate::auth::jwt::{self, Claims, TokenKey};
use crate::config::{MasterKey, MasterKeys};
use crate::domain::time::Timestamp;
use crate::domain::SessionId;
use crate::error::{Error, Result};
use crate::identity::User;

const HKDF_INFO: &[u8] = b"auditpulse access token v1";

/// The signing keys, one per configured master key; the first is the one that signs.
pub struct AccessTokens {
    keys: Vec<(String, TokenKey)>,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("AccessTokens").field("kids", &ids).finish()
    }
}

fn derive(master: &MasterKey) -> Result<TokenKey> {
    let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(None, master.key.expose());
    // Handed straight to `TokenKey`, which keeps it in a zeroizing `Secret`.
    let mut key = vec![0u8; 32];
    // 32 bytes is far below HKDF-SHA256's output limit, so this cannot fail.
    let _ = hkdf.expand(HKDF_INFO, &mut key);
    TokenKey::new(key)
}

impl AccessTokens {
    pub fn new(master: &MasterKeys) -> Result<Self> {
        let keys = master
            .all()
            .iter()
            .map(|m| Ok((m.id.clone(), derive(m)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { keys })
    }

    /// A token for `user` in `session`, valid from `now` (Unix seconds) for `ttl_secs`.
    pub fn sign(&self, user: &User, session: SessionId, now: u64, ttl_secs: u64) -> Result<String> {
        let (kid, key) = self
            .keys
            .first()
            .ok_or_else(|| Error::Config("no master key is configured".into()))?;
        let claims = Claims::new(
            user.id.to_string(),
            user.tenant_id.map(|t| t.to_string()),
            session.to_string(),
            role_claim(user),
            now,
            ttl_secs,
        );
        key.sign_with_kid(&claims, Some(kid))
    }

    /// The claims of a token signed by one of the configured keys; `Unauthenticated` otherwise.
    pub fn verify(&self, token: &str) -> Result<Claims> {
        let kid = jwt::key_id(token).ok_or(Error::Unauthenticated)?;
        let (_, key) = self
            .keys
            .iter()
            .find(|(id, _)| *id == kid)
            .ok_or(Error::Unauthenticated)?;
        key.verify(token)
    }
}

/// The `role` claim: the tenant role, or `system_admin` for a global administrator without one.
/// Informational: authorization uses the stored user, read fresh on every request.
pub fn role_claim(user: &User) -> String {
    match user.role {
        Some(role) => serde_json::to_value(role)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        None => "system_admin".to_owned(),
    }
}

/// The body of a successful login or refresh.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenBody {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// An access token for `user` in `session`, never outliving the session itself.
pub fn issue(
    tokens: &AccessTokens,
    user: &User,
    session: SessionId,
    session_expires: Timestamp,
    now: Timestamp,
    ttl: std::time::Duration,
) -> Result<TokenBody> {
    let now_secs = u64::try_from(now.timestamp()).unwrap_or_default();
    let left = u64::try_from((session_expires - now).num_seconds()).unwrap_or_default();
    let ttl = ttl.as_secs().min(left).max(1);
    Ok(TokenBody {
        access_token: tokens.sign(user, session, now_secs, ttl)?,
        token_type: "Bearer",
        expires_in: ttl,
    })
}
