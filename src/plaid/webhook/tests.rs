//! Every way a webhook is refused, and the one way it is accepted.

use std::sync::atomic::{AtomicUsize, Ordering};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use sha2::{Digest, Sha256};

use super::*;

const NOW: i64 = 1_800_000_000;
const BODY: &[u8] =
    br#"{"webhook_type":"TRANSACTIONS","webhook_code":"SYNC_UPDATES_AVAILABLE","item_id":"item-1"}"#;

struct Keys {
    keys: Vec<Jwk>,
    calls: AtomicUsize,
}

#[async_trait]
impl KeySource for Keys {
    async fn key(&self, kid: &str) -> Result<Option<Jwk>, PlaidError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(self.keys.iter().find(|k| k.kid == kid).cloned())
    }
}

fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).unwrap()
}

fn jwk(key: &SigningKey, kid: &str, expired_at: Option<i64>) -> Jwk {
    let point = key.verifying_key().to_encoded_point(false);
    Jwk {
        alg: "ES256".into(),
        crv: "P-256".into(),
        kid: kid.into(),
        kty: "EC".into(),
        x: URL_SAFE_NO_PAD.encode(point.x().unwrap()),
        y: URL_SAFE_NO_PAD.encode(point.y().unwrap()),
        created_at: NOW - 86_400,
        expired_at,
    }
}

fn token(key: &SigningKey, header: serde_json::Value, iat: i64, body: &[u8]) -> String {
    let claims = serde_json::json!({
        "iat": iat, "request_body_sha256": hex::encode(Sha256::digest(body)),
    });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn es256(kid: &str) -> serde_json::Value {
    serde_json::json!({"alg": "ES256", "kid": kid, "typ": "JWT"})
}

fn verifier(keys: Vec<Jwk>) -> (WebhookVerifier, Arc<Keys>) {
    let source = Arc::new(Keys {
        keys,
        calls: AtomicUsize::new(0),
    });
    (WebhookVerifier::new(source.clone()), source)
}

async fn outcome(keys: Vec<Jwk>, token: &str, body: &[u8]) -> Result<Webhook, Refusal> {
    verifier(keys).0.verify(Some(token), body, NOW).await
}

#[tokio::test]
async fn a_correctly_signed_fresh_webhook_is_accepted_and_its_key_cached() {
    let key = signing_key(7);
    let (verifier, source) = verifier(vec![jwk(&key, "k1", None)]);
    let t = token(&key, es256("k1"), NOW - 10, BODY);
    let webhook = verifier.verify(Some(&t), BODY, NOW).await.unwrap();
    assert_eq!(webhook.webhook_code, "SYNC_UPDATES_AVAILABLE");
    assert_eq!(webhook.item_id.as_deref(), Some("item-1"));
    verifier.verify(Some(&t), BODY, NOW).await.unwrap();
    assert_eq!(source.calls.load(Ordering::SeqCst), 1, "the key is cached");
}

#[tokio::test]
async fn other_algorithms_are_refused_before_any_key_is_fetched() {
    let key = signing_key(7);
    for alg in ["none", "HS256", "RS256", "PS256", "ES384", "EdDSA", "es256"] {
        let t = token(
            &key,
            serde_json::json!({"alg": alg, "kid": "k1"}),
            NOW,
            BODY,
        );
        let (verifier, source) = verifier(vec![jwk(&key, "k1", None)]);
        let refusal = verifier.verify(Some(&t), BODY, NOW).await.unwrap_err();
        assert_eq!(refusal, Refusal::Algorithm(alg.into()));
        assert_eq!(source.calls.load(Ordering::SeqCst), 0);
    }
    // An unsigned token (empty signature part) claiming ES256 fails on the signature.
    let t = token(&key, es256("k1"), NOW, BODY);
    let unsigned = format!("{}.", t.rsplit_once('.').unwrap().0);
    assert_eq!(
        outcome(vec![jwk(&key, "k1", None)], &unsigned, BODY)
            .await
            .unwrap_err(),
        Refusal::BadSignature
    );
}

#[tokio::test]
async fn unknown_and_expired_keys_are_refused() {
    let key = signing_key(7);
    let t = token(&key, es256("k2"), NOW, BODY);
    assert_eq!(
        outcome(vec![jwk(&key, "k1", None)], &t, BODY)
            .await
            .unwrap_err(),
        Refusal::UnknownKey
    );
    let t = token(&key, es256("k1"), NOW, BODY);
    let expired = jwk(&key, "k1", Some(NOW - 1));
    assert_eq!(
        outcome(vec![expired], &t, BODY).await.unwrap_err(),
        Refusal::ExpiredKey
    );
    let later = jwk(&key, "k1", Some(NOW + 3600));
    assert!(
        outcome(vec![later], &t, BODY).await.is_ok(),
        "not yet expired"
    );
}

#[tokio::test]
async fn a_signature_by_another_key_is_refused() {
    let (real, forger) = (signing_key(7), signing_key(9));
    let t = token(&forger, es256("k1"), NOW, BODY);
    assert_eq!(
        outcome(vec![jwk(&real, "k1", None)], &t, BODY)
            .await
            .unwrap_err(),
        Refusal::BadSignature
    );
}

#[tokio::test]
async fn stale_and_future_webhooks_are_refused() {
    let key = signing_key(7);
    let keys = || vec![jwk(&key, "k1", None)];
    let old = token(&key, es256("k1"), NOW - jwt::MAX_AGE_SECS - 1, BODY);
    assert_eq!(
        outcome(keys(), &old, BODY).await.unwrap_err(),
        Refusal::Stale
    );
    let edge = token(&key, es256("k1"), NOW - jwt::MAX_AGE_SECS, BODY);
    assert!(outcome(keys(), &edge, BODY).await.is_ok());
    let future = token(&key, es256("k1"), NOW + 600, BODY);
    assert_eq!(
        outcome(keys(), &future, BODY).await.unwrap_err(),
        Refusal::Stale
    );
}

#[tokio::test]
async fn a_body_that_is_not_the_signed_one_is_refused() {
    let key = signing_key(7);
    let t = token(&key, es256("k1"), NOW, BODY);
    let tampered = br#"{"webhook_type":"TRANSACTIONS","webhook_code":"SYNC_UPDATES_AVAILABLE","item_id":"item-2"}"#;
    assert_eq!(
        outcome(vec![jwk(&key, "k1", None)], &t, tampered)
            .await
            .unwrap_err(),
        Refusal::BodyMismatch
    );
}

#[tokio::test]
async fn missing_and_malformed_tokens_are_refused() {
    let key = signing_key(7);
    let (verifier, _) = verifier(vec![jwk(&key, "k1", None)]);
    assert_eq!(
        verifier.verify(None, BODY, NOW).await.unwrap_err(),
        Refusal::Missing
    );
    for bad in ["", "a.b", "a.b.c.d", "!!!.e30.sig", "e30.e30.AA"] {
        let refusal = verifier.verify(Some(bad), BODY, NOW).await.unwrap_err();
        assert!(
            matches!(refusal, Refusal::Malformed(_)),
            "{bad}: {refusal:?}"
        );
    }
    let no_kid = token(&key, serde_json::json!({"alg": "ES256"}), NOW, BODY);
    assert_eq!(
        verifier.verify(Some(&no_kid), BODY, NOW).await.unwrap_err(),
        Refusal::Malformed("no usable kid")
    );
}

#[test]
fn keys_that_are_not_p256_es256_are_refused() {
    let key = signing_key(7);
    let mut wrong = jwk(&key, "k1", None);
    wrong.crv = "P-384".into();
    assert_eq!(jwt::verifying_key(&wrong).unwrap_err(), Refusal::BadKey);
    let mut off_curve = jwk(&key, "k1", None);
    off_curve.y = URL_SAFE_NO_PAD.encode([1u8; 32]);
    assert_eq!(jwt::verifying_key(&off_curve).unwrap_err(), Refusal::BadKey);
}
