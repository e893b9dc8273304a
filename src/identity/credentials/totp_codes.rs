//! TOTP two-factor codes (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps), codes computed by the
//! `totp-rs` crate.
//!
//! Invariant: a code is accepted for the current step or one step either side, and each step at
//! most once: the caller stores the step `verify` returns and passes it back next time, so a
//! replayed code (or another code of an already used step) fails.

use std::fmt;

use rand::RngCore;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

use crate::secret::{Secret, SecretString};

pub const STEP_SECS: u64 = 30;
const DIGITS: usize = 6;
const SECRET_BYTES: usize = 20;

/// A user's TOTP secret: 160 random bits (store it through the keyring, never in clear).
#[derive(Clone)]
pub struct TotpSecret(Secret<Vec<u8>>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret([REDACTED])")
    }
}

impl TotpSecret {
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(Secret::new(bytes))
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(Secret::new(bytes))
    }

    pub fn bytes(&self) -> &[u8] {
        self.0.expose()
    }

    fn totp(&self, issuer: &str, account: &str) -> TOTP {
        TOTP::new_unchecked(
            Algorithm::SHA1,
            DIGITS,
            1,
            STEP_SECS,
            self.bytes().to_vec(),
            Some(issuer.to_owned()),
            account.to_owned(),
        )
    }

    /// The base32 secret and the `otpauth://` URI an authenticator app scans, shown once at setup.
    pub fn provisioning(&self, issuer: &str, account: &str) -> (SecretString, SecretString) {
        let totp = self.totp(issuer, account);
        (
            SecretString::new(totp.get_secret_base32()),
            SecretString::new(totp.get_url()),
        )
    }

    /// The step a valid `code` belongs to, if it is valid at `now` (Unix seconds) and its step is
    /// later than `last_used_step`.
    pub fn verify(&self, code: &str, now: u64, last_used_step: Option<u64>) -> Option<u64> {
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let totp = self.totp("AuditPulse", "user");
        let current = now / STEP_SECS;
        let mut accepted = None;
        // Check every candidate step, so timing does not depend on which one matched.
        for step in [current.saturating_sub(1), current, current + 1] {
            let expected = totp.generate(step * STEP_SECS);
            let fresh = last_used_step.is_none_or(|used| step > used);
            if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) && fresh && accepted.is_none()
            {
                accepted = Some(step);
            }
        }
        accepted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B: the SHA-1 secret is the ASCII bytes "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec())
    }

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        // The RFC's 8-digit values 94287082 / 07081804 / 14050471, truncated to 6 digits.
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
        ] {
            assert_eq!(
                rfc_secret().verify(code, time, None),
                Some(time / STEP_SECS),
                "t={time}"
            );
        }
    }

    #[test]
    fn one_step_of_drift_either_way_is_accepted_two_are_not() {
        let s = rfc_secret();
        let t = 1_111_111_109; // code 081804 belongs to step 37037036
        assert!(s.verify("081804", t + 30, None).is_some());
        assert!(s.verify("081804", t - 30, None).is_some());
        assert!(s.verify("081804", t + 60, None).is_none());
        assert!(s.verify("081805", t, None).is_none());
        for bad in ["08180", "0818040", "08180a", ""] {
            assert!(s.verify(bad, t, None).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_code_or_its_step_is_accepted_only_once() {
        let s = rfc_secret();
        let t = 1_111_111_109;
        let step = s.verify("081804", t, None).unwrap();
        assert_eq!(s.verify("081804", t, Some(step)), None, "replay");
        assert_eq!(
            s.verify("081804", t + 15, Some(step)),
            None,
            "same step, later in it"
        );
        let next = TotpSecret::from_bytes(b"12345678901234567890".to_vec())
            .totp("x", "y")
            .generate((step + 1) * STEP_SECS);
        assert_eq!(
            s.verify(&next, t + 30, Some(step)),
            Some(step + 1),
            "the next step is fine"
        );
    }

    #[test]
    fn provisioning_gives_an_otpauth_uri_and_the_secret_never_prints() {
        let s = TotpSecret::generate();
        assert_eq!(s.bytes().len(), 20);
        let (base32, uri) = s.provisioning("AuditPulse", "jane@example.com");
        assert!(
            uri.expose()
                .starts_with("otpauth://totp/AuditPulse:jane%40example.com?secret="),
            "{}",
            uri.expose()
        );
        assert!(uri.expose().contains(base32.expose().as_str()));
        assert_eq!(format!("{s:?}"), "TotpSecret([REDACTED])");
        assert_eq!(format!("{base32:?}"), "[REDACTED]");
    }
}
