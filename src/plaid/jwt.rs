//! The `Plaid-Verification` JWT taken apart and checked against a key, without I/O: the part of
//! webhook verification the fuzz target drives.
//!
//! Invariant: only `alg: ES256` over P-256 passes (`none`, HS*, RS*, PS*, EdDSA and ES384 are
//! refused before any key is looked at); the signature is checked with RustCrypto `p256` over the
//! exact `header.payload` text; `iat` must be at most five minutes old (and not more than a minute
//! ahead); `request_body_sha256` must equal the SHA-256 of the raw body, compared in constant
//! time. Any input, however malformed, yields a [`Refusal`], never a panic.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::wire::Jwk;

/// How old a webhook may be.
pub const MAX_AGE_SECS: i64 = 5 * 60;
/// How far ahead of our clock `iat` may be.
pub const MAX_SKEW_SECS: i64 = 60;
/// Longest header value looked at.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// Why a webhook was not accepted. Shown in the security event, never to the sender.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no Plaid-Verification header")]
    Missing,
    #[error("the verification token is malformed: {0}")]
    Malformed(&'static str),
    #[error("algorithm {0:?} is not ES256")]
    Algorithm(String),
    #[error("no verification key with that key id")]
    UnknownKey,
    #[error("the verification key has expired")]
    ExpiredKey,
    #[error("the verification key is not a P-256 ES256 key")]
    BadKey,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the webhook is older than five minutes (or dated in the future)")]
    Stale,
    #[error("the body does not match request_body_sha256")]
    BodyMismatch,
    #[error("the verification key could not be fetched: {0}")]
    KeyUnavailable(String),
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub typ: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iat: i64,
    pub request_body_sha256: String,
}

/// A token split into its parts; the claims are not trusted until [`check`] passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<'a> {
    pub header: Header,
    pub kid: String,
    pub claims: Claims,
    signing_input: &'a str,
    signature: Vec<u8>,
}

/// Splits and decodes `token`; refuses any algorithm but ES256 and a token without a key id.
pub fn parse(token: &str) -> Result<Parsed<'_>, Refusal> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Refusal::Malformed("too long"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::Malformed("not three dot-separated parts"));
    };
    let header: Header = decode_json(header, "header")?;
    if header.alg != "ES256" {
        return Err(Refusal::Algorithm(header.alg));
    }
    let kid = match &header.kid {
        Some(kid) if !kid.is_empty() && kid.len() <= 128 => kid.clone(),
        _ => return Err(Refusal::Malformed("no usable kid")),
    };
    let claims: Claims = decode_json(payload, "claims")?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| Refusal::Malformed("signature is not base64url"))?;
    let signing_input = &token[..header_len(token, payload)];
    Ok(Parsed {
        header,
        kid,
        claims,
        signing_input,
        signature,
    })
}

/// Length of `header.payload` within `token`.
fn header_len(token: &str, payload: &str) -> usize {
    token.find('.').map_or(0, |dot| dot + 1 + payload.len())
}

fn decode_json<T: serde::de::DeserializeOwned>(
    part: &str,
    what: &'static str,
) -> Result<T, Refusal> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| {
        Refusal::Malformed(match what {
            "header" => "header is not base64url",
            _ => "claims are not base64url",
        })
    })?;
    serde_json::from_slice(&bytes).map_err(|_| {
        Refusal::Malformed(match what {
            "header" => "header is not the expected JSON",
            _ => "claims are not the expected JSON",
        })
    })
}

/// The P-256 public key of a JWK, if it is one for ES256.
pub fn verifying_key(jwk: &Jwk) -> Result<VerifyingKey, Refusal> {
    if jwk.alg != "ES256" || jwk.kty != "EC" || jwk.crv != "P-256" {
        return Err(Refusal::BadKey);
    }
    let coordinate = |c: &str| -> Result<[u8; 32], Refusal> {
        let bytes = URL_SAFE_NO_PAD.decode(c).map_err(|_| Refusal::BadKey)?;
        bytes.try_into().map_err(|_| Refusal::BadKey)
    };
    let (x, y) = (coordinate(&jwk.x)?, coordinate(&jwk.y)?);
    let point = p256::EncodedPoint::from_affine_coordinates(&x.into(), &y.into(), false);
    VerifyingKey::from_encoded_point(&point).map_err(|_| Refusal::BadKey)
}

/// Checks a parsed token's signature with `key`, its age at `now` (Unix seconds) and the body hash.
pub fn check(
    parsed: &Parsed<'_>,
    key: &VerifyingKey,
    body: &[u8],
    now: i64,
) -> Result<(), Refusal> {
    let signature = Signature::from_slice(&parsed.signature).map_err(|_| Refusal::BadSignature)?;
    key.verify(parsed.signing_input.as_bytes(), &signature)
        .map_err(|_| Refusal::BadSignature)?;
    let age = now.saturating_sub(parsed.claims.iat);
    if !(-MAX_SKEW_SECS..=MAX_AGE_SECS).contains(&age) {
        return Err(Refusal::Stale);
    }
    let actual = hex::encode(Sha256::digest(body));
    let claimed = parsed.claims.request_body_sha256.to_ascii_lowercase();
    if !bool::from(actual.as_bytes().ct_eq(claimed.as_bytes())) {
        return Err(Refusal::BodyMismatch);
    }
    Ok(())
}

/// The whole check with a known key: parse, key match, signature, age, body. Pure.
pub fn verify_with_key(token: &str, jwk: &Jwk, body: &[u8], now: i64) -> Result<Claims, Refusal> {
    let parsed = parse(token)?;
    if parsed.kid != jwk.kid {
        return Err(Refusal::UnknownKey);
    }
    if jwk.expired_at.is_some_and(|at| at <= now) {
        return Err(Refusal::ExpiredKey);
    }
    check(&parsed, &verifying_key(jwk)?, body, now)?;
    Ok(parsed.claims)
}
