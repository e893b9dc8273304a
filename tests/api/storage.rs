//! The storage contract: every backend behaves the same. Each test runs on SQLite and PostgreSQL.

use std::sync::Arc;

use auditpulse::app::{connect, Store};
use auditpulse::config::DatabaseUrl;
use auditpulse::domain::TenantId;
use auditpulse::tenants::NewTenant;
use auditpulse::Error;
use sqlx::Connection;

use crate::helpers::{Backend, TestDb};

async fn open(db: &TestDb) -> Arc<dyn Store> {
    connect(&DatabaseUrl::parse(&db.url).unwrap(), 5)
        .await
        .unwrap()
}

async fn migrated(backend: Backend) -> (TestDb, Arc<dyn Store>) {
    let db = TestDb::migrated(backend).await;
    let store = open(&db).await;
    store.migrate().await.unwrap();
    (db, store)
}

/// Runs one statement beside the store, as an operator (or an attacker) with database access could.
/// A PostgreSQL connection as the application role, in the system scope of row-level security
/// for the whole session: what reaching under the store sees (every tenant's rows).
pub async fn pg_as_system(url: &str) -> sqlx::PgConnection {
    let mut c = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query("SELECT set_config('auditpulse.tenant', '*', false)")
        .execute(&mut c)
        .await
        .unwrap();
    c
}

pub async fn raw_execute(backend: Backend, url: &str, sql: &str) {
    match backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
        Backend::Postgres => {
            let mut c = pg_as_system(url).await;
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    }
}

/// Records migration 9999 as applied, as a newer AuditPulse would have.
pub async fn add_future_migration(backend: Backend, url: &str) {
    let checksum = if backend == Backend::Sqlite {
        "X'00'"
    } else {
        "'\\x00'::bytea"
    };
    let sql = format!(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'future', TRUE, {checksum}, 0)"
    );
    raw_execute(backend, url, &sql).await;
}

fn tenant(slug: &str) -> NewTenant {
    NewTenant {
        name: format!("Tenant {slug}"),
        slug: slug.to_owned(),
    }
}

async fn a_new_database_migrates_to_current_and_again_is_a_no_op(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = open(&db).await;
    let before = store.schema_status().await.unwrap();
    assert_eq!(before.applied, None);
    assert!(!before.is_current());
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    let after = store.schema_status().await.unwrap();
    assert!(after.is_current(), "{after:?}");
    assert_eq!(after.applied, Some(crate::helpers::latest_migration()));
    store.ping().await.unwrap();
}

async fn concurrent_migrations_leave_one_consistent_schema(backend: Backend) {
    let db = TestDb::new(backend).await;
    let stores = [open(&db).await, open(&db).await, open(&db).await];
    let results = futures_util::future::join_all(stores.iter().map(|s| s.migrate())).await;
    for result in results {
        result.unwrap();
    }
    assert!(stores[0].schema_status().await.unwrap().is_current());
    stores[0]
        .create_tenant(&tenant("after-race"))
        .await
        .unwrap();
}

async fn a_database_newer_than_the_binary_is_refused(backend: Backend) {
    let (db, store) = migrated(backend).await;
    add_future_migration(backend, &db.url).await;
    let status = store.schema_status().await.unwrap();
    assert_eq!(status.applied, Some(9999));
    assert!(!status.is_current());
    match store.migrate().await {
        Err(Error::Config(message)) => {
            assert!(
                message.contains(&format!(
                    "version 9999, newer than this AuditPulse binary supports (up to {})",
                    crate::helpers::latest_migration()
                )),
                "{message}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn tenants_round_trip_exactly(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let created = store.create_tenant(&tenant("acme")).await.unwrap();
    let read = store
        .get_tenant(created.id)
        .await
        .unwrap()
        .expect("the tenant exists");
    assert_eq!(
        read, created,
        "ids, text and microsecond UTC time survive storage"
    );
    assert_eq!(store.get_tenant(TenantId::new()).await.unwrap(), None);
}

async fn duplicate_slugs_are_a_conflict_with_a_meaningful_message(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    store.create_tenant(&tenant("acme")).await.unwrap();
    match store.create_tenant(&tenant("acme")).await {
        Err(Error::Conflict(message)) => {
            assert_eq!(message, "a tenant with this slug already exists")
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        store.list_tenants(None, 10).await.unwrap().len(),
        1,
        "the failed insert left nothing behind"
    );
}

async fn tenants_list_in_creation_order_with_a_cursor(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(
            store
                .create_tenant(&tenant(&format!("t{i}")))
                .await
                .unwrap()
                .id,
        );
    }
    let first = store.list_tenants(None, 4).await.unwrap();
    assert_eq!(first.iter().map(|t| t.id).collect::<Vec<_>>(), ids[..4]);
    let rest = store.list_tenants(Some(ids[3]), 4).await.unwrap();
    assert_eq!(rest.iter().map(|t| t.id).collect::<Vec<_>>(), ids[4..]);
    assert!(store
        .list_tenants(Some(ids[6]), 4)
        .await
        .unwrap()
        .is_empty());
}

crate::on_both_backends!(
    a_new_database_migrates_to_current_and_again_is_a_no_op,
    concurrent_migrations_leave_one_consistent_schema,
    a_database_newer_than_the_binary_is_refused,
    tenants_round_trip_exactly,
    duplicate_slugs_are_a_conflict_with_a_meaningful_message,
    tenants_list_in_creation_order_with_a_cursor,
);

#[tokio::test]
async fn the_sqlite_database_is_in_wal_mode() {
    let (db, _store) = migrated(Backend::Sqlite).await;
    let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn migrations_have_the_same_versions_on_both_backends() {
    let sqlite = crate::helpers::migration_versions("sqlite");
    assert_eq!(sqlite, crate::helpers::migration_versions("postgres"));
    assert!(!sqlite.is_empty());
}
