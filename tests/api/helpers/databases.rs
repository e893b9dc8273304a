//! Test databases: a file in a temp dir on SQLite; on PostgreSQL a database of its own, either
//! empty (`TestDb::new`) or cloned from the pre-migrated template (`TestDb::migrated`, see
//! `postgres`). Invariant: every PostgreSQL database a `TestDb` made is dropped with it.

use super::postgres;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The role the application connects as on PostgreSQL: not a superuser, no BYPASSRLS, the owner
/// of each test database.
pub const PG_APP_ROLE: &str = "auditpulse_test_app";

/// A fresh database: a file in a temp dir for SQLite; a new database for PostgreSQL, dropped
/// when this value is dropped.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    /// An empty database, for tests of migration itself.
    pub async fn new(backend: Backend) -> Self {
        Self::make(backend, false).await
    }

    /// A database at the current schema: on PostgreSQL a clone of the template migrated once
    /// per migration set (far faster than migrating); on SQLite an empty file, which the
    /// application or the test migrates in milliseconds.
    pub async fn migrated(backend: Backend) -> Self {
        Self::make(backend, true).await
    }

    async fn make(backend: Backend, migrated: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                TestDb {
                    url,
                    dir,
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let name = format!("ap_test_{}", uuid::Uuid::new_v4().simple());
                postgres::create_database(&name, migrated).await;
                TestDb {
                    url: postgres::app_url(&name),
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// The same PostgreSQL database as the administrator (a superuser): for tests that must
    /// reach under row-level security. `None` on SQLite.
    pub fn pg_admin_url(&self) -> Option<String> {
        self.pg_name.as_deref().map(postgres::admin_url_of)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            postgres::drop_database_blocking(name);
        }
    }
}

/// The highest migration version shipped, read from `migrations/sqlite` (the contract test
/// `migrations_have_the_same_versions_on_both_backends` keeps PostgreSQL's in step).
pub fn latest_migration() -> i64 {
    migration_versions("sqlite")
        .into_iter()
        .max()
        .expect("at least one migration")
}

pub fn migration_versions(backend: &str) -> Vec<i64> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut versions: Vec<i64> = std::fs::read_dir(dir)
        .expect("migrations folder")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.split('_').next()?.parse().ok())
        .collect();
    versions.sort();
    versions
}
