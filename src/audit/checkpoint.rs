//! Signed checkpoints: what retention pruning leaves behind so the chain still verifies.
//!
//! A checkpoint records the last pruned event's seq and hash, signed with HMAC-SHA256 under a key
//! derived (HKDF-SHA256) from the active master key; its id is stored so verification after a key
//! rotation picks the right one. Invariant: a checkpoint is trusted only after its signature checks
//! under a configured master key. Pure, no I/O.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::{MasterKey, MasterKeys};
use crate::domain::time::{self, Timestamp};
use crate::secret::Secret;

const HKDF_INFO: &[u8] = b"auditpulse audit checkpoint v1";
const DOMAIN: &[u8] = b"auditpulse-audit-checkpoint-v1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The last pruned event.
    pub seq: i64,
    /// Its hash: the `prev_hash` of the first kept event.
    pub hash: [u8; 32],
    pub created_at: Timestamp,
    /// The master key the signing key was derived from.
    pub key_id: String,
    pub signature: Vec<u8>,
}

fn signing_key(master: &MasterKey) -> Secret<[u8; 32]> {
    let hkdf = Hkdf::<Sha256>::new(None, master.key.expose());
    let mut key = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so this cannot fail.
    let _ = hkdf.expand(HKDF_INFO, &mut key);
    Secret::new(key)
}

fn mac(master: &MasterKey, seq: i64, hash: &[u8; 32], created_at: &Timestamp) -> Hmac<Sha256> {
    let key = signing_key(master);
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.expose())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(DOMAIN);
    mac.update(&seq.to_be_bytes());
    mac.update(hash);
    mac.update(time::to_text(created_at).as_bytes());
    mac
}

impl Checkpoint {
    /// A checkpoint after event `seq` with hash `hash`, signed with `master`.
    pub fn sign(master: &MasterKey, seq: i64, hash: [u8; 32], created_at: Timestamp) -> Self {
        let signature = mac(master, seq, &hash, &created_at)
            .finalize()
            .into_bytes()
            .to_vec();
        Self {
            seq,
            hash,
            created_at,
            key_id: master.id.clone(),
            signature,
        }
    }

    /// `Ok` when the signature checks (constant time) under the named configured key.
    pub fn verify(&self, keys: &MasterKeys) -> Result<(), String> {
        let master = keys
            .all()
            .iter()
            .find(|k| k.id == self.key_id)
            .ok_or_else(|| {
                format!(
                    "checkpoint after event {} is signed with master key {:?}, which is not configured",
                    self.seq, self.key_id
                )
            })?;
        mac(master, self.seq, &self.hash, &self.created_at)
            .verify_slice(&self.signature)
            .map_err(|_| {
                format!(
                    "checkpoint after event {} has an invalid signature: it was forged or altered",
                    self.seq
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> MasterKeys {
        MasterKeys::parse(text).unwrap()
    }

    const K1: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K2: &str = "k2:HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=";

    #[test]
    fn a_signed_checkpoint_verifies_and_any_change_breaks_it() {
        let keys = keys(K1);
        let cp = Checkpoint::sign(keys.active(), 41, [3; 32], time::now());
        assert_eq!(cp.key_id, "k1");
        cp.verify(&keys).unwrap();
        for altered in [
            Checkpoint {
                seq: 42,
                ..cp.clone()
            },
            Checkpoint {
                hash: [4; 32],
                ..cp.clone()
            },
            Checkpoint {
                created_at: cp.created_at + chrono::Duration::seconds(1),
                ..cp.clone()
            },
        ] {
            assert!(altered
                .verify(&keys)
                .unwrap_err()
                .contains("invalid signature"));
        }
    }

    #[test]
    fn checkpoints_verify_after_rotation_and_name_a_missing_key() {
        let old = Checkpoint::sign(keys(K1).active(), 5, [1; 32], time::now());
        old.verify(&keys(&format!("{K2},{K1}"))).unwrap();
        assert!(old.verify(&keys(K2)).unwrap_err().contains("\"k1\""));
        let forged = Checkpoint {
            key_id: "k1".into(),
            ..Checkpoint::sign(keys(K2).active(), 5, [1; 32], old.created_at)
        };
        assert!(forged.verify(&keys(&format!("{K1},{K2}"))).is_err());
    }
}
