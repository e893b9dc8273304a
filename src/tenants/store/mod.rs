//! Tenant storage: the trait the tenant routes and the CLI use, and the SQL both backends run.
//!
//! Invariant: the reserved system tenant (the all-zero id, whose data key seals global
//! administrators' fields) is never listed, read or deleted through this trait, and deleting a
//! tenant deletes its data keys and secrets in the same transaction (crypto-shredding).

mod postgres;
mod sqlite;

use std::marker::PhantomData;

use async_trait::async_trait;
use sqlx::{Database, Encode, FromRow, Type};

use super::{NewTenant, Tenant};
use crate::domain::{time, TenantId};
use crate::error::Result;
use crate::store::{Bound, BoundAs, Time};

/// Tenants. Listing and creating tenants is a system-administrator operation.
#[async_trait]
pub trait TenantStore: Send + Sync {
    async fn create_tenant(&self, tenant: &NewTenant) -> Result<Tenant>;
    async fn get_tenant(&self, id: TenantId) -> Result<Option<Tenant>>;
    /// Tenants in creation order, after `after` when given, at most `limit`.
    async fn list_tenants(&self, after: Option<TenantId>, limit: u32) -> Result<Vec<Tenant>>;
    /// Deletes a tenant and, in the same transaction, its data keys (crypto-shredding: whatever
    /// ciphertext of it survives anywhere can no longer be decrypted). `false` if it did not exist.
    async fn delete_tenant(&self, id: TenantId) -> Result<bool>;
}

const INSERT: &str = "INSERT INTO tenants (id, slug, name, created_at) VALUES ($1, $2, $3, $4)";
const GET: &str = "SELECT id, slug, name, created_at FROM tenants \
                   WHERE id = $1 AND id <> '00000000-0000-0000-0000-000000000000'";
const LIST: &str = "SELECT id, slug, name, created_at FROM tenants \
                    WHERE ($1 IS NULL OR id > $1) AND id <> '00000000-0000-0000-0000-000000000000' \
                    ORDER BY id LIMIT $2";
/// Run in order in one transaction by `delete_tenant`: keys and secrets first, so the tenant's
/// ciphertext is undecryptable the moment the transaction commits.
const DELETE: [&str; 3] = [
    "DELETE FROM tenant_keys WHERE tenant_id = $1",
    "DELETE FROM tenant_secrets WHERE tenant_id = $1",
    "DELETE FROM tenants WHERE id = $1 AND id <> '00000000-0000-0000-0000-000000000000'",
];

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: TenantId,
    slug: String,
    name: String,
    created_at: Time,
}

impl From<TenantRow> for Tenant {
    fn from(row: TenantRow) -> Self {
        Tenant {
            id: row.id,
            slug: row.slug,
            name: row.name,
            created_at: row.created_at.0,
        }
    }
}

fn new_tenant(new: &NewTenant) -> Tenant {
    Tenant {
        id: TenantId::new(),
        slug: new.slug.clone(),
        name: new.name.clone(),
        created_at: time::now(),
    }
}

/// The tenant statements with their values bound, the same on both backends.
struct Sql<DB>(PhantomData<DB>);

impl<'a, DB: Database> Sql<DB>
where
    TenantId: Encode<'a, DB> + Type<DB>,
    Option<TenantId>: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
    Time: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
    TenantRow: for<'r> FromRow<'r, DB::Row>,
{
    fn insert(tenant: &'a Tenant) -> Bound<'a, DB> {
        sqlx::query(INSERT)
            .bind(tenant.id)
            .bind(tenant.slug.as_str())
            .bind(tenant.name.as_str())
            .bind(Time(tenant.created_at))
    }

    fn get(id: TenantId) -> BoundAs<'a, DB, TenantRow> {
        sqlx::query_as(GET).bind(id)
    }

    fn list(after: Option<TenantId>, limit: u32) -> BoundAs<'a, DB, TenantRow> {
        sqlx::query_as(LIST).bind(after).bind(i64::from(limit))
    }
}
