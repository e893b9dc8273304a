//! Shared storage primitives: the pools and connection of each backend (SQLite embedded,
//! PostgreSQL for production), migrations per backend with the same version numbers, schema
//! status, the value codecs, the error mapping and the one tenant-scoped transaction per backend.
//! Each capability owns its own storage trait and SQL beside its model (`tenants::store`,
//! `crypto::store`, `audit::store`, `security::store`).
//!
//! Invariant: nothing here knows a capability's model. A database whose schema is newer than this
//! binary is refused, never silently used.

pub(crate) mod codec;
mod errors;
mod postgres;
mod scope;
mod sqlite;

use async_trait::async_trait;
use sqlx::Database;

use crate::error::{Error, Result};

pub use crate::identity::store::IdentityStore;
pub use codec::{opt_time, Time};
pub use errors::map_db_error;
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

/// A statement with its values bound, ready to run on a backend's pool or transaction. A
/// capability builds these once, generic over the backend, so each value is bound in one place.
pub type Bound<'a, DB> = sqlx::query::Query<'a, DB, <DB as Database>::Arguments<'a>>;
/// A [`Bound`] statement that decodes its rows into `O`.
pub type BoundAs<'a, DB, O> = sqlx::query::QueryAs<'a, DB, O, <DB as Database>::Arguments<'a>>;

/// A stored integer that must fit a smaller type (a key version, a count); corrupt otherwise.
pub fn narrow<T: TryFrom<i64>>(what: &str, value: i64) -> Result<T> {
    T::try_from(value).map_err(|_| anyhow::anyhow!("corrupt {what} {value}").into())
}

fn latest(migrator: &sqlx::migrate::Migrator) -> i64 {
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}
