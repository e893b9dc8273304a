//! Encryption at rest: envelope encryption with AES-256-GCM (RustCrypto `aes-gcm`). Each tenant
//! has its own data key, stored only wrapped by a master key from `AUDITPULSE_MASTER_KEYS`.
//! Sensitive fields are sealed with the tenant's data key and bound to tenant, table, column and
//! row, so a ciphertext moved anywhere else fails to decrypt.
//!
//! The easy path for a new sensitive column: register it in `registry.rs`, then
//! `keyring.encrypt(tenant, MY_COLUMN.row(&id), plaintext)` and `keyring.decrypt(...)`.
//!
//! Invariant: key material is held in `Secret`s (zeroized on drop, never printed); decryption
//! returns the original bytes or an error, never garbage.

mod batch;
mod cipher;
mod format;
mod keyring;
mod registry;
mod rotation;
mod secrets;
mod status;
mod store;

pub use batch::{Opener, Sealer};
pub use cipher::{open, seal, DataKey};
pub use format::{key_version, Header, OVERHEAD};
pub use keyring::{Keyring, TenantKeyRecord};
pub use registry::{
    EncryptedColumn, Field, ACCOUNT_NUMBER, ANOMALY_NOTE, ENCRYPTED_COLUMNS, LLM_PROVIDER_KEY,
    SPEND_COUNTERPARTY, SPEND_DESCRIPTION, TENANT_SECRET_VALUE, USER_TOTP_SECRET,
};
pub use rotation::{Rotation, RotationReport};
pub use secrets::TenantSecrets;
pub use status::{ColumnUse, KeyStatus, MasterKeyUse};
pub use store::{CryptoStore, EncryptedCell, KeyStore, Reencrypted, SecretStore};
