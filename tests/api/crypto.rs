//! Encryption at rest, on both backends: the database holds only ciphertext, a ciphertext moved to
//! another row or tenant fails to decrypt, deleting a tenant destroys its keys, and a column must
//! be registered to be encrypted. Key rotation is tested in `key_rotation.rs`.

use std::sync::Arc;

use auditpulse::app::{connect, Store};
use auditpulse::config::{DatabaseUrl, MasterKeys};
use auditpulse::crypto::{Keyring, TENANT_SECRET_VALUE};
use auditpulse::domain::TenantId;
use auditpulse::tenants::NewTenant;
use auditpulse::Error;
use base64::Engine;
use sqlx::Connection;

use crate::helpers::{Backend, TestApp, TestDb, SYSADMIN, VIEWER};

pub const TOKEN: &[u8] = b"access-sandbox-7f3c9e1a-plaid-token";

pub fn master(spec: &[(&str, u8)]) -> MasterKeys {
    let entries: Vec<String> = spec
        .iter()
        .map(|(id, byte)| {
            let key = base64::engine::general_purpose::STANDARD.encode([*byte; 32]);
            format!("{id}:{key}")
        })
        .collect();
    MasterKeys::parse(&entries.join(",")).unwrap()
}

pub async fn migrated(backend: Backend) -> (TestDb, Arc<dyn Store>) {
    let db = TestDb::migrated(backend).await;
    let store = connect(&DatabaseUrl::parse(&db.url).unwrap(), 5)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    (db, store)
}

pub async fn tenant(store: &Arc<dyn Store>, slug: &str) -> TenantId {
    let new = NewTenant {
        name: slug.to_owned(),
        slug: slug.to_owned(),
    };
    store.create_tenant(&new).await.unwrap().id
}

/// Every value of one column, read straight from the database.
pub async fn raw_column(backend: Backend, url: &str, sql: &str) -> Vec<Vec<u8>> {
    match backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
        }
        Backend::Postgres => {
            let mut c = crate::storage::pg_as_system(url).await;
            sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
        }
    }
}

pub async fn raw_count(backend: Backend, url: &str, sql: &str) -> i64 {
    match backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
        }
        Backend::Postgres => {
            let mut c = crate::storage::pg_as_system(url).await;
            sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
        }
    }
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub async fn value(keyring: &Keyring, tenant: TenantId, name: &str) -> Vec<u8> {
    keyring
        .secrets(tenant)
        .get(name)
        .await
        .unwrap()
        .expect("the secret exists")
        .expose()
        .clone()
}

async fn the_database_holds_only_ciphertext(backend: Backend) {
    let (db, store) = migrated(backend).await;
    let keyring = Keyring::new(master(&[("k1", 1)]), store.clone());
    let acme = tenant(&store, "acme").await;
    let secrets = keyring.secrets(acme);
    secrets.put("plaid:item-1", TOKEN).await.unwrap();
    secrets
        .put("openai", b"sk-live-0123456789abcdef")
        .await
        .unwrap();
    assert_eq!(value(&keyring, acme, "plaid:item-1").await, TOKEN);
    assert_eq!(secrets.names().await.unwrap(), ["openai", "plaid:item-1"]);

    let cells = raw_column(
        backend,
        &db.url,
        "SELECT value_ciphertext FROM tenant_secrets",
    )
    .await;
    assert_eq!(cells.len(), 2);
    for cell in &cells {
        assert!(
            !contains(cell, TOKEN) && !contains(cell, b"sk-live"),
            "plaintext in the table"
        );
        assert_eq!(cell[0], 1, "format version");
    }
    let wrapped = raw_column(backend, &db.url, "SELECT wrapped_key FROM tenant_keys").await;
    assert_eq!(wrapped.len(), 1, "one data key for the tenant");
    if backend == Backend::Sqlite {
        // The whole database, write-ahead log included, as a backup would copy it.
        let path = db.dir.path().join("test.db");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
        assert!(!contains(&bytes, TOKEN) && !contains(&bytes, b"sk-live"));
    }
    assert!(secrets.delete("openai").await.unwrap());
    assert!(!secrets.delete("openai").await.unwrap());
    assert!(secrets.get("openai").await.unwrap().is_none());
}

async fn a_ciphertext_moved_to_another_row_or_tenant_fails_to_decrypt(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let keyring = Keyring::new(master(&[("k1", 1)]), store.clone());
    let (acme, globex) = (tenant(&store, "acme").await, tenant(&store, "globex").await);
    keyring.secrets(acme).put("plaid", TOKEN).await.unwrap();
    keyring
        .secrets(globex)
        .put("plaid", b"globex-own")
        .await
        .unwrap();
    let stolen = store.get_secret(acme, "plaid").await.unwrap().unwrap();

    // What an attacker with write access to the database could do.
    assert!(store.put_secret(acme, "webhook", &stolen).await.unwrap());
    assert!(store.put_secret(globex, "plaid", &stolen).await.unwrap());
    let mut tampered = stolen.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(store.put_secret(acme, "tampered", &tampered).await.unwrap());

    for (tenant, name) in [(acme, "webhook"), (globex, "plaid"), (acme, "tampered")] {
        match keyring.secrets(tenant).get(name).await {
            Err(Error::Crypto(message)) => {
                assert!(!contains(message.as_bytes(), TOKEN), "{message}");
            }
            other => panic!("{name}: expected a decryption error, got {other:?}"),
        }
    }
    assert_eq!(
        value(&keyring, acme, "plaid").await,
        TOKEN,
        "the original still decrypts"
    );
    let direct = keyring
        .decrypt(globex, TENANT_SECRET_VALUE.row("plaid"), &stolen)
        .await;
    assert!(matches!(direct, Err(Error::Crypto(_))));
}

async fn deleting_a_tenant_shreds_its_data_key(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let keyring = app.state.keyring.clone();
    let store = app.state.store.clone();
    let (acme, globex) = (tenant(&store, "acme").await, tenant(&store, "globex").await);
    keyring.secrets(acme).put("plaid", TOKEN).await.unwrap();
    keyring
        .secrets(globex)
        .put("plaid", b"globex")
        .await
        .unwrap();
    let backup = store.get_secret(acme, "plaid").await.unwrap().unwrap();
    let sql = format!("SELECT wrapped_key FROM tenant_keys WHERE tenant_id = '{acme}'");
    let wrapped = raw_column(backend, app.database_url(), &sql)
        .await
        .remove(0);
    let path = format!("/api/v1/tenants/{acme}");

    let delete = |token: &'static str| app.client.delete(app.url(&path)).bearer_auth(token).send();
    assert_eq!(delete(VIEWER).await.unwrap().status(), 403);
    assert_eq!(delete(SYSADMIN).await.unwrap().status(), 204);
    assert_eq!(delete(SYSADMIN).await.unwrap().status(), 404);
    assert_eq!(app.get_as(SYSADMIN, &path).await.status(), 404);

    let url = app.database_url().to_owned();
    let sql = "SELECT COUNT(*) FROM tenant_keys";
    assert_eq!(
        raw_count(backend, &url, sql).await,
        1,
        "only globex's key is left"
    );
    let sql = "SELECT COUNT(*) FROM tenant_secrets";
    assert_eq!(raw_count(backend, &url, sql).await, 1);
    // The ciphertext from a backup is now unreadable, whatever the caller tries.
    let restored = keyring
        .decrypt(acme, TENANT_SECRET_VALUE.row("plaid"), &backup)
        .await;
    assert!(matches!(restored, Err(Error::Crypto(_))), "{restored:?}");
    let elsewhere = keyring
        .decrypt(globex, TENANT_SECRET_VALUE.row("plaid"), &backup)
        .await;
    assert!(matches!(elsewhere, Err(Error::Crypto(_))));
    assert_eq!(value(&keyring, globex, "plaid").await, b"globex");
    if backend == Backend::Sqlite {
        // secure_delete: the wrapped key's bytes are gone from the file, not just unlinked.
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut c)
            .await
            .unwrap();
        let file = std::path::PathBuf::from(url.trim_start_matches("sqlite://"));
        let mut bytes = std::fs::read(&file).unwrap();
        bytes.extend(std::fs::read(file.with_extension("db-wal")).unwrap_or_default());
        assert!(
            !contains(&bytes, &wrapped),
            "the shredded key lingers in the database file"
        );
    }
    app.stop().await;
}

crate::on_both_backends!(
    the_database_holds_only_ciphertext,
    a_ciphertext_moved_to_another_row_or_tenant_fails_to_decrypt,
    deleting_a_tenant_shreds_its_data_key,
);

/// A column that rotation would not find cannot be encrypted into: the easy path is the safe one.
#[tokio::test]
async fn encrypting_for_an_unregistered_column_is_refused() {
    static UNLISTED: auditpulse::crypto::EncryptedColumn = auditpulse::crypto::EncryptedColumn {
        table: "bank_accounts",
        column: "number_ciphertext",
        tenant_column: "tenant_id",
        row_id_column: "id",
    };
    let (_db, store) = migrated(Backend::Sqlite).await;
    let keyring = Keyring::new(master(&[("k1", 1)]), store.clone());
    let acme = tenant(&store, "acme").await;
    match keyring.encrypt(acme, UNLISTED.row("1"), b"DE89").await {
        Err(Error::Crypto(message)) => {
            assert!(
                message.contains("bank_accounts.number_ciphertext is not listed"),
                "{message}"
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let unknown = keyring.secrets(TenantId::new()).put("plaid", TOKEN).await;
    assert!(matches!(unknown, Err(Error::NotFound)), "{unknown:?}");
}
