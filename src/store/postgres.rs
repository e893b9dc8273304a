//! The PostgreSQL backend, for production and for several AuditPulse instances sharing one
//! database. Migrations take PostgreSQL's advisory lock, so instances starting together are safe.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, Row, Transaction};

use super::{map_db_error, PoolStats, SchemaStatus, SchemaStore, Scope, TenantStore};
use crate::domain::{time, TenantId};
use crate::error::{Error, Result};
use crate::tenants::{NewTenant, Tenant};

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
    /// row-level security (users, user_totp, recovery_codes, sessions, refresh_tokens, api_keys)
    /// runs in one of these; without it those tables show no rows.
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

fn tenant_from_row(row: &PgRow) -> Result<Tenant> {
    Ok(Tenant {
        id: TenantId::from_uuid(row.try_get("id")?),
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
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

#[async_trait]
impl TenantStore for PgStore {
    async fn create_tenant(&self, new: &NewTenant) -> Result<Tenant> {
        let tenant = Tenant {
            id: TenantId::new(),
            slug: new.slug.clone(),
            name: new.name.clone(),
            created_at: time::now(),
        };
        sqlx::query("INSERT INTO tenants (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(tenant.id.as_uuid())
            .bind(&tenant.slug)
            .bind(&tenant.name)
            .bind(tenant.created_at)
            .execute(&self.pool)
            .await
            .map_err(map_db_error)?;
        Ok(tenant)
    }

    async fn get_tenant(&self, id: TenantId) -> Result<Option<Tenant>> {
        sqlx::query("SELECT id, slug, name, created_at FROM tenants WHERE id = $1 AND id <> '00000000-0000-0000-0000-000000000000'")
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(tenant_from_row)
            .transpose()
    }

    async fn list_tenants(&self, after: Option<TenantId>, limit: u32) -> Result<Vec<Tenant>> {
        sqlx::query("SELECT id, slug, name, created_at FROM tenants WHERE ($1::uuid IS NULL OR id > $1) AND id <> '00000000-0000-0000-0000-000000000000' ORDER BY id LIMIT $2")
            .bind(after.map(|a| a.as_uuid()))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(tenant_from_row)
            .collect()
    }

    async fn delete_tenant(&self, id: TenantId) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM tenant_keys WHERE tenant_id = $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM tenant_secrets WHERE tenant_id = $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await?;
        let deleted = sqlx::query(
            "DELETE FROM tenants WHERE id = $1 AND id <> '00000000-0000-0000-0000-000000000000'",
        )
        .bind(id.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(map_db_error)?
        .rows_affected();
        tx.commit().await?;
        Ok(deleted > 0)
    }
}
