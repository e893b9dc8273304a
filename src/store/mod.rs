//! Storage: one trait per capability, one implementation per backend (SQLite embedded, PostgreSQL
//! for production), migrations per backend with the same version numbers.
//!
//! Invariant: nothing outside this folder writes SQL. A database whose schema is newer than this
//! binary is refused, never silently used.

mod audit_postgres;
mod audit_sqlite;
pub(crate) mod codec;
mod errors;
mod identity;
mod postgres;
mod postgres_identity;
mod postgres_keys;
mod postgres_monitor;
mod scope;
mod sqlite;
mod sqlite_identity;
mod sqlite_keys;
mod sqlite_monitor;

use std::sync::Arc;

use async_trait::async_trait;

use crate::audit::{AuditEvent, Checkpoint, NewAuditEvent, Outcome};
use crate::config::{DatabaseUrl, MasterKey};
use crate::crypto::{EncryptedColumn, TenantKeyRecord};
use crate::domain::{time::Timestamp, TenantId};
use crate::error::{Error, Result};
use crate::monitor::{Alert, AlertKind, LoginBaseline, Severity};
use crate::tenants::{NewTenant, Tenant};

pub use codec::{opt_time, Time};
pub use errors::map_db_error;
pub use identity::IdentityStore;
pub use postgres::PgStore;
pub use scope::Scope;
pub use sqlite::SqliteStore;

/// Where the schema stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Highest migration applied to the database, `None` for an empty database.
    pub applied: Option<i64>,
    /// Highest migration this binary carries.
    pub latest: i64,
}

impl SchemaStatus {
    pub fn is_current(&self) -> bool {
        self.applied == Some(self.latest)
    }

    /// The refusal for a database newer than the binary, if it is.
    pub fn too_new(&self) -> Option<Error> {
        self.applied.filter(|&applied| applied > self.latest).map(|applied| {
            Error::Config(format!(
                "the database schema is at version {applied}, newer than this AuditPulse binary supports \
                 (up to {}); run a newer AuditPulse against it",
                self.latest
            ))
        })
    }
}

/// Connection pool usage, sampled for metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// Schema and liveness of a backend.
#[async_trait]
pub trait SchemaStore: Send + Sync {
    fn backend(&self) -> &'static str;
    /// Applies pending migrations; refuses a database newer than the binary.
    async fn migrate(&self) -> Result<()> {
        if let Some(refusal) = self.schema_status().await?.too_new() {
            return Err(refusal);
        }
        self.apply_migrations().await
    }
    /// Runs this backend's migrator. Call `migrate`, which checks the version first.
    async fn apply_migrations(&self) -> Result<()>;
    async fn schema_status(&self) -> Result<SchemaStatus>;
    /// Answers when the database answers.
    async fn ping(&self) -> Result<()>;
    /// Whether the connected role ignores row-level security (a PostgreSQL superuser or a role
    /// with BYPASSRLS), which would leave tenant isolation to the application alone.
    async fn bypasses_row_security(&self) -> Result<bool> {
        Ok(false)
    }
    fn pool_stats(&self) -> PoolStats;
    /// Closes the connection pool (at shutdown).
    async fn close(&self);
}

/// Tenants. Listing and creating tenants is a system-administrator operation.
#[async_trait]
pub trait TenantStore: Send + Sync {
    async fn create_tenant(&self, tenant: &NewTenant) -> Result<Tenant>;
    async fn get_tenant(&self, id: TenantId) -> Result<Option<Tenant>>;
    /// Tenants in creation order, after `after` when given, at most `limit`.
    async fn list_tenants(&self, after: Option<TenantId>, limit: u32) -> Result<Vec<Tenant>>;
    /// Deletes a tenant and, in the same transaction, its data keys (crypto-shredding: whatever
    /// ciphertext of it survives anywhere can no longer be decrypted). `false` if it did not exist.
    async fn delete_tenant(&self, id: TenantId) -> Result<bool>;
}

/// One encrypted cell, as stored.
#[derive(Debug, Clone)]
pub struct EncryptedCell {
    pub row_id: String,
    pub ciphertext: Vec<u8>,
}

/// A cell to replace, if it still holds `old`.
#[derive(Debug, Clone)]
pub struct Reencrypted {
    pub row_id: String,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

/// Tenant data keys (wrapped) and generic access to the registered encrypted columns, for the
/// keyring and key rotation only.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// One tenant's data keys, by version.
    async fn tenant_keys(&self, tenant: TenantId) -> Result<Vec<TenantKeyRecord>>;
    /// Every tenant's data keys, by tenant and version.
    async fn list_tenant_keys(&self) -> Result<Vec<TenantKeyRecord>>;
    /// Adds a data key; when it is active, the tenant's other keys are deactivated in the same
    /// transaction. A version that exists already is a `Conflict`.
    async fn insert_tenant_key(&self, key: &TenantKeyRecord) -> Result<()>;
    /// Stores a new wrapping of `key` if it is still wrapped as read; `false` if it changed.
    async fn rewrap_tenant_key(
        &self,
        key: &TenantKeyRecord,
        master_key_id: &str,
        wrapped: &[u8],
    ) -> Result<bool>;
    /// Deletes an inactive data key, only if no registered encrypted column still uses it.
    async fn retire_tenant_key(&self, tenant: TenantId, version: u32) -> Result<bool>;
    /// Cells of `column` for `tenant` with a row id after `after`, in row id order.
    async fn encrypted_cells(
        &self,
        column: &'static EncryptedColumn,
        tenant: TenantId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<EncryptedCell>>;
    /// Replaces, in one transaction, the cells still holding their old ciphertext; returns how
    /// many were replaced (a cell written meanwhile is left as it is).
    async fn replace_encrypted(
        &self,
        column: &'static EncryptedColumn,
        tenant: TenantId,
        cells: &[Reencrypted],
    ) -> Result<u64>;
}

/// Encrypted named credentials per tenant; values are ciphertext made by the keyring.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// Inserts or replaces, only while the data key that sealed `ciphertext` is the tenant's
    /// active key; `false` when it is not (rotated meanwhile: encrypt again and retry). Checked
    /// in the writing statement, so a rotation never retires a key a concurrent write still uses.
    async fn put_secret(&self, tenant: TenantId, name: &str, ciphertext: &[u8]) -> Result<bool>;
    async fn get_secret(&self, tenant: TenantId, name: &str) -> Result<Option<Vec<u8>>>;
    async fn list_secret_names(&self, tenant: TenantId) -> Result<Vec<String>>;
    async fn delete_secret(&self, tenant: TenantId, name: &str) -> Result<bool>;
}

/// Whose security alerts a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertScope {
    /// System administrators: every alert.
    All,
    /// A tenant's administrators: that tenant's alerts only.
    Tenant(TenantId),
}

/// Which alerts to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub kind: Option<AlertKind>,
    /// This severity or higher.
    pub min_severity: Option<Severity>,
    /// Alerts older than this one (the previous page's last id).
    pub before: Option<uuid::Uuid>,
}

/// Security monitoring: login history for baselines, and alerts.
#[async_trait]
pub trait MonitorStore: Send + Sync {
    /// Records a login and returns what was known about the user's logins before it.
    async fn observe_login(
        &self,
        user: &str,
        ip: Option<&str>,
        user_agent: Option<&str>,
        hour: u32,
    ) -> Result<LoginBaseline>;
    async fn insert_alert(&self, alert: &Alert) -> Result<()>;
    async fn list_alerts(
        &self,
        scope: AlertScope,
        filter: &AlertFilter,
        limit: u32,
    ) -> Result<Vec<Alert>>;
}

/// Whose audit events a query may see. A tenant principal gets `Tenant`; only system
/// administrators get `All`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditScope {
    All,
    Tenant(TenantId),
}

/// A filtered page of audit events, oldest first.
#[derive(Debug, Clone)]
pub struct AuditQuery {
    pub scope: AuditScope,
    /// Inclusive lower bound of `at`.
    pub from: Option<Timestamp>,
    /// Exclusive upper bound of `at`.
    pub to: Option<Timestamp>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<Outcome>,
    /// Events after this seq (the cursor).
    pub after: Option<i64>,
    pub limit: u32,
}

/// The append-only, hash-chained audit trail (see `crate::audit`).
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends `events` in one transaction after the chain head, which the transaction locks, so
    /// writers in every instance keep one consistent chain. Returns the assigned seqs.
    async fn append_audit(&self, events: &[NewAuditEvent]) -> Result<Vec<i64>>;
    /// The chain head: last appended seq and hash (`0` and zeros when empty).
    async fn audit_head(&self) -> Result<(i64, [u8; 32])>;
    /// Events with seq above `after`, in seq order, at most `limit`: for verification, so
    /// `details` is left `Null` (`details_json` holds the hashed text).
    async fn audit_chain_page(&self, after: i64, limit: u32) -> Result<Vec<AuditEvent>>;
    async fn query_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>>;
    /// The newest retention checkpoint.
    async fn latest_audit_checkpoint(&self) -> Result<Option<Checkpoint>>;
    /// Deletes the longest prefix of events older than `before` and records a checkpoint signed
    /// with `master` after it. `None` when there was nothing to prune.
    async fn prune_audit(
        &self,
        before: Timestamp,
        master: &MasterKey,
    ) -> Result<Option<Checkpoint>>;
}

/// Everything a backend provides.
pub trait Store:
    SchemaStore + TenantStore + KeyStore + SecretStore + MonitorStore + AuditStore + IdentityStore
{
}
impl<
        T: SchemaStore
            + TenantStore
            + KeyStore
            + SecretStore
            + MonitorStore
            + AuditStore
            + IdentityStore,
    > Store for T
{
}

/// The `NOT EXISTS` guards of `retire_tenant_key`: no registered column holds a ciphertext whose
/// header names the key version. `tenant` and `header` are the placeholders of the backend.
fn unused_key_guards(substr: &str, tenant: &str, header: &str) -> String {
    crate::crypto::ENCRYPTED_COLUMNS
        .iter()
        .map(|c| {
            format!(
                " AND NOT EXISTS (SELECT 1 FROM {table} WHERE {tc} = {tenant} AND {substr}({col}, 1, 5) = {header})",
                table = c.table,
                tc = c.tenant_column,
                col = c.column,
            )
        })
        .collect()
}

/// Rows per multi-row INSERT (SQLite allows 32,766 bound parameters; an event has 14).
const AUDIT_INSERT_CHUNK: usize = 500;

fn hash_from(bytes: Vec<u8>) -> Result<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| anyhow::anyhow!("corrupt audit hash of {} bytes", b.len()).into())
}

/// Connects to the configured database. Does not migrate.
pub async fn connect(url: &DatabaseUrl, max_connections: u32) -> Result<Arc<dyn Store>> {
    Ok(match url {
        DatabaseUrl::Sqlite(url) => Arc::new(SqliteStore::connect(url, max_connections).await?),
        DatabaseUrl::Postgres(url) => {
            Arc::new(PgStore::connect(url.expose(), max_connections).await?)
        }
    })
}

fn latest(migrator: &sqlx::migrate::Migrator) -> i64 {
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}
