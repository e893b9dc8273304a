//! Fuzz target for the Plaid webhook verifier: the `Plaid-Verification` JWT (header, claims,
//! signature) and the raw body, through `plaid::jwt::parse` and `plaid::jwt::verify_with_key`,
//! then the body through the webhook's JSON shape.
//!
//! Input: a mode byte, then two or three parts separated by NUL.
//! - mode even: `token \0 body`: an arbitrary token, verified against a fixed key.
//! - mode odd: `header_json \0 claims_json \0 body`: signed here with the fixed key, so the
//!   fuzzer reaches the checks behind the signature (algorithm, age, body hash).
//!
//! Invariants checked: no input panics; a token is accepted only when its header says ES256 with
//! the fixed key id, it was signed by the fixed key (never in even mode: the fuzzer cannot sign),
//! its `iat` is within the window and its `request_body_sha256` is the body's hash.
#![forbid(unsafe_code)]
#![no_main]

use auditpulse::plaid::jwt::{self, MAX_AGE_SECS, MAX_SKEW_SECS};
use auditpulse::plaid::wire::Jwk;
use auditpulse::plaid::Webhook;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use sha2::{Digest, Sha256};

const NOW: i64 = 1_800_000_000;
const KID: &str = "fuzz-key";

fn key() -> (SigningKey, Jwk) {
    let signing = SigningKey::from_slice(&[7u8; 32]).expect("a valid scalar");
    let point = signing.verifying_key().to_encoded_point(false);
    let jwk = Jwk {
        alg: "ES256".into(),
        crv: "P-256".into(),
        kid: KID.into(),
        kty: "EC".into(),
        x: URL_SAFE_NO_PAD.encode(point.x().expect("uncompressed")),
        y: URL_SAFE_NO_PAD.encode(point.y().expect("uncompressed")),
        created_at: 0,
        expired_at: None,
    };
    (signing, jwk)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (signing, jwk) = key();
    let mut parts = rest.splitn(3, |&b| b == 0);
    let (token, body, signed) = if mode % 2 == 0 {
        let token = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
        (token, parts.next().unwrap_or_default().to_vec(), false)
    } else {
        let header = parts.next().unwrap_or_default();
        let claims = parts.next().unwrap_or_default();
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let signature: Signature = signing.sign(input.as_bytes());
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()));
        (token, parts.next().unwrap_or_default().to_vec(), true)
    };
    let parsed = jwt::parse(&token);
    let verdict = jwt::verify_with_key(&token, &jwk, &body, NOW);
    if let Ok(claims) = &verdict {
        assert!(signed, "an unsigned fuzzer token verified");
        let parsed = parsed.expect("a verified token parses");
        assert_eq!(parsed.header.alg, "ES256");
        assert_eq!(parsed.kid, KID);
        assert!((-MAX_SKEW_SECS..=MAX_AGE_SECS).contains(&(NOW - claims.iat)));
        assert_eq!(
            claims.request_body_sha256.to_ascii_lowercase(),
            hex::encode(Sha256::digest(&body))
        );
        let _ = serde_json::from_slice::<Webhook>(&body);
    }
});
