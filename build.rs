//! Build-time switches: PostgreSQL variants of the storage tests are compiled in (not ignored)
//! when `AUDITPULSE_TEST_POSTGRES_URL` is set; migrations are embedded, so changes rebuild.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rerun-if-env-changed=AUDITPULSE_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-changed=migrations");
    if std::env::var_os("AUDITPULSE_TEST_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }
}
