//! AES-256-GCM (RustCrypto `aes-gcm`) with a fresh random 96-bit nonce per message, and the data
//! key type.
//!
//! Invariant: `open` either returns the exact plaintext that was sealed with the same key and
//! associated data, or an error; never other bytes. Key material lives in [`Secret`] (zeroized on
//! drop, `[REDACTED]` in `Debug`), and errors name what failed, never key bytes or plaintext.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use rand::RngCore;

use super::format::{self, Header, NONCE_LEN};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// A 256-bit AES key: a tenant's data key, or a master key's bytes while wrapping.
#[derive(Clone, Debug)]
pub struct DataKey(Secret<[u8; 32]>);

impl DataKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Self {
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        Self(Secret::new(*bytes))
    }

    pub fn from_secret(secret: Secret<[u8; 32]>) -> Self {
        Self(secret)
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        self.0.expose()
    }
}

/// Seals `plaintext` under `key`, writing the header for `key_version` and binding `aad` (and the
/// header) as associated data.
pub fn seal(key: &DataKey, key_version: u32, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let header = Header { key_version }.to_bytes();
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.bytes()));
    let full_aad = [header.as_slice(), aad].concat();
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &full_aad,
            },
        )
        .map_err(|_| Error::Crypto("encryption failed".to_owned()))?;
    let mut out = Vec::with_capacity(format::OVERHEAD + plaintext.len());
    out.extend_from_slice(&header);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens a ciphertext made by [`seal`] with the same key and associated data.
pub fn open(key: &DataKey, aad: &[u8], ciphertext: &[u8]) -> Result<Secret<Vec<u8>>> {
    let parsed = format::parse(ciphertext)?;
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.bytes()));
    let full_aad = [parsed.header_bytes, aad].concat();
    cipher
        .decrypt(
            Nonce::from_slice(parsed.nonce),
            Payload {
                msg: parsed.sealed,
                aad: &full_aad,
            },
        )
        .map(Secret::new)
        .map_err(|_| {
            Error::Crypto(
                "ciphertext does not authenticate: wrong key, or copied from another place"
                    .to_owned(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_bytes_open_only_with_the_same_key_and_associated_data() {
        let key = DataKey::generate();
        let sealed = seal(&key, 3, b"tenant-a/row-1", b"plaid-access-token").unwrap();
        assert_eq!(format::parse(&sealed).unwrap().header.key_version, 3);
        assert_eq!(
            open(&key, b"tenant-a/row-1", &sealed).unwrap().expose(),
            b"plaid-access-token"
        );
        assert!(open(&key, b"tenant-a/row-2", &sealed).is_err());
        assert!(open(&DataKey::generate(), b"tenant-a/row-1", &sealed).is_err());
    }

    #[test]
    fn any_flipped_bit_is_detected_including_the_header() {
        let key = DataKey::generate();
        let sealed = seal(&key, 1, b"aad", b"secret").unwrap();
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            assert!(open(&key, b"aad", &tampered).is_err(), "byte {i}");
        }
    }

    #[test]
    fn nonces_are_fresh_so_equal_plaintexts_differ() {
        let key = DataKey::generate();
        let a = seal(&key, 1, b"", b"same").unwrap();
        let b = seal(&key, 1, b"", b"same").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), format::OVERHEAD + 4);
    }

    #[test]
    fn keys_and_opened_plaintext_print_redacted() {
        let key = DataKey::from_secret(Secret::new([0x41; 32]));
        let printed = format!("{key:?}");
        assert_eq!(printed, "DataKey([REDACTED])");
        let opened = open(&key, b"", &seal(&key, 1, b"", b"hunter2").unwrap()).unwrap();
        assert_eq!(format!("{opened:?}"), "[REDACTED]");
    }

    #[test]
    fn error_messages_carry_no_key_or_plaintext_bytes() {
        let key = DataKey::from_secret(Secret::new([0x41; 32]));
        let sealed = seal(&key, 1, b"", b"hunter2").unwrap();
        let error = open(&DataKey::generate(), b"", &sealed).unwrap_err();
        let text = format!("{error} {error:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("65, 65"),
            "{text}"
        );
    }
}
