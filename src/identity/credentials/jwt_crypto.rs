//! The crypto backend behind `jsonwebtoken`: HMAC-SHA-2 (HS256, HS384, HS512) from the RustCrypto
//! `hmac` and `sha2` crates the rest of the service already uses, installed as the process default.
//!
//! Invariant: only an HMAC key with an HMAC algorithm gets a signer or verifier; RSA, ECDSA and
//! EdDSA are refused with an error and JWK helpers answer an error, never a panic. No RSA code is
//! compiled (the `rsa` crate has RUSTSEC-2023-0071, and jsonwebtoken's `rust_crypto` feature would
//! pull it in), and no second TLS crypto provider (aws-lc-rs) is either. Signatures are checked in
//! constant time. Which algorithm a token may carry is decided by [`super::jwt::TokenKey::verify`]
//! (HS256 only); HS384 and HS512 are here only so tokens under them can be made, and refused.

use std::sync::Once;

use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::signature::{Error as SignatureError, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use sha2::{Sha256, Sha384, Sha512};

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory,
    verifier_factory,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: no_rsa,
        rsa_pub_components_from_public_key: no_rsa,
        ec_pub_components_from_private_key: no_ec,
        ed_pub_components_from_private_key: no_ed,
        compute_digest: no_digest,
    },
};

/// Makes this backend jsonwebtoken's process default; idempotent, cheap after the first call.
/// Called before any key is made ([`super::jwt::TokenKey::new`]).
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        if CryptoProvider::install_default(&PROVIDER).is_err() {
            tracing::warn!("another jsonwebtoken crypto provider was installed first");
        }
    });
}

/// One HMAC key bound to the algorithm it was made for.
enum HmacJws {
    Hs256(Hmac<Sha256>),
    Hs384(Hmac<Sha384>),
    Hs512(Hmac<Sha512>),
}

impl HmacJws {
    fn new(algorithm: &Algorithm, family: AlgorithmFamily, secret: &[u8]) -> Result<Self> {
        if family != AlgorithmFamily::Hmac {
            return Err(ErrorKind::InvalidKeyFormat.into());
        }
        let bad_key = |_| ErrorKind::InvalidKeyFormat;
        Ok(match algorithm {
            Algorithm::HS256 => Self::Hs256(Mac::new_from_slice(secret).map_err(bad_key)?),
            Algorithm::HS384 => Self::Hs384(Mac::new_from_slice(secret).map_err(bad_key)?),
            Algorithm::HS512 => Self::Hs512(Mac::new_from_slice(secret).map_err(bad_key)?),
            _ => return Err(ErrorKind::InvalidAlgorithm.into()),
        })
    }

    fn algorithm(&self) -> Algorithm {
        match self {
            Self::Hs256(_) => Algorithm::HS256,
            Self::Hs384(_) => Algorithm::HS384,
            Self::Hs512(_) => Algorithm::HS512,
        }
    }
}

fn tag<M: Mac + Clone>(mac: &M, message: &[u8]) -> Vec<u8> {
    let mut mac = mac.clone();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn check<M: Mac + Clone>(mac: &M, message: &[u8], signature: &[u8]) -> bool {
    let mut mac = mac.clone();
    mac.update(message);
    mac.verify_slice(signature).is_ok()
}

impl Signer<Vec<u8>> for HmacJws {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, SignatureError> {
        Ok(match self {
            Self::Hs256(mac) => tag(mac, message),
            Self::Hs384(mac) => tag(mac, message),
            Self::Hs512(mac) => tag(mac, message),
        })
    }
}

impl Verifier<Vec<u8>> for HmacJws {
    fn verify(
        &self,
        message: &[u8],
        signature: &Vec<u8>,
    ) -> std::result::Result<(), SignatureError> {
        let ok = match self {
            Self::Hs256(mac) => check(mac, message, signature),
            Self::Hs384(mac) => check(mac, message, signature),
            Self::Hs512(mac) => check(mac, message, signature),
        };
        ok.then_some(()).ok_or_else(SignatureError::new)
    }
}

impl JwtSigner for HmacJws {
    fn algorithm(&self) -> Algorithm {
        HmacJws::algorithm(self)
    }
}

impl JwtVerifier for HmacJws {
    fn algorithm(&self) -> Algorithm {
        HmacJws::algorithm(self)
    }
}

fn signer_factory(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    Ok(Box::new(HmacJws::new(
        algorithm,
        key.family(),
        key.as_bytes(),
    )?))
}

fn verifier_factory(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    Ok(Box::new(HmacJws::new(
        algorithm,
        key.family(),
        key.try_get_as_bytes()?,
    )?))
}

fn no_rsa(_: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    Err(ErrorKind::InvalidAlgorithm.into())
}

fn no_ec(_: &[u8], _: Algorithm) -> Result<(EllipticCurve, Vec<u8>, Vec<u8>)> {
    Err(ErrorKind::InvalidAlgorithm.into())
}

fn no_ed(_: &[u8], _: &EllipticCurve) -> Result<Vec<u8>> {
    Err(ErrorKind::InvalidAlgorithm.into())
}

fn no_digest(_: &[u8], _: ThumbprintHash) -> Result<Vec<u8>> {
    Err(ErrorKind::InvalidAlgorithm.into())
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use jsonwebtoken::{decode, encode, Header, Validation};
    use serde_json::{json, Value};

    use super::*;

    /// RFC 7515 appendix A.1: the HS256 example, byte for byte.
    #[test]
    fn the_rfc_7515_hs256_example_verifies_and_a_flipped_bit_does_not() {
        install();
        let key = URL_SAFE_NO_PAD
            .decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
            .unwrap();
        let message = b"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
        let signature = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let dk = DecodingKey::from_secret(&key).unwrap();
        let ek = EncodingKey::from_secret(&key).unwrap();
        assert_eq!(
            jsonwebtoken::crypto::sign(message, &ek, Algorithm::HS256).unwrap(),
            signature
        );
        assert!(jsonwebtoken::crypto::verify(signature, message, &dk, Algorithm::HS256).unwrap());
        let flipped = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXg";
        assert!(!jsonwebtoken::crypto::verify(flipped, message, &dk, Algorithm::HS256).unwrap());
    }

    #[test]
    fn every_hmac_size_round_trips_and_other_families_are_refused() {
        install();
        let ek = EncodingKey::from_secret(&[9; 64]).unwrap();
        let dk = DecodingKey::from_secret(&[9; 64]).unwrap();
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let token = encode(&Header::new(alg), &json!({"sub": "u"}), &ek).unwrap();
            let mut validation = Validation::new(alg);
            validation.required_spec_claims.clear();
            validation.validate_exp = false;
            assert!(decode::<Value>(&token, &dk, &validation).is_ok(), "{alg:?}");
        }
        for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
            assert!(
                encode(&Header::new(alg), &json!({}), &ek).is_err(),
                "{alg:?}"
            );
            assert!(HmacJws::new(&alg, AlgorithmFamily::Hmac, &[9; 64]).is_err());
        }
        assert!(no_rsa(&[]).is_err() && no_digest(&[], ThumbprintHash::SHA256).is_err());
    }
}
