//! Price storage: the imported catalogs (system-wide, the newest in force) and each tenant's
//! overrides. The SQL is written once here, with its values bound in [`Sql`]; `sqlite` and
//! `postgres` open the transaction (row-level-security scoped on PostgreSQL) and commit.
//!
//! Invariant: every override statement names the tenant, except the one start-up read of every
//! tenant's overrides, which runs in the system scope; an override is one row per (tenant,
//! provider, model, effective date), so setting the same date replaces it.

mod postgres;
mod sqlite;

use std::marker::PhantomData;

use async_trait::async_trait;
use chrono::NaiveDate;
use sqlx::{Database, Encode, FromRow, Type};

use crate::domain::TenantId;
use crate::error::Result;
use crate::store::{Bound, BoundAs, Time};

/// An imported catalog as stored: the file's text, already validated.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct CatalogRow {
    pub source_name: String,
    pub models_count: i64,
    pub catalog_json: String,
    pub imported_at: Time,
}

/// A tenant's override as stored: its prices as decimal-text JSON.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct OverrideRow {
    pub tenant_id: TenantId,
    pub provider: String,
    pub model: String,
    pub effective_from: NaiveDate,
    pub prices_json: String,
    pub created_by: String,
    pub created_at: Time,
}

/// The price catalog's storage.
#[async_trait]
pub trait PriceStore: Send + Sync {
    /// Stores an imported catalog; it is in force from now on.
    async fn insert_catalog(&self, row: &CatalogRow) -> Result<()>;
    /// The newest imported catalog, if any was imported.
    async fn newest_catalog(&self) -> Result<Option<CatalogRow>>;
    /// Stores an override, replacing the one for the same date; `true` when it replaced one.
    async fn put_price_override(&self, row: &OverrideRow) -> Result<bool>;
    /// The tenant's overrides, by provider, model and date.
    async fn price_overrides(&self, tenant: TenantId) -> Result<Vec<OverrideRow>>;
    /// Every tenant's overrides (start-up: the price book is loaded once for all tenants).
    async fn all_price_overrides(&self) -> Result<Vec<OverrideRow>>;
    /// Deletes one override; `false` when the tenant had none for that date.
    async fn delete_price_override(
        &self,
        tenant: TenantId,
        provider: &str,
        model: &str,
        effective_from: NaiveDate,
    ) -> Result<bool>;
}

const OVERRIDE_COLUMNS: &str =
    "tenant_id, provider, model, effective_from, prices_json, created_by, created_at";

const NEWEST: &str = "SELECT source_name, models_count, catalog_json, imported_at \
     FROM llm_price_catalogs ORDER BY id DESC LIMIT 1";

const INSERT_CATALOG: &str = "INSERT INTO llm_price_catalogs \
     (source_name, models_count, catalog_json, imported_at) VALUES ($1, $2, $3, $4)";

const DELETE_OVERRIDE: &str = "DELETE FROM llm_price_overrides WHERE tenant_id = $1 \
     AND provider = $2 AND model = $3 AND effective_from = $4 RETURNING provider";

fn upsert_sql() -> String {
    format!(
        "INSERT INTO llm_price_overrides ({OVERRIDE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (tenant_id, provider, model, effective_from) DO UPDATE SET \
         prices_json = excluded.prices_json, created_by = excluded.created_by, \
         created_at = excluded.created_at"
    )
}

fn list_sql(all: bool) -> String {
    let filter = if all { "" } else { " WHERE tenant_id = $1" };
    format!(
        "SELECT {OVERRIDE_COLUMNS} FROM llm_price_overrides{filter} \
         ORDER BY tenant_id, provider, model, effective_from"
    )
}

/// The statements with their values bound, the same on both backends.
struct Sql<DB>(PhantomData<DB>);

impl<'a, DB: Database> Sql<DB>
where
    TenantId: Encode<'a, DB> + Type<DB>,
    Time: Encode<'a, DB> + Type<DB>,
    NaiveDate: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
    CatalogRow: for<'r> FromRow<'r, DB::Row>,
    OverrideRow: for<'r> FromRow<'r, DB::Row>,
    (String,): for<'r> FromRow<'r, DB::Row>,
{
    fn insert_catalog(row: &'a CatalogRow) -> Bound<'a, DB> {
        sqlx::query(INSERT_CATALOG)
            .bind(row.source_name.as_str())
            .bind(row.models_count)
            .bind(row.catalog_json.as_str())
            .bind(row.imported_at)
    }

    fn newest() -> BoundAs<'a, DB, CatalogRow> {
        sqlx::query_as(NEWEST)
    }

    fn exists(row: &'a OverrideRow) -> BoundAs<'a, DB, (String,)> {
        sqlx::query_as(
            "SELECT provider FROM llm_price_overrides WHERE tenant_id = $1 AND provider = $2 \
             AND model = $3 AND effective_from = $4",
        )
        .bind(row.tenant_id)
        .bind(row.provider.as_str())
        .bind(row.model.as_str())
        .bind(row.effective_from)
    }

    fn upsert(sql: &'a str, row: &'a OverrideRow) -> Bound<'a, DB> {
        sqlx::query(sql)
            .bind(row.tenant_id)
            .bind(row.provider.as_str())
            .bind(row.model.as_str())
            .bind(row.effective_from)
            .bind(row.prices_json.as_str())
            .bind(row.created_by.as_str())
            .bind(row.created_at)
    }

    fn list(sql: &'a str, tenant: TenantId) -> BoundAs<'a, DB, OverrideRow> {
        sqlx::query_as(sql).bind(tenant)
    }

    fn list_all(sql: &'a str) -> BoundAs<'a, DB, OverrideRow> {
        sqlx::query_as(sql)
    }

    fn delete(
        tenant: TenantId,
        provider: &'a str,
        model: &'a str,
        from: NaiveDate,
    ) -> BoundAs<'a, DB, (String,)> {
        sqlx::query_as(DELETE_OVERRIDE)
            .bind(tenant)
            .bind(provider)
            .bind(model)
            .bind(from)
    }
}
