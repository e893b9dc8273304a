//! Encryption at rest, on both backends: the database holds only ciphertext, a ciphertext moved to
//! another row or tenant fails to decrypt, master keys rotate (online, resumable after a crash)
//! and can then be retired, and deleting a tenant destroys its keys.

use std::sync::Arc;

use auditpulse::config::{DatabaseUrl, MasterKeys};
use auditpulse::crypto::{Keyring, Rotation, TENANT_SECRET_VALUE};
use auditpulse::domain::TenantId;
use auditpulse::store::{self, Store};
use auditpulse::tenants::NewTenant;
use auditpulse::Error;
use base64::Engine;
use sqlx::Connection;

use crate::helpers::{Backend, TestApp, TestDb, SYSADMIN, VIEWER};

const TOKEN: &[u8] = b"access-sandbox-7f3c9e1a-plaid-token";

fn master(spec: &[(&str, u8)]) -> MasterKeys {
    let entries: Vec<String> = spec
        .iter()
        .map(|(id, byte)| {
            let key = base64::engine::general_purpose::STANDARD.encode([*byte; 32]);
            format!("{id}:{key}")
        })
        .collect();
    MasterKeys::parse(&entries.join(",")).unwrap()
}

async fn migrated(backend: Backend) -> (TestDb, Arc<dyn Store>) {
    let db = TestDb::new(backend).await;
    let store = store::connect(&DatabaseUrl::parse(&db.url).unwrap(), 5)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    (db, store)
}

async fn tenant(store: &Arc<dyn Store>, slug: &str) -> TenantId {
    let new = NewTenant {
        name: slug.to_owned(),
        slug: slug.to_owned(),
    };
    store.create_tenant(&new).await.unwrap().id
}

/// Every value of one column, read straight from the database.
async fn raw_column(backend: Backend, url: &str, sql: &str) -> Vec<Vec<u8>> {
    match backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
        }
    }
}

async fn raw_count(backend: Backend, url: &str, sql: &str) -> i64 {
    match backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn value(keyring: &Keyring, tenant: TenantId, name: &str) -> Vec<u8> {
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

async fn rotation_moves_every_key_to_the_new_master_key_which_then_suffices(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let old = Keyring::new(master(&[("k1", 1)]), store.clone());
    let mut tenants = Vec::new();
    for i in 0..3 {
        let id = tenant(&store, &format!("t{i}")).await;
        old.secrets(id)
            .put("token", format!("value-{i}").as_bytes())
            .await
            .unwrap();
        tenants.push(id);
    }
    let both = Keyring::new(master(&[("k2", 2), ("k1", 1)]), store.clone());
    let status = both.status().await.unwrap();
    assert_eq!(
        (
            status.master_keys[0].id.as_str(),
            status.master_keys[0].data_keys
        ),
        ("k2", 0)
    );
    assert_eq!(
        (
            status.master_keys[1].id.as_str(),
            status.master_keys[1].data_keys
        ),
        ("k1", 3)
    );

    let report = both.rotate(&Rotation::default()).await.unwrap();
    assert_eq!(report.rewrapped, 3);
    assert_eq!(
        both.rotate(&Rotation::default()).await.unwrap().rewrapped,
        0,
        "idempotent"
    );
    let status = both.status().await.unwrap();
    assert_eq!(status.master_keys[0].data_keys, 3);
    assert_eq!(status.master_keys[1].data_keys, 0);
    assert_eq!(status.columns[0].under_active_keys, 3);

    let retired = Keyring::new(master(&[("k2", 2)]), store.clone());
    for (i, id) in tenants.iter().enumerate() {
        assert_eq!(
            value(&retired, *id, "token").await,
            format!("value-{i}").as_bytes()
        );
    }
    let only_old = Keyring::new(master(&[("k1", 1)]), store.clone());
    let error = only_old.secrets(tenants[0]).get("token").await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("\"k2\", which is not in AUDITPULSE_MASTER_KEYS"),
        "{error}"
    );
}

async fn reencryption_interrupted_halfway_finishes_on_the_next_run(backend: Backend) {
    let (db, store) = migrated(backend).await;
    let old = Keyring::new(master(&[("k1", 1)]), store.clone());
    let mut tenants = Vec::new();
    for t in 0..2 {
        let id = tenant(&store, &format!("t{t}")).await;
        for s in 0..5 {
            old.secrets(id)
                .put(&format!("s{s}"), format!("{t}-{s}").as_bytes())
                .await
                .unwrap();
        }
        tenants.push(id);
    }
    let stale = store.get_secret(tenants[0], "s0").await.unwrap().unwrap();
    let both = Keyring::new(master(&[("k2", 2), ("k1", 1)]), store.clone());
    let crash = Rotation {
        reencrypt_data: true,
        batch_size: 2,
        stop_after: Some(2 + 1 + 3),
    };
    assert!(
        matches!(both.rotate(&crash).await, Err(Error::Crypto(_))),
        "the simulated crash"
    );
    let halfway = both.status().await.unwrap();
    assert_eq!(halfway.older_data_keys, 1, "{halfway:?}");
    assert!(halfway.columns[0].under_older_keys > 0, "{halfway:?}");
    for (t, id) in tenants.iter().enumerate() {
        assert_eq!(
            value(&both, *id, "s4").await,
            format!("{t}-4").as_bytes(),
            "usable halfway"
        );
    }

    let resumed = Rotation {
        reencrypt_data: true,
        batch_size: 2,
        stop_after: None,
    };
    let report = both.rotate(&resumed).await.unwrap();
    assert_eq!(report.data_keys_retired, 2, "{report:?}");
    let done = both.status().await.unwrap();
    assert_eq!(
        (done.older_data_keys, done.columns[0].under_older_keys),
        (0, 0),
        "{done:?}"
    );
    assert_eq!(done.columns[0].under_active_keys, 10);
    assert_eq!(
        raw_count(backend, &db.url, "SELECT COUNT(*) FROM tenant_keys").await,
        2
    );
    assert!(
        !store.put_secret(tenants[0], "s0", &stale).await.unwrap(),
        "a write sealed with a retired data key is refused"
    );

    let retired = Keyring::new(master(&[("k2", 2)]), store.clone());
    for (t, id) in tenants.iter().enumerate() {
        for s in 0..5 {
            assert_eq!(
                value(&retired, *id, &format!("s{s}")).await,
                format!("{t}-{s}").as_bytes()
            );
        }
    }
}

async fn rotation_runs_while_the_store_keeps_serving(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let old = Keyring::new(master(&[("k1", 1)]), store.clone());
    let acme = tenant(&store, "acme").await;
    for s in 0..20 {
        old.secrets(acme)
            .put(&format!("s{s:02}"), b"before")
            .await
            .unwrap();
    }
    let serving = Arc::new(Keyring::new(master(&[("k2", 2), ("k1", 1)]), store.clone()));
    let writer = {
        let keyring = serving.clone();
        tokio::spawn(async move {
            for round in 0..40 {
                let name = format!("s{:02}", round % 20);
                keyring
                    .secrets(acme)
                    .put(&name, format!("during-{round}").as_bytes())
                    .await
                    .unwrap();
                keyring.secrets(acme).get(&name).await.unwrap().unwrap();
            }
        })
    };
    let options = Rotation {
        reencrypt_data: true,
        batch_size: 3,
        stop_after: None,
    };
    serving.rotate(&options).await.unwrap();
    writer.await.unwrap();
    // A write that raced the last batch may have kept an old key alive; a rerun finishes it.
    if serving.status().await.unwrap().older_data_keys > 0 {
        serving.rotate(&options).await.unwrap();
    }
    let retired = Keyring::new(master(&[("k2", 2)]), store.clone());
    for s in 0..20 {
        let got = value(&retired, acme, &format!("s{s:02}")).await;
        assert!(
            got.starts_with(b"during-"),
            "{}",
            String::from_utf8_lossy(&got)
        );
    }
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
    rotation_moves_every_key_to_the_new_master_key_which_then_suffices,
    reencryption_interrupted_halfway_finishes_on_the_next_run,
    rotation_runs_while_the_store_keeps_serving,
    deleting_a_tenant_shreds_its_data_key,
);

/// `auditpulse keys status` and `keys rotate` as an operator runs them, on SQLite.
#[tokio::test]
async fn the_keys_commands_rotate_and_report_with_exit_codes() {
    let (db, store) = migrated(Backend::Sqlite).await;
    let old = Keyring::new(master(&[("k1", 1)]), store.clone());
    let acme = tenant(&store, "acme").await;
    old.secrets(acme).put("plaid", TOKEN).await.unwrap();
    let keys = |spec: &[(&str, u8)]| {
        let entries: Vec<String> = spec
            .iter()
            .map(|(id, b)| {
                let key = base64::engine::general_purpose::STANDARD.encode([*b; 32]);
                format!("{id}:{key}")
            })
            .collect();
        entries.join(",")
    };
    let run = |args: &[&str], master_keys: String| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditpulse"))
            .args(args)
            .current_dir(db.dir.path())
            .env_clear()
            .env("DATABASE_URL", &db.url)
            .env("AUDITPULSE_MASTER_KEYS", master_keys)
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let both = keys(&[("k2", 2), ("k1", 1)]);
    let (code, out, _) = run(&["keys", "status"], both.clone());
    assert_eq!(code, Some(0));
    assert!(
        out.contains("master key k1: wraps 1 tenant data key(s) (still in use"),
        "{out}"
    );
    assert!(
        out.contains("tenant_secrets.value_ciphertext: 1 field(s) under active"),
        "{out}"
    );

    let (code, out, err) = run(&["keys", "rotate"], both);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "re-wrapped 1 tenant data key(s) under master key k2\n");

    let (code, out, _) = run(&["keys", "status"], keys(&[("k2", 2)]));
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with("master key k2: wraps 1 tenant data key(s) (active)\n"),
        "{out}"
    );
    let (code, _, err) = run(&["keys", "rotate"], keys(&[("k1", 1)]));
    assert_eq!(code, Some(1));
    assert!(
        err.contains("\"k2\", which is not in AUDITPULSE_MASTER_KEYS"),
        "{err}"
    );
    assert!(
        !err.contains("AQEBAQEB") && !err.contains("AgICAgIC"),
        "no key material: {err}"
    );
    let retired = Keyring::new(master(&[("k2", 2)]), store.clone());
    assert_eq!(value(&retired, acme, "plaid").await, TOKEN);
}

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
