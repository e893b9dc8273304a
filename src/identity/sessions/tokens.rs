//! Access tokens as this service issues them: HS256 JWTs signed with a key derived (HKDF-SHA256)
//! from the active master key, the master key's id in the header's `kid`.
//!
//! Invariant: a token verifies only under the key its `kid` names among the configured master
//! keys (an unknown `kid` is refused), with every claim checked by `auth::jwt`. After a master key
//! rotation, tokens signed under the old key keep working while that key stays configured.

use serde::Serialize;

use crate::config::{MasterKey, MasterKeys};
use crate::domain::time::Timestamp;
use crate::domain::SessionId;
use crate::error::{Error, Result};
use crate::identity::credentials::jwt::{self, Claims, TokenKey};
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;

    const K1: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K2: &str = "k2:HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=";

    fn tokens(keys: &str) -> AccessTokens {
        AccessTokens::new(&MasterKeys::parse(keys).unwrap()).unwrap()
    }

    fn user() -> User {
        User {
            id: UserId::new(),
            email: "a@example.com".into(),
            display_name: None,
            tenant_id: None,
            role: None,
            system_admin: true,
            active: true,
            totp_enabled: false,
            created_at: crate::domain::time::now(),
            last_login_at: None,
        }
    }

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    #[test]
    fn tokens_name_their_master_key_and_verify_after_a_rotation() {
        let before = tokens(K1);
        let token = before.sign(&user(), SessionId::new(), now(), 60).unwrap();
        assert_eq!(jwt::key_id(&token).as_deref(), Some("k1"));
        assert_eq!(before.verify(&token).unwrap().role, "system_admin");
        let rotated = tokens(&format!("{K2},{K1}"));
        assert!(
            rotated.verify(&token).is_ok(),
            "the old key is still configured"
        );
        let fresh = rotated.sign(&user(), SessionId::new(), now(), 60).unwrap();
        assert_eq!(jwt::key_id(&fresh).as_deref(), Some("k2"));
        assert!(
            matches!(tokens(K2).verify(&token), Err(Error::Unauthenticated)),
            "k1 removed: its tokens are refused"
        );
        assert!(matches!(before.verify(&fresh), Err(Error::Unauthenticated)));
    }

    #[test]
    fn access_tokens_never_outlive_their_session_and_keys_never_print() {
        let t = tokens(K1);
        let now = crate::domain::time::now();
        let ttl = std::time::Duration::from_secs(1800);
        let body = issue(
            &t,
            &user(),
            SessionId::new(),
            now + chrono::Duration::seconds(90),
            now,
            ttl,
        )
        .unwrap();
        assert_eq!(body.expires_in, 90);
        let body = issue(
            &t,
            &user(),
            SessionId::new(),
            now + chrono::Duration::days(7),
            now,
            ttl,
        )
        .unwrap();
        assert_eq!(body.expires_in, 1800);
        assert_eq!(format!("{t:?}"), r#"AccessTokens { kids: ["k1"] }"#);
    }
}
