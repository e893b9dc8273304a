//! The refresh cookie and the opaque refresh token it carries.
//!
//! The token is `<session id>.<32 random bytes, base64url>`: 256 random bits, of which only a
//! SHA-256 is stored. The session id in front is not secret; it lets refresh check the session's
//! idle time before the token is rotated (rotation records activity).
//!
//! The cookie is `__Host-auditpulse_refresh; HttpOnly; Secure; SameSite=Strict; Path=/` whenever
//! TLS is configured or the environment is production (TLS then ends at the trusted proxy).
//! Development over plain HTTP cannot use `Secure` (browsers would drop the cookie) nor, therefore,
//! the `__Host-` prefix: there it is `auditpulse_refresh; HttpOnly; SameSite=Strict; Path=/`.
//! Invariant: the token never appears in logs or `Debug` output.

use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::domain::SessionId;
use crate::secret::SecretString;

pub const SECURE_NAME: &str = "__Host-auditpulse_refresh";
pub const PLAIN_NAME: &str = "auditpulse_refresh";
const RANDOM_BYTES: usize = 32;

/// Whether the cookie is `Secure` (and `__Host-` prefixed): TLS here or at the proxy.
pub fn secure(config: &Config) -> bool {
    config.tls.is_some() || config.is_production()
}

pub fn name(config: &Config) -> &'static str {
    if secure(config) {
        SECURE_NAME
    } else {
        PLAIN_NAME
    }
}

/// An opaque refresh token.
pub struct RefreshToken(SecretString);

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken([REDACTED])")
    }
}

impl RefreshToken {
    pub fn generate(session: SessionId) -> Self {
        let mut bytes = zeroize::Zeroizing::new([0u8; RANDOM_BYTES]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        Self(SecretString::new(format!(
            "{session}.{}",
            URL_SAFE_NO_PAD.encode(bytes.as_ref())
        )))
    }

    /// A presented token, if it has the shape of one of ours.
    pub fn parse(value: &str) -> Option<Self> {
        let (session, random) = value.split_once('.')?;
        session.parse::<SessionId>().ok()?;
        let decoded = URL_SAFE_NO_PAD.decode(random).ok()?;
        (decoded.len() == RANDOM_BYTES).then(|| Self(SecretString::new(value.to_owned())))
    }

    /// The session it claims to belong to (checked by the store through the hash).
    pub fn session(&self) -> Option<SessionId> {
        self.0.expose().split_once('.')?.0.parse().ok()
    }

    /// What is stored: SHA-256 of the whole token.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.expose().as_bytes()).into()
    }

    fn value(&self) -> &str {
        self.0.expose()
    }
}

/// The refresh token of the request's cookie, under this configuration's cookie name.
pub fn read(config: &Config, headers: &HeaderMap) -> Option<RefreshToken> {
    let wanted = name(config);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == wanted)
        .and_then(|(_, value)| RefreshToken::parse(value.trim()))
}

fn attributes(config: &Config) -> &'static str {
    if secure(config) {
        "HttpOnly; Secure; SameSite=Strict; Path=/"
    } else {
        "HttpOnly; SameSite=Strict; Path=/"
    }
}

/// `Set-Cookie` for `token`, living as long as the session may (`max_age`).
pub fn set(config: &Config, token: &RefreshToken, max_age: Duration) -> HeaderValue {
    let text = format!(
        "{}={}; Max-Age={}; {}",
        name(config),
        token.value(),
        max_age.as_secs().max(1),
        attributes(config)
    );
    // The token is base64url and a uuid; the rest is fixed text: always a valid header value.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that removes the cookie.
pub fn clear(config: &Config) -> HeaderValue {
    let text = format!("{}=; Max-Age=0; {}", name(config), attributes(config));
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_256_random_bits_and_their_session_and_never_print() {
        let session = SessionId::new();
        let token = RefreshToken::generate(session);
        assert_eq!(token.session(), Some(session));
        let random = token.value().split_once('.').unwrap().1;
        assert_eq!(URL_SAFE_NO_PAD.decode(random).unwrap().len(), 32);
        assert_ne!(
            RefreshToken::generate(session).hash(),
            token.hash(),
            "fresh randomness each time"
        );
        assert_eq!(format!("{token:?}"), "RefreshToken([REDACTED])");
        let parsed = RefreshToken::parse(token.value()).unwrap();
        assert_eq!(parsed.hash(), token.hash());
    }

    #[test]
    fn anything_else_is_not_a_refresh_token() {
        let good = RefreshToken::generate(SessionId::new()).value().to_owned();
        let (session, random) = good.split_once('.').unwrap();
        for bad in [
            String::new(),
            random.to_owned(),
            format!("not-a-uuid.{random}"),
            format!("{session}.{}", &random[1..]),
            format!("{session}.{random}!"),
        ] {
            assert!(RefreshToken::parse(&bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_cookie_is_read_by_its_exact_name_only() {
        let token = RefreshToken::generate(SessionId::new());
        let mut headers = HeaderMap::new();
        let cookie = format!(
            "x{PLAIN_NAME}=nope; {PLAIN_NAME}={}; other=1",
            token.value()
        );
        headers.insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
        let config = crate::config::Config::load(
            &crate::config::Sources::from_pairs(vec![(
                "AUDITPULSE_MASTER_KEYS".to_owned(),
                "t1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned(),
            )]),
            crate::config::SecretMode::Inspect,
        )
        .unwrap()
        .config;
        assert_eq!(read(&config, &headers).unwrap().hash(), token.hash());
        let set = set(&config, &token, Duration::from_secs(90));
        let set = set.to_str().unwrap();
        assert!(set.starts_with("auditpulse_refresh="), "{set}");
        assert!(set.ends_with("; Max-Age=90; HttpOnly; SameSite=Strict; Path=/"));
        assert_eq!(
            clear(&config).to_str().unwrap(),
            "auditpulse_refresh=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/"
        );
    }
}
