//! Test helpers, one file per concern: the running app (`app`), test databases (`databases`),
//! identity fixtures (`identity`) and fakes of the pluggable parts (`fakes`). Everything is
//! re-exported here, so tests name it `crate::helpers::...` wherever it lives.

use std::sync::Once;

mod app;
mod databases;
pub mod fake_llm;
pub mod fake_plaid;
mod fakes;
mod identity;
mod postgres;

pub use app::{error_of, test_config, TestApp};
pub use databases::{latest_migration, migration_versions, Backend, TestDb, PG_APP_ROLE};
pub use fakes::{RecordingSink, StaticTokens};
#[allow(unused_imports)] // `Login` is part of the helpers' public face, used or not
pub use identity::{set_cookie, Login, PASSWORD};

pub const MASTER_KEY: &str = "t1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
pub const SYSADMIN: &str = "sysadmin-token";
pub const VIEWER: &str = "viewer-token";
/// A tenant administrator of `ADMIN_TENANT`.
pub const ADMIN: &str = "admin-token";
pub const ADMIN_TENANT: &str = "01900000-0000-7000-8000-000000000001";
/// An auditor of tenant `TENANT_A`.
pub const AUDITOR: &str = "auditor-token";
/// An admin of tenant `TENANT_B`.
pub const ADMIN_B: &str = "admin-b-token";
pub const TENANT_A: &str = "01900000-0000-7000-8000-00000000000a";
pub const TENANT_B: &str = "01900000-0000-7000-8000-00000000000b";

/// Runs one async test body on both backends. The PostgreSQL variant runs when
/// `AUDITPULSE_TEST_POSTGRES_URL` was set at build time and is reported as ignored otherwise.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }

            #[tokio::test]
            #[cfg_attr(not(postgres_tests), ignore = "set AUDITPULSE_TEST_POSTGRES_URL to run on PostgreSQL")]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    )*};
}

pub fn init_test_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter("debug,hyper=info,h2=info,sqlx=warn")
                .with_test_writer()
                .try_init();
        }
    });
}
