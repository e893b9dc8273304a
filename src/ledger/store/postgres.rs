//! The ledger on PostgreSQL: every statement runs in the tenant's row-level-security scope; a
//! write transaction holds its data key row `FOR SHARE`, so rotation cannot deactivate or retire
//! that key until the write commits.

use async_trait::async_trait;
use sqlx::{Postgres, Transaction};

use super::spend_insert::{insert_sql, Placeholders};
use super::sql::{self, Build};
use super::*;
use crate::store::{map_db_error, PgStore, Scope};

type Q = Build<Postgres>;

struct Writer {
    tx: Transaction<'static, Postgres>,
    tenant: TenantId,
}

#[async_trait]
impl LedgerStore for PgStore {
    async fn account(&self, tenant: TenantId, id: AccountId) -> Result<Option<AccountRow>> {
        let sql = sql::account_sql();
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let rows = Q::account(&sql, tenant, id)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn external_account(
        &self,
        tenant: TenantId,
        origin: AccountOrigin,
        external_id: &str,
    ) -> Result<Option<AccountRow>> {
        let sql = sql::external_account_sql();
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let rows = Q::external_account(&sql, tenant, origin.as_str(), external_id)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn accounts(&self, tenant: TenantId) -> Result<Vec<AccountRow>> {
        let sql = sql::accounts_sql();
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let rows = Q::accounts(&sql, tenant).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn begin_write(
        &self,
        tenant: TenantId,
        key_version: u32,
    ) -> Result<Box<dyn SpendWriter>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let active: Option<i64> = sqlx::query_scalar(&sql::key_check_sql(" FOR SHARE"))
            .bind(tenant)
            .bind(i64::from(key_version))
            .fetch_optional(&mut *tx)
            .await?;
        if active.is_none() {
            return Err(stale_key());
        }
        Ok(Box::new(Writer { tx, tenant }))
    }

    async fn spend_page(
        &self,
        tenant: TenantId,
        filter: &SpendFilter,
        after: Option<SpendCursor>,
        limit: u32,
    ) -> Result<Vec<SpendRow>> {
        let mut q = Q::page(tenant, filter, after, limit);
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let rows = q.build_query_as().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn spend(&self, tenant: TenantId, id: SpendId) -> Result<Option<SpendRow>> {
        let sql = sql::spend_sql();
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let rows = Q::spend(&sql, tenant, id).fetch_optional(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn vendors(&self, tenant: TenantId) -> Result<Vec<VendorRow>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let rows = Q::vendors(tenant).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn insert_vendor(&self, tenant: TenantId, row: &VendorRow) -> Result<()> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        Q::insert_vendor(tenant, row)
            .execute(&mut *tx)
            .await
            .map_err(map_db_error)?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_vendor(&self, tenant: TenantId, id: VendorId) -> Result<bool> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let done = Q::delete_vendor(tenant, id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn mappings(&self, tenant: TenantId) -> Result<Vec<MappingRow>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let rows = Q::mappings(tenant).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn mapping(&self, tenant: TenantId, name: &str) -> Result<Option<MappingRow>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let rows = Q::mapping(tenant, name).fetch_optional(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn put_mapping(&self, tenant: TenantId, row: &MappingRow) -> Result<()> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        Q::put_mapping(tenant, row).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn imports(
        &self,
        tenant: TenantId,
        before: Option<ImportId>,
        limit: u32,
    ) -> Result<Vec<ImportRow>> {
        let sql = sql::imports_sql();
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let rows = Q::imports(&sql, tenant, before, limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows)
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
            let sql = insert_sql(chunk, false, Placeholders::Dollar);
            Q::insert(&sql, chunk).execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn insert_new(&mut self, rows: &[SpendRecord]) -> Result<u64> {
        let mut inserted = 0;
        for chunk in rows.chunks(WRITE_CHUNK) {
            let sql = insert_sql(chunk, true, Placeholders::Dollar);
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

    async fn commit(self: Box<Self>) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}
