//! The embedded SQLite backend: WAL journal, foreign keys on, a busy timeout so concurrent writers
//! wait instead of failing. Ids and times are stored as fixed-form text (see `codec`).
//!
//! Invariant: SQLite has one writer at a time and no row-level security; tenant isolation rests on
//! the tenant filter every capability's SQL carries. A read-then-write runs in
//! [`SqliteStore::begin_immediate`], so it holds the write lock from its first read.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use super::{PoolStats, SchemaStatus, SchemaStore};
use crate::error::{Error, Result};

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
            // A connection to a local file does not go stale the way a network one does: the ping
            // sqlx would send before every acquire is a round trip to the connection's worker
            // thread on every query, for nothing.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| Error::Unavailable(format!("cannot open the SQLite database: {e}")))?;
        Ok(Self { pool })
    }

    /// A transaction that takes the database's write lock up front. For read-then-write: a
    /// deferred transaction would fail at once with "database is locked" when upgrading while
    /// another writer holds the lock, instead of waiting out the busy timeout.
    pub(crate) async fn begin_immediate(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
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
