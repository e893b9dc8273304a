//! The ledger's SQL, written once: fixed statements as `$N` text; multi-row spend inserts as `$N`
//! text built once per shape and chunk size (values a batch shares bound once); the statements
//! whose shape depends on the request (lookups by reference, filters) built with `QueryBuilder`,
//! which numbers placeholders for each backend.

use std::borrow::Cow;
use std::sync::OnceLock;

use chrono::NaiveDate;
use sqlx::{Database, Encode, QueryBuilder, Type};

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

const INSERT_SPEND: &str = "INSERT INTO spend_events (id, tenant_id, source, source_ref, \
     account_id, occurred_at, booked_on, amount_minor, currency, status, counterparty, \
     counterparty_ciphertext, category, description_ciphertext, import_id, created_at, \
     updated_at) ";
/// The columns of [`INSERT_SPEND`] from the shared values `s` and each row's values `v`.
const SHARED_COLUMNS: &str = "SELECT v.column1, s.tenant_id, s.source, v.column2, s.account_id, \
     v.column3, v.column4, v.column5, v.column6, v.column7, v.column8, v.column9, v.column10, \
     v.column11, s.import_id, s.at, s.at FROM ";
const SKIP_KNOWN: &str = " ON CONFLICT (tenant_id, source, source_ref) DO NOTHING";

/// How a backend writes placeholders. Each value of a spend insert appears once, in bind order,
/// so both forms number alike; SQLite gets `?` because it finds a named or numbered parameter
/// by a linear search, which over thousands of parameters costs more than the insert itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholders {
    /// `?` (SQLite).
    Question,
    /// `$1`, `$2`... (PostgreSQL).
    Dollar,
}

/// How a multi-row spend insert binds its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertShape {
    /// Every row binds all 17 of its values.
    Each,
    /// The rows share tenant, source, account, import and write time (as a file import's
    /// batch does), bound once; each row binds its other 11 values.
    Shared,
}

impl InsertShape {
    /// Values bound once for the statement, and for each row.
    fn counts(self) -> (usize, usize) {
        match self {
            InsertShape::Each => (0, 17),
            InsertShape::Shared => (5, 11),
        }
    }

    pub fn of(rows: &[SpendRecord]) -> Self {
        let Some(first) = rows.first() else {
            return InsertShape::Each;
        };
        let same = |r: &SpendRecord| {
            r.tenant_id == first.tenant_id
                && r.source == first.source
                && r.account_id == first.account_id
                && r.import_id == first.import_id
                && r.now == first.now
        };
        if rows.iter().all(same) {
            InsertShape::Shared
        } else {
            InsertShape::Each
        }
    }
}

/// The text of a multi-row spend insert of `rows` in the shape that suits them (`skip_known`:
/// rows whose reference is already stored, or repeated, are left out), for [`Build::insert`]. A
/// full chunk's text is built once per process, so each batch of an import reuses one prepared
/// statement and builds no SQL.
pub fn insert_sql(rows: &[SpendRecord], skip_known: bool, p: Placeholders) -> Cow<'static, str> {
    static FULL: [OnceLock<String>; 8] = [const { OnceLock::new() }; 8];
    let shape = InsertShape::of(rows);
    if rows.len() != super::WRITE_CHUNK {
        return Cow::Owned(render_insert(shape, rows.len(), skip_known, p));
    }
    let slot = usize::from(shape == InsertShape::Shared) * 4
        + usize::from(p == Placeholders::Dollar) * 2
        + usize::from(skip_known);
    Cow::Borrowed(FULL[slot].get_or_init(|| render_insert(shape, rows.len(), skip_known, p)))
}

/// `INSERT ... VALUES` for [`InsertShape::Each`]; for [`InsertShape::Shared`], `INSERT ...
/// SELECT` from the shared values joined to the rows' `VALUES` (`WHERE true` keeps SQLite from
/// reading `ON CONFLICT` as a join constraint).
fn render_insert(shape: InsertShape, rows: usize, skip_known: bool, p: Placeholders) -> String {
    let (once, each) = shape.counts();
    let mut sql = String::with_capacity(400 + rows * (each * 8 + 4));
    let mut n = 0;
    let mut params = |sql: &mut String, names: &[&str]| {
        for (i, name) in names.iter().enumerate() {
            n += 1;
            if i > 0 {
                sql.push_str(", ");
            }
            match p {
                Placeholders::Question => sql.push('?'),
                Placeholders::Dollar => {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
            sql.push_str(name);
        }
    };
    sql.push_str(INSERT_SPEND);
    if shape == InsertShape::Shared {
        sql.push_str(SHARED_COLUMNS);
        sql.push_str("(SELECT ");
        params(
            &mut sql,
            &[
                " AS tenant_id",
                " AS source",
                " AS account_id",
                " AS import_id",
                " AS at",
            ][..once],
        );
        sql.push_str(") AS s, (");
    }
    sql.push_str("VALUES ");
    let unnamed = [""; 17];
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        params(&mut sql, &unnamed[..each]);
        sql.push(')');
    }
    if shape == InsertShape::Shared {
        sql.push_str(") AS v WHERE true");
    }
    if skip_known {
        sql.push_str(SKIP_KNOWN);
    }
    sql
}

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
    /// [`insert_sql`] for them: the values bound in the order that text names them.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The placeholders of `sql` in text order, as numbers.
    fn dollars(sql: &str) -> Vec<usize> {
        sql.split('$')
            .skip(1)
            .map(|p| {
                let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn every_value_is_one_placeholder_in_bind_order() {
        let chunk = super::super::WRITE_CHUNK;
        for shape in [InsertShape::Each, InsertShape::Shared] {
            for rows in [1, 2, chunk] {
                let (once, each) = shape.counts();
                let binds = once + each * rows;
                let numbered = render_insert(shape, rows, true, Placeholders::Dollar);
                assert_eq!(dollars(&numbered), (1..=binds).collect::<Vec<_>>());
                let plain = render_insert(shape, rows, true, Placeholders::Question);
                assert_eq!(plain.matches('?').count(), binds);
                assert!(!plain.contains('$'));
                assert!(plain.ends_with(SKIP_KNOWN));
            }
        }
        assert!(!render_insert(InsertShape::Each, 2, false, Placeholders::Dollar).contains("ON"));
    }

    #[test]
    fn shared_values_are_named_once_and_rows_list_the_rest() {
        let sql = render_insert(InsertShape::Shared, 2, false, Placeholders::Dollar);
        assert!(sql.contains(
            "FROM (SELECT $1 AS tenant_id, $2 AS source, $3 AS account_id, $4 AS import_id, \
             $5 AS at) AS s, (VALUES ($6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16), \
             ($17, "
        ));
        assert!(sql.ends_with("$27)) AS v WHERE true"));
    }
}
