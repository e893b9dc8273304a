//! PostgreSQL test databases, cloned from a template migrated once per migration set.
//!
//! The template is `ap_tmpl_<hash of migrations/postgres>`: a changed migration makes a new one.
//! It is built under an advisory lock, so test processes running at once build it only once; it
//! belongs to `PG_APP_ROLE` (so do its clones and every object in them, as if the application had
//! migrated them) and is marked `IS_TEMPLATE` only once fully migrated, so a half-built one left
//! by a crash is rebuilt. Templates of other hashes are dropped once an hour old (younger ones may
//! belong to another checkout testing at the same time). Test databases are `ap_test_*`, each
//! dropped by its `TestDb`; templates never match `ap_test_%`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};

use super::PG_APP_ROLE;

/// Serialises template builds across test processes (any constant shared by them all).
const TEMPLATE_LOCK: i64 = 0x6170_746d_706c_0001;
const TEMPLATE_PREFIX: &str = "ap_tmpl_";
/// Templates of other migration sets younger than this are left alone.
const STALE_AFTER_SECS: u64 = 3600;

/// Set once this process has seen the current template ready.
static TEMPLATE_READY: AtomicBool = AtomicBool::new(false);

fn admin_url() -> String {
    std::env::var("AUDITPULSE_TEST_POSTGRES_URL")
        .expect("AUDITPULSE_TEST_POSTGRES_URL must be set for PostgreSQL tests")
}

fn with_database(url: &str, name: &str) -> String {
    let mut url = url::Url::parse(url).expect("AUDITPULSE_TEST_POSTGRES_URL is not a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

fn with_user(url: &str, user: &str) -> String {
    let mut url = url::Url::parse(url).expect("AUDITPULSE_TEST_POSTGRES_URL is not a URL");
    url.set_username(user)
        .expect("AUDITPULSE_TEST_POSTGRES_URL takes a user name");
    url.set_password(None)
        .expect("AUDITPULSE_TEST_POSTGRES_URL takes a password");
    url.to_string()
}

/// Database `name` as the administrator (a superuser).
pub fn admin_url_of(name: &str) -> String {
    with_database(&admin_url(), name)
}

/// Database `name` as the application role.
pub fn app_url(name: &str) -> String {
    with_user(&admin_url_of(name), PG_APP_ROLE)
}

async fn admin() -> PgConnection {
    PgConnection::connect(&admin_url())
        .await
        .expect("cannot reach the test PostgreSQL")
}

async fn execute(connection: &mut PgConnection, sql: &str) {
    sqlx::query(sql)
        .execute(connection)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Superusers bypass row-level security, so the application connects as an ordinary role that
/// owns its database, as production must. Processes create it concurrently: losing the race is
/// fine.
async fn ensure_app_role(admin: &mut PgConnection) {
    execute(
        admin,
        &format!(
            "DO $$ BEGIN CREATE ROLE {PG_APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; \
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        ),
    )
    .await;
}

/// `ap_tmpl_` and the first 16 hex digits of the SHA-256 of the PostgreSQL migrations (names and
/// contents, in order).
fn template_name() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("migrations folder")
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    let mut hash = Sha256::new();
    for file in files {
        hash.update(file.file_name().unwrap().as_encoded_bytes());
        hash.update(std::fs::read(&file).unwrap());
    }
    let hex: String = hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{TEMPLATE_PREFIX}{hex}")
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Makes sure the current template exists, fully migrated; returns its name.
async fn ensure_template(admin: &mut PgConnection) -> String {
    let name = template_name();
    if TEMPLATE_READY.load(Ordering::Acquire) {
        return name;
    }
    execute(admin, &format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})")).await;
    let state: Option<bool> =
        sqlx::query_scalar("SELECT datistemplate FROM pg_database WHERE datname = $1")
            .bind(&name)
            .fetch_optional(&mut *admin)
            .await
            .unwrap();
    if state == Some(false) {
        drop_template(admin, &name).await; // half-built by a process that died
    }
    if state != Some(true) {
        build_template(admin, &name).await;
    }
    drop_stale_templates(admin, &name).await;
    execute(
        admin,
        &format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})"),
    )
    .await;
    TEMPLATE_READY.store(true, Ordering::Release);
    name
}

async fn build_template(admin: &mut PgConnection, name: &str) {
    ensure_app_role(admin).await;
    execute(
        admin,
        &format!("CREATE DATABASE {name} OWNER {PG_APP_ROLE}"),
    )
    .await;
    let url = auditpulse::config::DatabaseUrl::parse(&app_url(name)).unwrap();
    let store = auditpulse::app::connect(&url, 1).await.unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    execute(
        admin,
        &format!("COMMENT ON DATABASE {name} IS '{}'", now_secs()),
    )
    .await;
    // Last: only a complete template is marked one, and nobody may connect to it any more.
    execute(
        admin,
        &format!("ALTER DATABASE {name} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"),
    )
    .await;
}

async fn drop_template(admin: &mut PgConnection, name: &str) {
    execute(
        admin,
        &format!("ALTER DATABASE {name} WITH IS_TEMPLATE false"),
    )
    .await;
    execute(
        admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await;
}

/// Drops templates of other migration sets built more than `STALE_AFTER_SECS` ago.
async fn drop_stale_templates(admin: &mut PgConnection, current: &str) {
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database \
         WHERE starts_with(datname, $1) AND datname <> $2",
    )
    .bind(TEMPLATE_PREFIX)
    .bind(current)
    .fetch_all(&mut *admin)
    .await
    .unwrap();
    for (name, built) in rows {
        let built: u64 = built.and_then(|b| b.parse().ok()).unwrap_or(0);
        if now_secs().saturating_sub(built) > STALE_AFTER_SECS {
            drop_template(admin, &name).await;
        }
    }
}

/// Creates database `name`, owned by the application role: a clone of the template when
/// `migrated`, empty otherwise.
pub async fn create_database(name: &str, migrated: bool) {
    let mut admin = admin().await;
    ensure_app_role(&mut admin).await;
    if !migrated {
        execute(
            &mut admin,
            &format!("CREATE DATABASE {name} OWNER {PG_APP_ROLE}"),
        )
        .await;
        admin.close().await.ok();
        return;
    }
    for attempt in 1.. {
        let template = ensure_template(&mut admin).await;
        let sql = format!("CREATE DATABASE {name} TEMPLATE {template} OWNER {PG_APP_ROLE}");
        match sqlx::query(&sql).execute(&mut admin).await {
            Ok(_) => break,
            // Another checkout dropped the template (rebuild it), or a clone is being made from
            // it this instant: try again.
            Err(e) if attempt < 10 => {
                if e.to_string().contains("does not exist") {
                    TEMPLATE_READY.store(false, Ordering::Release);
                }
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
            }
            Err(e) => panic!("{sql}: {e}"),
        }
    }
    admin.close().await.ok();
}

/// Drops database `name`; for `Drop`, which runs inside a runtime, so on a thread of its own.
pub fn drop_database_blocking(name: String) {
    let _ = std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async {
            if let Ok(mut admin) = PgConnection::connect(&admin_url()).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await;
            }
        });
    })
    .join();
}
