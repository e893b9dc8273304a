//! The ledger's SQL, written once: fixed statements as `$N` text; multi-row spend inserts bound
//! here in the order their text (built once per shape, in [`super::spend_insert`]) names the
//! values; the statements whose shape depends on the request (lookups by reference, filters)
//! built with `QueryBuilder`, which numbers placeholders for each backend.

use chrono::NaiveDate;
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::spend_insert::InsertShape;
use super::{
    AccountRow, ImportRow, MappingRow, SpendCursor, SpendFilter, SpendRecord, SpendRow, VendorRow,
};
use crate::domain::{AccountId, ImportId, SpendId, TenantId, VendorId};
use crate::store::{Bound, BoundAs, Time};

pub const ACCOUNT_COLUMNS: &str = "id, tenant_id, name, kind, currency, mask, number_ciphertext, \
     institution, origin, external_id, created_at";
pub const SPEND_COLUMNS: &str = "id, source, source_ref, account_id, occurred_at, booked_on, \
     amount_minor, currency, status, counterparty, counterparty_ciphertext, category, \
     description_ciphertext, created_at, updated_at";

pub const INSERT_ACCOUNT: &str = "INSERT INTO ledger_accounts (id, tenant_id, name, kind, \
     currency, mask, number_ciphertext, institution, origin, external_id, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

pub fn account_sql() -> String {
    format!("SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE tenant_id = $1 AND id = $2")
}

pub fn external_account_sql() -> String {
    format!(
        "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts \
         WHERE tenant_id = $1 AND origin = $2 AND external_id = $3"
    )
}

pub fn accounts_sql() -> String {
    format!("SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE tenant_id = $1 ORDER BY id")
}

pub fn spend_sql() -> String {
    format!(
        "SELECT {SPEND_COLUMNS} FROM spend_events \
         WHERE tenant_id = $1 AND id = $2 AND removed_at IS NULL"
    )
}

/// Holds the writer's key version active until commit (`lock` is the backend's row lock).
pub fn key_check_sql(lock: &str) -> String {
    format!(
        "SELECT version FROM tenant_keys WHERE tenant_id = $1 AND version = $2 AND active{lock}"
    )
}

pub const UPDATE_SPEND: &str = "UPDATE spend_events SET source_ref = $3, account_id = $4, \
     occurred_at = $5, booked_on = $6, amount_minor = $7, currency = $8, status = $9, \
     counterparty = $10, counterparty_ciphertext = $11, category = $12, \
     description_ciphertext = $13, removed_at = NULL, updated_at = $14 \
     WHERE tenant_id = $1 AND id = $2";

pub const INSERT_IMPORT: &str = "INSERT INTO ledger_imports (id, tenant_id, account_id, format, \
     mapping_name, file_sha256, file_bytes, rows_read, imported, duplicates, actor, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

pub const FINISH_IMPORT: &str = "UPDATE ledger_imports SET rows_read = $3, imported = $4, \
     duplicates = $5, file_sha256 = $6, file_bytes = $7 WHERE tenant_id = $1 AND id = $2";

pub const IMPORT_COLUMNS: &str = "id, tenant_id, account_id, format, mapping_name, file_sha256, \
     file_bytes, rows_read, imported, duplicates, actor, created_at";

pub fn imports_sql() -> String {
    format!(
        "SELECT {IMPORT_COLUMNS} FROM ledger_imports WHERE tenant_id = $1 \
         AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
    )
}

pub const VENDORS: &str = "SELECT id, name, normalized, created_at FROM vendors \
     WHERE tenant_id = $1 ORDER BY normalized";
pub const INSERT_VENDOR: &str =
    "INSERT INTO vendors (id, tenant_id, name, normalized, created_at) \
     VALUES ($1, $2, $3, $4, $5)";
pub const DELETE_VENDOR: &str = "DELETE FROM vendors WHERE tenant_id = $1 AND id = $2";

pub const MAPPINGS: &str = "SELECT name, mapping, created_at, updated_at FROM import_mappings \
     WHERE tenant_id = $1 ORDER BY name";
pub const MAPPING: &str = "SELECT name, mapping, created_at, updated_at FROM import_mappings \
     WHERE tenant_id = $1 AND name = $2";
pub const PUT_MAPPING: &str = "INSERT INTO import_mappings (tenant_id, name, mapping, created_at, \
     updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, name) DO UPDATE \
     SET mapping = excluded.mapping, updated_at = excluded.updated_at";

/// Statements whose shape depends on their input, for backend `DB`.
pub struct Build<DB>(std::marker::PhantomData<DB>);

impl<'a, DB: Database> Build<DB>
where
    TenantId: Encode<'a, DB> + Type<DB>,
    SpendId: Encode<'a, DB> + Type<DB>,
    Option<AccountId>: Encode<'a, DB> + Type<DB>,
    Option<ImportId>: Encode<'a, DB> + Type<DB>,
    Time: Encode<'a, DB> + Type<DB>,
    NaiveDate: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
    Option<&'a str>: Encode<'a, DB> + Type<DB>,
    Option<&'a [u8]>: Encode<'a, DB> + Type<DB>,
    AccountId: Encode<'a, DB> + Type<DB>,
    VendorId: Encode<'a, DB> + Type<DB>,
    ImportId: Encode<'a, DB> + Type<DB>,
    AccountRow: for<'r> sqlx::FromRow<'r, DB::Row>,
    SpendRow: for<'r> sqlx::FromRow<'r, DB::Row>,
    VendorRow: for<'r> sqlx::FromRow<'r, DB::Row>,
    MappingRow: for<'r> sqlx::FromRow<'r, DB::Row>,
    ImportRow: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    pub fn insert_account(r: &'a AccountRow) -> Bound<'a, DB> {
        sqlx::query(INSERT_ACCOUNT)
            .bind(r.id)
            .bind(r.tenant_id)
            .bind(r.name.as_str())
            .bind(r.kind.as_str())
            .bind(r.currency.as_str())
            .bind(r.mask.as_deref())
            .bind(r.number_ciphertext.as_deref())
            .bind(r.institution.as_deref())
            .bind(r.origin.as_str())
            .bind(r.external_id.as_deref())
            .bind(r.created_at)
    }

    pub fn account(sql: &'a str, tenant: TenantId, id: AccountId) -> BoundAs<'a, DB, AccountRow> {
        sqlx::query_as(sql).bind(tenant).bind(id)
    }

    pub fn external_account(
        sql: &'a str,
        tenant: TenantId,
        origin: &'a str,
        external_id: &'a str,
    ) -> BoundAs<'a, DB, AccountRow> {
        sqlx::query_as(sql)
            .bind(tenant)
            .bind(origin)
            .bind(external_id)
    }

    pub fn accounts(sql: &'a str, tenant: TenantId) -> BoundAs<'a, DB, AccountRow> {
        sqlx::query_as(sql).bind(tenant)
    }

    pub fn spend(sql: &'a str, tenant: TenantId, id: SpendId) -> BoundAs<'a, DB, SpendRow> {
        sqlx::query_as(sql).bind(tenant).bind(id)
    }

    pub fn update(r: &'a SpendRecord) -> Bound<'a, DB> {
        sqlx::query(UPDATE_SPEND)
            .bind(r.tenant_id)
            .bind(r.id)
            .bind(r.source_ref.as_str())
            .bind(r.account_id)
            .bind(r.occurred_at)
            .bind(r.booked_on)
            .bind(r.amount_minor)
            .bind(r.currency.as_str())
            .bind(r.status)
            .bind(r.counterparty.as_deref())
            .bind(r.counterparty_ciphertext.as_deref())
            .bind(r.category.as_deref())
            .bind(r.description_ciphertext.as_deref())
            .bind(r.now)
    }

    pub fn record_import(r: &'a ImportRow) -> Bound<'a, DB> {
        sqlx::query(INSERT_IMPORT)
            .bind(r.id)
            .bind(r.tenant_id)
            .bind(r.account_id)
            .bind(r.format.as_str())
            .bind(r.mapping_name.as_deref())
            .bind(r.file_sha256.as_str())
            .bind(r.file_bytes)
            .bind(r.rows_read)
            .bind(r.imported)
            .bind(r.duplicates)
            .bind(r.actor.as_str())
            .bind(r.created_at)
    }

    pub fn finish_import(r: &'a ImportRow) -> Bound<'a, DB> {
        sqlx::query(FINISH_IMPORT)
            .bind(r.tenant_id)
            .bind(r.id)
            .bind(r.rows_read)
            .bind(r.imported)
            .bind(r.duplicates)
            .bind(r.file_sha256.as_str())
            .bind(r.file_bytes)
    }

    pub fn imports(
        sql: &'a str,
        tenant: TenantId,
        before: Option<ImportId>,
        limit: u32,
    ) -> BoundAs<'a, DB, ImportRow> {
        sqlx::query_as(sql)
            .bind(tenant)
            .bind(before)
            .bind(i64::from(limit))
    }

    pub fn vendors(tenant: TenantId) -> BoundAs<'a, DB, VendorRow> {
        sqlx::query_as(VENDORS).bind(tenant)
    }

    pub fn insert_vendor(tenant: TenantId, r: &'a VendorRow) -> Bound<'a, DB> {
        sqlx::query(INSERT_VENDOR)
            .bind(r.id)
            .bind(tenant)
            .bind(r.name.as_str())
            .bind(r.normalized.as_str())
            .bind(r.created_at)
    }

    pub fn delete_vendor(tenant: TenantId, id: VendorId) -> Bound<'a, DB> {
        sqlx::query(DELETE_VENDOR).bind(tenant).bind(id)
    }

    pub fn mappings(tenant: TenantId) -> BoundAs<'a, DB, MappingRow> {
        sqlx::query_as(MAPPINGS).bind(tenant)
    }

    pub fn mapping(tenant: TenantId, name: &'a str) -> BoundAs<'a, DB, MappingRow> {
        sqlx::query_as(MAPPING).bind(tenant).bind(name)
    }

    pub fn put_mapping(tenant: TenantId, r: &'a MappingRow) -> Bound<'a, DB> {
        sqlx::query(PUT_MAPPING)
            .bind(tenant)
            .bind(r.name.as_str())
            .bind(r.mapping.as_str())
            .bind(r.created_at)
            .bind(r.updated_at)
    }

    /// One multi-row insert of `rows` (at most `WRITE_CHUNK`) with the text of
    /// [`super::spend_insert::insert_sql`] for them: the values bound in the order that text names them.
    pub fn insert(sql: &'a str, rows: &'a [SpendRecord]) -> Bound<'a, DB> {
        let mut q = sqlx::query(sql);
        let shared = InsertShape::of(rows) == InsertShape::Shared;
        if let (true, Some(first)) = (shared, rows.first()) {
            q = q
                .bind(first.tenant_id)
                .bind(first.source)
                .bind(first.account_id)
                .bind(first.import_id)
                .bind(first.now);
        }
        for r in rows {
            q = q.bind(r.id);
            if !shared {
                q = q.bind(r.tenant_id).bind(r.source);
            }
            q = q.bind(r.source_ref.as_str());
            if !shared {
                q = q.bind(r.account_id);
            }
            q = q
                .bind(r.occurred_at)
                .bind(r.booked_on)
                .bind(r.amount_minor)
                .bind(r.currency.as_str())
                .bind(r.status)
                .bind(r.counterparty.as_deref())
                .bind(r.counterparty_ciphertext.as_deref())
                .bind(r.category.as_deref())
                .bind(r.description_ciphertext.as_deref());
            if !shared {
                q = q.bind(r.import_id).bind(r.now).bind(r.now);
            }
        }
        q
    }

    /// `SELECT source_ref, id` of the tenant's events of `source` among `refs`.
    pub fn existing(
        tenant: TenantId,
        source: &'a str,
        refs: &'a [&'a str],
    ) -> QueryBuilder<'a, DB> {
        let mut q = QueryBuilder::new("SELECT source_ref, id FROM spend_events WHERE tenant_id = ");
        q.push_bind(tenant).push(" AND source = ").push_bind(source);
        q.push(" AND source_ref IN (");
        let mut list = q.separated(", ");
        for r in refs {
            list.push_bind(*r);
        }
        q.push(")");
        q
    }

    pub fn remove(
        tenant: TenantId,
        source: &'a str,
        refs: &'a [&'a str],
        at: Time,
    ) -> QueryBuilder<'a, DB> {
        let mut q = QueryBuilder::new("UPDATE spend_events SET removed_at = ");
        q.push_bind(at).push(", updated_at = ").push_bind(at);
        q.push(" WHERE removed_at IS NULL AND tenant_id = ")
            .push_bind(tenant);
        q.push(" AND source = ")
            .push_bind(source)
            .push(" AND source_ref IN (");
        let mut list = q.separated(", ");
        for r in refs {
            list.push_bind(*r);
        }
        q.push(")");
        q
    }

    /// A newest-first page; only the filters given appear in the statement, so each shape gets
    /// the plan that suits it.
    pub fn page(
        tenant: TenantId,
        filter: &'a SpendFilter,
        after: Option<SpendCursor>,
        limit: u32,
    ) -> QueryBuilder<'a, DB> {
        let mut q = QueryBuilder::new(format!("SELECT {SPEND_COLUMNS} FROM spend_events WHERE "));
        q.push("tenant_id = ")
            .push_bind(tenant)
            .push(" AND removed_at IS NULL");
        if let Some(account) = filter.account {
            q.push(" AND account_id = ").push_bind(Some(account));
        }
        if let Some(source) = filter.source {
            q.push(" AND source = ").push_bind(source.as_str());
        }
        if let Some(from) = filter.from {
            q.push(" AND booked_on >= ").push_bind(from);
        }
        if let Some(to) = filter.to {
            q.push(" AND booked_on <= ").push_bind(to);
        }
        if let Some(currency) = &filter.currency {
            q.push(" AND currency = ").push_bind(currency.as_str());
        }
        if let Some(min) = filter.min_minor {
            q.push(" AND amount_minor >= ").push_bind(min);
        }
        if let Some(max) = filter.max_minor {
            q.push(" AND amount_minor <= ").push_bind(max);
        }
        if let Some(counterparty) = &filter.counterparty {
            q.push(" AND counterparty = ")
                .push_bind(counterparty.as_str());
        }
        if let Some(status) = filter.status {
            q.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(after) = after {
            // A row value, not `a < x OR (a = x AND ...)`: both backends seek an index to a
            // row-value bound, while the OR form scans from the newest event down to the cursor.
            q.push(" AND (booked_on, occurred_at, id) < (")
                .push_bind(after.booked_on);
            q.push(", ").push_bind(after.occurred_at);
            q.push(", ").push_bind(after.id).push(")");
        }
        q.push(" ORDER BY booked_on DESC, occurred_at DESC, id DESC LIMIT ");
        q.push_bind(i64::from(limit));
        q
    }
}
