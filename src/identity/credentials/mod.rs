//! Credential primitives, with no I/O: password hashing and policy, signed access tokens (JWT),
//! TOTP codes and recovery codes, and the API-key format. The account flows that use them live
//! beside this folder.

/// The `ap_…` API-key format: public id and secret, hashing, constant-time checks.
pub mod api_key_format;
/// HS256 access tokens with key ids, for rotation.
pub mod jwt;
/// The HMAC-only signing backend of `jsonwebtoken` (no RSA or ECDSA code is built).
pub mod jwt_crypto;
/// Argon2id hashing on the blocking pool, and the password policy.
pub mod password;
/// TOTP secrets and codes, recovery codes.
pub mod totp_codes;
