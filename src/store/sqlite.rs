//! The embedded SQLite backend: WAL journal, foreign keys on, a busy timeout so concurrent writers
//! wait instead of failing. Ids and times are stored as fixed-form text.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};

use super::{map_db_error, PoolStats, SchemaStatus, SchemaStore, TenantStore};
use crate::domain::{time, TenantId};
use crate::error::{Error, Result};
use crate::tenants::{NewTenant, Tenant};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

const MIGRATION_ATTEMPTS: u32 = 10;

#[derive(Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
}

impl SqliteStore {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::Config(format!("DATABASE_URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // Deleted rows are overwritten, so a shredded tenant key does not linger in free pages.
            .pragma("secure_delete", "ON")
            .busy_timeout(Duration::from_secs(5));
        if let Some(dir) = options
            .get_filename()
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            crate::config::create_private_dir(dir).map_err(Error::Config)?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| Error::Unavailable(format!("cannot open the SQLite database: {e}")))?;
        Ok(Self { pool })
    }
}

fn tenant_from_row(row: &SqliteRow) -> Result<Tenant> {
    let id: String = row.try_get("id")?;
    let created: String = row.try_get("created_at")?;
    Ok(Tenant {
        id: id
            .parse()
            .map_err(|e| anyhow::anyhow!("corrupt tenant id {id:?}: {e}"))?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        created_at: time::from_text(&created)
            .map_err(|e| anyhow::anyhow!("corrupt time {created:?}: {e}"))?,
    })
}

#[async_trait]
impl SchemaStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    /// SQLite has no advisory lock: two processes migrating one file at once can collide (both
    /// see migration N pending, one applies it, the other fails). Applied migrations are skipped
    /// on a rerun, so retry briefly; the loser then finds the work done.
    async fn apply_migrations(&self) -> Result<()> {
        let mut attempt = 1;
        loop {
            match MIGRATOR.run(&self.pool).await {
                Ok(()) => return Ok(()),
                Err(error) if attempt < MIGRATION_ATTEMPTS => {
                    tracing::debug!(%error, attempt, "SQLite migration collided; retrying");
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
                }
                Err(error) => return Err(anyhow::anyhow!("migration failed: {error}").into()),
            }
        }
    }

    async fn schema_status(&self) -> Result<SchemaStatus> {
        let exists: Option<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_optional(&self.pool)
        .await?;
        let applied = match exists {
            Some(_) => {
                sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                    .fetch_one(&self.pool)
                    .await?
            }
            None => None,
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
impl TenantStore for SqliteStore {
    async fn create_tenant(&self, new: &NewTenant) -> Result<Tenant> {
        let tenant = Tenant {
            id: TenantId::new(),
            slug: new.slug.clone(),
            name: new.name.clone(),
            created_at: time::now(),
        };
        sqlx::query("INSERT INTO tenants (id, slug, name, created_at) VALUES (?, ?, ?, ?)")
            .bind(tenant.id.to_string())
            .bind(&tenant.slug)
            .bind(&tenant.name)
            .bind(time::to_text(&tenant.created_at))
            .execute(&self.pool)
            .await
            .map_err(map_db_error)?;
        Ok(tenant)
    }

    async fn get_tenant(&self, id: TenantId) -> Result<Option<Tenant>> {
        sqlx::query("SELECT id, slug, name, created_at FROM tenants WHERE id = ? AND id <> '00000000-0000-0000-0000-000000000000'")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(tenant_from_row)
            .transpose()
    }

    async fn list_tenants(&self, after: Option<TenantId>, limit: u32) -> Result<Vec<Tenant>> {
        sqlx::query(
            "SELECT id, slug, name, created_at FROM tenants WHERE id > ? AND id <> '00000000-0000-0000-0000-000000000000' ORDER BY id LIMIT ?",
        )
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(tenant_from_row)
        .collect()
    }

    async fn delete_tenant(&self, id: TenantId) -> Result<bool> {
        let id = id.to_string();
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM tenant_keys WHERE tenant_id = ?")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM tenant_secrets WHERE tenant_id = ?")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        let deleted = sqlx::query(
            "DELETE FROM tenants WHERE id = ? AND id <> '00000000-0000-0000-0000-000000000000'",
        )
        .bind(&id)
        .execute(&mut *tx)
        .await
        .map_err(map_db_error)?
        .rows_affected();
        tx.commit().await?;
        Ok(deleted > 0)
    }
}
