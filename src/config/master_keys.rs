//! `AUDITPULSE_MASTER_KEYS`: the keys that wrap every tenant's data key.
//!
//! Invariant: a key is exactly 32 bytes, ids are unique, the first entry is the active key, and key
//! bytes are never printed. In development, when none is configured, one is generated once into
//! the data directory with mode 0600; production refuses that file (see `production.rs`).

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;

use crate::secret::Secret;

pub const GENERATED_FILE: &str = "master.keys";

/// One master key: a public id and 32 secret bytes.
#[derive(Clone, Debug)]
pub struct MasterKey {
    pub id: String,
    pub key: Secret<[u8; 32]>,
}

/// The configured master keys; the first is active.
#[derive(Clone, Debug)]
pub struct MasterKeys(Vec<MasterKey>);

impl MasterKeys {
    pub fn parse(value: &str) -> Result<Self, String> {
        let mut keys: Vec<MasterKey> = Vec::new();
        for (index, entry) in super::parse::list(value).enumerate() {
            let position = index + 1;
            let (id, encoded) = entry.split_once(':').ok_or_else(|| {
                format!("entry {position} must be id:base64, such as k1:<44 base64 characters>")
            })?;
            let valid_id = !id.is_empty()
                && id.len() <= 32
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid_id {
                return Err(format!(
                    "entry {position}: key id must be 1-32 letters, digits, '-' or '_'"
                ));
            }
            if keys.iter().any(|k| k.id == id) {
                return Err(format!("entry {position}: key id {id:?} appears twice"));
            }
            let bytes = zeroize::Zeroizing::new(
                STANDARD
                    .decode(encoded)
                    .map_err(|_| format!("key {id:?} is not valid base64"))?,
            );
            let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                format!(
                    "key {id:?} is {} bytes; it must be exactly 32 bytes",
                    bytes.len()
                )
            })?;
            keys.push(MasterKey {
                id: id.to_owned(),
                key: Secret::new(key),
            });
        }
        if keys.is_empty() {
            return Err("no key given".to_owned());
        }
        Ok(Self(keys))
    }

    pub fn active(&self) -> &MasterKey {
        &self.0[0]
    }

    pub fn all(&self) -> &[MasterKey] {
        &self.0
    }

    pub fn ids(&self) -> Vec<&str> {
        self.0.iter().map(|k| k.id.as_str()).collect()
    }
}

pub fn generated_path(data_dir: &Path) -> PathBuf {
    data_dir.join(GENERATED_FILE)
}

/// Reads the generated development key file, if it exists. A file readable by others is refused.
pub fn read_generated(data_dir: &Path) -> Result<Option<MasterKeys>, String> {
    let path = generated_path(data_dir);
    let metadata = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    if metadata.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "{} is readable by other users; run chmod 600 on it",
            path.display()
        ));
    }
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
    );
    MasterKeys::parse(text.trim())
        .map(Some)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Creates the development key file (mode 0600, in a 0700 directory) and returns its keys.
pub fn generate(data_dir: &Path) -> Result<MasterKeys, String> {
    create_private_dir(data_dir)?;
    let path = generated_path(data_dir);
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(bytes.as_mut());
    let line = zeroize::Zeroizing::new(format!("dev1:{}\n", STANDARD.encode(bytes.as_ref())));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(line.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    MasterKeys::parse(line.trim())
}

pub fn create_private_dir(dir: &Path) -> Result<(), String> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create directory {}: {e}", dir.display()))
}

use std::os::unix::fs::DirBuilderExt;

#[cfg(test)]
mod tests {
    use super::*;

    fn key_b64(len: usize) -> String {
        STANDARD.encode(vec![7u8; len])
    }

    #[test]
    fn first_key_is_active_and_ids_are_listed() {
        let keys = MasterKeys::parse(&format!("k2:{},k1:{}", key_b64(32), key_b64(32))).unwrap();
        assert_eq!(keys.active().id, "k2");
        assert_eq!(keys.ids(), vec!["k2", "k1"]);
    }

    #[test]
    fn keys_of_the_wrong_length_are_refused_with_their_size() {
        let err = MasterKeys::parse(&format!("k1:{}", key_b64(16))).unwrap_err();
        assert_eq!(err, "key \"k1\" is 16 bytes; it must be exactly 32 bytes");
        assert!(MasterKeys::parse("k1:not base64!").is_err());
        assert!(MasterKeys::parse(&format!("k1:{0},k1:{0}", key_b64(32)))
            .unwrap_err()
            .contains("twice"));
        assert!(MasterKeys::parse(&key_b64(32)).is_err());
    }

    #[test]
    fn debug_never_prints_key_bytes() {
        let keys = MasterKeys::parse(&format!("k1:{}", key_b64(32))).unwrap();
        let printed = format!("{keys:?}");
        assert!(
            printed.contains("k1") && printed.contains("[REDACTED]"),
            "{printed}"
        );
        assert!(
            !printed.contains(", 7,") && !printed.contains(&key_b64(32)),
            "{printed}"
        );
    }

    #[test]
    fn generated_file_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let generated = generate(&data).unwrap();
        let mode = std::fs::metadata(generated_path(&data))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            std::fs::metadata(&data).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let read = read_generated(&data).unwrap().unwrap();
        assert_eq!(read.active().key.expose(), generated.active().key.expose());
        assert!(
            generate(&data).is_err(),
            "an existing key file must never be overwritten"
        );
    }

    #[test]
    fn a_key_file_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path()).unwrap();
        std::fs::set_permissions(
            generated_path(dir.path()),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        assert!(read_generated(dir.path())
            .unwrap_err()
            .contains("chmod 600"));
    }
}
