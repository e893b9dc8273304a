//! The PostgreSQL backend, for production and for several AuditPulse instances sharing one
//! database. Migrations take PostgreSQL's advisory lock, so instances starting together are safe.
//!
//! Invariant: every tenant-owned table has row-level security (migrations 0005 and 0006), so every
//! statement on one runs in a [`PgStore::begin_scoped`] transaction; without it no row is visible.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};

use super::{PoolStats, SchemaStatus, SchemaStore, Scope};
use crate::error::{Error, Result};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| Error::Config(format!("DATABASE_URL: {e}")))?
            .application_name("auditpulse");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| Error::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(Self { pool })
    }

    /// The pool, for test harnesses that need to reach under the store (raw-byte checks).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Begins a transaction that row-level security limits to `scope`: `auditpulse.tenant` is set
    /// for this transaction only (the tenant's uuid, or `*` for the system scope), so it never
    /// leaks to the next user of the pooled connection. Every statement touching a table with
    /// row-level security (every table with a `tenant_id`) runs in one of these; without it those
    /// tables show no rows.
    pub(crate) async fn begin_scoped(
        &self,
        scope: Scope,
    ) -> Result<Transaction<'static, Postgres>> {
        let setting = match scope {
            Scope::Tenant(tenant) => tenant.to_string(),
            Scope::System => "*".to_owned(),
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT set_config('auditpulse.tenant', $1, true)")
            .bind(setting)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }
}

#[async_trait]
impl SchemaStore for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn apply_migrations(&self) -> Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        Ok(())
    }

    async fn schema_status(&self) -> Result<SchemaStatus> {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&self.pool)
            .await?;
        let applied = match exists {
            true => {
                sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                    .fetch_one(&self.pool)
                    .await?
            }
            false => None,
        };
        Ok(SchemaStatus {
            applied,
            latest: super::latest(&MIGRATOR),
        })
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn bypasses_row_security(&self) -> Result<bool> {
        Ok(sqlx::query_scalar(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
        )
        .fetch_optional(&self.pool)
        .await?
        .unwrap_or(false))
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
