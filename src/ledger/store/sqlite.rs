//! The ledger on SQLite: one writer at a time, so a write transaction begins `IMMEDIATE` and
//! holds the database's write lock (and so the data key it checked) until it commits.
//!
//! A write transaction raises its connection's page cache to [`WRITE_CACHE_KIB`] and puts the
//! previous size back before it commits: an import of a million events touches far more index
//! pages than the default 2 MiB holds, and every miss is a page spilled to and read back from the
//! write-ahead log through the kernel.

use async_trait::async_trait;
use sqlx::{Sqlite, Transaction};

use super::spend_insert::{insert_sql, Placeholders};
use super::sql::{self, Build};
use super::*;
use crate::store::{map_db_error, SqliteStore};

type Q = Build<Sqlite>;

/// The page cache of a write transaction, KiB (SQLite takes a negative `cache_size` as KiB).
const WRITE_CACHE_KIB: i64 = 64 * 1024;

struct Writer {
    tx: Transaction<'static, Sqlite>,
    tenant: TenantId,
    /// The connection's `cache_size` before this write, restored at commit.
    cache_size: i64,
}

#[async_trait]
impl LedgerStore for SqliteStore {
    async fn account(&self, tenant: TenantId, id: AccountId) -> Result<Option<AccountRow>> {
        let sql = sql::account_sql();
        Ok(Q::account(&sql, tenant, id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn external_account(
        &self,
        tenant: TenantId,
        origin: AccountOrigin,
        external_id: &str,
    ) -> Result<Option<AccountRow>> {
        let sql = sql::external_account_sql();
        Ok(
            Q::external_account(&sql, tenant, origin.as_str(), external_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn accounts(&self, tenant: TenantId) -> Result<Vec<AccountRow>> {
        let sql = sql::accounts_sql();
        Ok(Q::accounts(&sql, tenant).fetch_all(&self.pool).await?)
    }

    async fn begin_write(
        &self,
        tenant: TenantId,
        key_version: u32,
    ) -> Result<Box<dyn SpendWriter>> {
        let mut tx = self.begin_immediate().await?;
        let active: Option<i64> = sqlx::query_scalar(&sql::key_check_sql(""))
            .bind(tenant)
            .bind(i64::from(key_version))
            .fetch_optional(&mut *tx)
            .await?;
        if active.is_none() {
            return Err(stale_key());
        }
        let cache_size: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(&format!("PRAGMA cache_size = -{WRITE_CACHE_KIB}"))
            .execute(&mut *tx)
            .await?;
        Ok(Box::new(Writer {
            tx,
            tenant,
            cache_size,
        }))
    }

    async fn spend_page(
        &self,
        tenant: TenantId,
        filter: &SpendFilter,
        after: Option<SpendCursor>,
        limit: u32,
    ) -> Result<Vec<SpendRow>> {
        let mut q = Q::page(tenant, filter, after, limit);
        Ok(q.build_query_as().fetch_all(&self.pool).await?)
    }

    async fn spend(&self, tenant: TenantId, id: SpendId) -> Result<Option<SpendRow>> {
        let sql = sql::spend_sql();
        Ok(Q::spend(&sql, tenant, id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn vendors(&self, tenant: TenantId) -> Result<Vec<VendorRow>> {
        Ok(Q::vendors(tenant).fetch_all(&self.pool).await?)
    }

    async fn insert_vendor(&self, tenant: TenantId, row: &VendorRow) -> Result<()> {
        Q::insert_vendor(tenant, row)
            .execute(&self.pool)
            .await
            .map_err(map_db_error)?;
        Ok(())
    }

    async fn delete_vendor(&self, tenant: TenantId, id: VendorId) -> Result<bool> {
        let done = Q::delete_vendor(tenant, id).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    async fn mappings(&self, tenant: TenantId) -> Result<Vec<MappingRow>> {
        Ok(Q::mappings(tenant).fetch_all(&self.pool).await?)
    }

    async fn mapping(&self, tenant: TenantId, name: &str) -> Result<Option<MappingRow>> {
        Ok(Q::mapping(tenant, name).fetch_optional(&self.pool).await?)
    }

    async fn put_mapping(&self, tenant: TenantId, row: &MappingRow) -> Result<()> {
        Q::put_mapping(tenant, row).execute(&self.pool).await?;
        Ok(())
    }

    async fn imports(
        &self,
        tenant: TenantId,
        before: Option<ImportId>,
        limit: u32,
    ) -> Result<Vec<ImportRow>> {
        let sql = sql::imports_sql();
        Ok(Q::imports(&sql, tenant, before, limit)
            .fetch_all(&self.pool)
            .await?)
    }
}

#[async_trait]
impl SpendWriter for Writer {
    async fn existing(&mut self, source: Source, refs: &[&str]) -> Result<Vec<Existing>> {
        if refs.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Q::existing(self.tenant, source.as_str(), refs);
        Ok(q.build_query_as().fetch_all(&mut *self.tx).await?)
    }

    async fn insert(&mut self, rows: &[SpendRecord]) -> Result<()> {
        for chunk in rows.chunks(WRITE_CHUNK) {
            let sql = insert_sql(chunk, false, Placeholders::Question);
            Q::insert(&sql, chunk).execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn insert_new(&mut self, rows: &[SpendRecord]) -> Result<u64> {
        let mut inserted = 0;
        for chunk in rows.chunks(WRITE_CHUNK) {
            let sql = insert_sql(chunk, true, Placeholders::Question);
            let done = Q::insert(&sql, chunk).execute(&mut *self.tx).await?;
            inserted += done.rows_affected();
        }
        Ok(inserted)
    }

    async fn update(&mut self, row: &SpendRecord) -> Result<()> {
        Q::update(row).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn remove(&mut self, source: Source, refs: &[&str], at: Time) -> Result<u64> {
        if refs.is_empty() {
            return Ok(0);
        }
        let mut q = Q::remove(self.tenant, source.as_str(), refs, at);
        Ok(q.build().execute(&mut *self.tx).await?.rows_affected())
    }

    async fn insert_account(&mut self, row: &AccountRow) -> Result<()> {
        Q::insert_account(row)
            .execute(&mut *self.tx)
            .await
            .map_err(map_db_error)?;
        Ok(())
    }

    async fn finish_import(&mut self, row: &ImportRow) -> Result<()> {
        Q::finish_import(row).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn record_import(&mut self, row: &ImportRow) -> Result<()> {
        Q::record_import(row).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<()> {
        sqlx::query(&format!("PRAGMA cache_size = {}", self.cache_size))
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        Ok(())
    }
}
