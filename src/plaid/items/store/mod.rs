//! Plaid item storage: the SQL both backends run, with its values bound once in [`Sql`].
//!
//! Invariant: every statement reached from a request filters by the caller's [`Scope`]; the two
//! cross-tenant reads (the webhook's look-up by Plaid item id, the periodic sync's list of active
//! items) are system-scope methods named for that use.

mod postgres;
mod sqlite;

use std::marker::PhantomData;

use async_trait::async_trait;
use sqlx::{Database, Encode, FromRow, Type};

use super::{ItemStatus, PlaidItem, PlaidItemId};
use crate::domain::time::Timestamp;
use crate::domain::TenantId;
use crate::error::Result;
use crate::store::codec::sql_id;
use crate::store::{Bound, BoundAs, Scope, Time};

sql_id!(PlaidItemId);

#[async_trait]
pub trait PlaidStore: Send + Sync {
    async fn insert_plaid_item(&self, item: &PlaidItem) -> Result<()>;
    /// The scope's items, newest first.
    async fn list_plaid_items(&self, scope: Scope) -> Result<Vec<PlaidItem>>;
    async fn get_plaid_item(&self, scope: Scope, id: PlaidItemId) -> Result<Option<PlaidItem>>;
    /// The item with Plaid's `item_id`, whichever tenant holds it (system scope: webhooks).
    async fn find_plaid_item(&self, item_id: &str) -> Result<Option<PlaidItem>>;
    /// Every item not removed, across tenants (system scope: the periodic sync).
    async fn syncable_plaid_items(&self) -> Result<Vec<PlaidItem>>;
    /// Sets the status and last error code; `false` if no such item in scope.
    async fn set_plaid_item_status(
        &self,
        scope: Scope,
        id: PlaidItemId,
        status: ItemStatus,
        error_code: Option<&str>,
    ) -> Result<bool>;
    /// Records a completed sync: the new cursor, its time, status active, no error. A removed
    /// item stays removed.
    async fn save_plaid_cursor(
        &self,
        scope: Scope,
        id: PlaidItemId,
        cursor: &str,
        at: Timestamp,
    ) -> Result<bool>;
}

const COLUMNS: &str =
    "id, tenant_id, item_id, institution, status, last_error_code, cursor, last_sync_at, created_at";

const INSERT: &str = "INSERT INTO plaid_items (id, tenant_id, item_id, institution, status, \
     last_error_code, cursor, last_sync_at, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)";

fn select_sql(filter: &str) -> String {
    format!("SELECT {COLUMNS} FROM plaid_items WHERE {filter} ORDER BY created_at DESC, id DESC")
}

const BY_SCOPE: &str = "($1 IS NULL OR tenant_id = $1)";
const BY_ID: &str = "($1 IS NULL OR tenant_id = $1) AND id = $2";
const BY_PLAID_ID: &str = "item_id = $1";
const SYNCABLE: &str = "status <> 'removed'";

/// A removed item is never brought back by a status change other than another removal.
const SET_STATUS: &str = "UPDATE plaid_items SET status = $3, last_error_code = $4, \
     updated_at = $5 WHERE ($1 IS NULL OR tenant_id = $1) AND id = $2 \
     AND (status <> 'removed' OR $3 = 'removed')";

const SAVE_CURSOR: &str = "UPDATE plaid_items SET cursor = $3, last_sync_at = $4, \
     status = CASE WHEN status = 'removed' THEN status ELSE 'active' END, \
     last_error_code = NULL, updated_at = $4 WHERE ($1 IS NULL OR tenant_id = $1) AND id = $2";

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: PlaidItemId,
    tenant_id: TenantId,
    item_id: String,
    institution: Option<String>,
    status: String,
    last_error_code: Option<String>,
    cursor: Option<String>,
    last_sync_at: Option<Time>,
    created_at: Time,
}

impl TryFrom<ItemRow> for PlaidItem {
    type Error = crate::Error;
    fn try_from(row: ItemRow) -> Result<Self> {
        let status = ItemStatus::parse(&row.status)
            .ok_or_else(|| anyhow::anyhow!("corrupt plaid item {}: status", row.id))?;
        Ok(PlaidItem {
            id: row.id,
            tenant_id: row.tenant_id,
            item_id: row.item_id,
            institution: row.institution,
            status,
            last_error_code: row.last_error_code,
            cursor: row.cursor,
            last_sync_at: row.last_sync_at.map(|t| t.0),
            created_at: row.created_at.0,
        })
    }
}

fn items(rows: Vec<ItemRow>) -> Result<Vec<PlaidItem>> {
    rows.into_iter().map(PlaidItem::try_from).collect()
}

/// The item statements with their values bound, the same on both backends.
struct Sql<DB>(PhantomData<DB>);

impl<'a, DB: Database> Sql<DB>
where
    PlaidItemId: Encode<'a, DB> + Type<DB>,
    TenantId: Encode<'a, DB> + Type<DB>,
    Option<TenantId>: Encode<'a, DB> + Type<DB>,
    Time: Encode<'a, DB> + Type<DB>,
    Option<Time>: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
    Option<&'a str>: Encode<'a, DB> + Type<DB>,
    ItemRow: for<'r> FromRow<'r, DB::Row>,
{
    fn insert(item: &'a PlaidItem) -> Bound<'a, DB> {
        sqlx::query(INSERT)
            .bind(item.id)
            .bind(item.tenant_id)
            .bind(item.item_id.as_str())
            .bind(item.institution.as_deref())
            .bind(item.status.as_str())
            .bind(item.last_error_code.as_deref())
            .bind(item.cursor.as_deref())
            .bind(item.last_sync_at.map(Time))
            .bind(Time(item.created_at))
    }

    fn list(sql: &'a str, scope: Scope) -> BoundAs<'a, DB, ItemRow> {
        sqlx::query_as(sql).bind(scope.tenant())
    }

    fn get(sql: &'a str, scope: Scope, id: PlaidItemId) -> BoundAs<'a, DB, ItemRow> {
        sqlx::query_as(sql).bind(scope.tenant()).bind(id)
    }

    fn find(sql: &'a str, item_id: &'a str) -> BoundAs<'a, DB, ItemRow> {
        sqlx::query_as(sql).bind(item_id)
    }

    fn syncable(sql: &'a str) -> BoundAs<'a, DB, ItemRow> {
        sqlx::query_as(sql)
    }

    fn set_status(
        scope: Scope,
        id: PlaidItemId,
        status: ItemStatus,
        error_code: Option<&'a str>,
        now: Timestamp,
    ) -> Bound<'a, DB> {
        sqlx::query(SET_STATUS)
            .bind(scope.tenant())
            .bind(id)
            .bind(status.as_str())
            .bind(error_code)
            .bind(Time(now))
    }

    fn save_cursor(scope: Scope, id: PlaidItemId, cursor: &'a str, at: Timestamp) -> Bound<'a, DB> {
        sqlx::query(SAVE_CURSOR)
            .bind(scope.tenant())
            .bind(id)
            .bind(cursor)
            .bind(Time(at))
    }
}
