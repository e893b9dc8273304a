//! Access tokens: JWTs signed with HS256 under a configured key, the one algorithm accepted.
//!
//! Invariant: a token is accepted only if its header says HS256, its signature checks, and `iss`,
//! `aud`, `exp` and `nbf` are right now; `alg: none`, any other algorithm, a changed payload, a
//! wrong key, an expired or not-yet-valid token, and a wrong audience are all refused.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::Secret;

pub const ISSUER: &str = "auditpulse";
pub const AUDIENCE: &str = "auditpulse-api";

/// What an access token says. Ids only, never credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    /// The tenant id; absent for a global system administrator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    /// The session id, checked against live sessions on every request.
    pub sid: String,
    pub role: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
}

impl Claims {
    pub fn new(
        sub: String,
        tid: Option<String>,
        sid: String,
        role: String,
        now: u64,
        ttl_secs: u64,
    ) -> Self {
        Self {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub,
            tid,
            sid,
            role,
            iat: now,
            nbf: now,
            exp: now + ttl_secs,
        }
    }
}

/// The `kid` a token's header names, read without trusting anything else in it: it only says
/// which configured key to verify with. `None` for a token without one or not a JWT at all.
pub fn key_id(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).ok()?.kid
}

/// The signing key: at least 32 bytes.
pub struct TokenKey(Secret<Vec<u8>>);

impl TokenKey {
    pub fn new(bytes: Vec<u8>) -> Result<Self> {
        if bytes.len() < 32 {
            return Err(Error::Config(format!(
                "the token signing key is {} bytes; it needs at least 32",
                bytes.len()
            )));
        }
        super::jwt_crypto::install();
        Ok(Self(Secret::new(bytes)))
    }

    pub fn sign(&self, claims: &Claims) -> Result<String> {
        self.sign_with_kid(claims, None)
    }

    /// Signs with `kid` in the header, naming the key a verifier should pick.
    pub fn sign_with_kid(&self, claims: &Claims, kid: Option<&str>) -> Result<String> {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = kid.map(str::to_owned);
        EncodingKey::from_secret(self.0.expose())
            .and_then(|key| encode(&header, claims, &key))
            .map_err(|e| anyhow::anyhow!("cannot sign a token: {e}").into())
    }

    /// The claims of a valid token; `Unauthenticated` for anything else (the reason is logged at
    /// debug level only, so clients cannot probe which check failed).
    pub fn verify(&self, token: &str) -> Result<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_nbf = true;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        DecodingKey::from_secret(self.0.expose())
            .and_then(|key| decode::<Claims>(token, &key, &validation))
            .map(|d| d.claims)
            .map_err(|e| {
                tracing::debug!(reason = %e, "access token refused");
                Error::Unauthenticated
            })
    }
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    use super::*;

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    fn key(byte: u8) -> TokenKey {
        TokenKey::new(vec![byte; 32]).unwrap()
    }

    fn claims(ttl: u64) -> Claims {
        Claims::new(
            "u1".into(),
            Some("t1".into()),
            "s1".into(),
            "viewer".into(),
            now(),
            ttl,
        )
    }

    fn refused(result: Result<Claims>) -> bool {
        matches!(result, Err(Error::Unauthenticated))
    }

    #[test]
    fn a_signed_token_verifies_with_every_claim() {
        let c = claims(1800);
        assert_eq!(key(1).verify(&key(1).sign(&c).unwrap()).unwrap(), c);
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(1800)).unwrap());
        let none = format!(
            "{}.{body}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#)
        );
        assert!(refused(key(1).verify(&none)));
        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &claims(1800),
            &EncodingKey::from_secret(&[1; 32]).unwrap(),
        )
        .unwrap();
        assert!(refused(key(1).verify(&hs512)), "same key, other algorithm");
    }

    #[test]
    fn a_changed_payload_or_a_wrong_key_is_refused() {
        let token = key(1).sign(&claims(1800)).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut c = claims(1800);
        c.role = "admin".into();
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap());
        assert!(
            refused(key(1).verify(&parts.join("."))),
            "privilege raised in the payload"
        );
        assert!(refused(key(2).verify(&token)));
        assert!(refused(key(1).verify("not.a.token")));
    }

    #[test]
    fn expired_early_or_misaddressed_tokens_are_refused() {
        let mut expired = claims(0);
        expired.exp = now() - 1;
        assert!(refused(key(1).verify(&key(1).sign(&expired).unwrap())));
        let mut early = claims(1800);
        early.nbf = now() + 60;
        assert!(refused(key(1).verify(&key(1).sign(&early).unwrap())));
        let mut elsewhere = claims(1800);
        elsewhere.aud = "another-api".into();
        assert!(refused(key(1).verify(&key(1).sign(&elsewhere).unwrap())));
        let mut forged_issuer = claims(1800);
        forged_issuer.iss = "someone-else".into();
        assert!(refused(
            key(1).verify(&key(1).sign(&forged_issuer).unwrap())
        ));
    }

    #[test]
    fn the_key_id_travels_in_the_header_and_is_covered_by_the_signature() {
        let token = key(1).sign_with_kid(&claims(1800), Some("k1")).unwrap();
        assert_eq!(key_id(&token).as_deref(), Some("k1"));
        assert!(key(1).verify(&token).is_ok());
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[0] = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT","kid":"k2"}"#);
        assert!(refused(key(1).verify(&parts.join("."))), "kid swapped");
        assert_eq!(key_id("garbage"), None);
    }

    #[test]
    fn short_keys_are_refused_and_keys_never_print() {
        assert!(TokenKey::new(vec![1; 31]).is_err());
        assert_eq!(format!("{:?}", key(7)), "TokenKey([REDACTED])");
    }
}
