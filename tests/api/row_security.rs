//! PostgreSQL row-level security on every tenant-owned table: the database itself keeps each
//! tenant's rows from another tenant's transactions, whatever SQL the application sends.

use std::sync::Arc;

use auditpulse::app::Store;
use auditpulse::audit::{ActorKind, NewAuditEvent};
use auditpulse::domain::TenantId;
use auditpulse::gateway::providers::{NewProviderKey, Providers};
use auditpulse::gateway::Provider;
use auditpulse::outbound::OutboundPolicy;
use auditpulse::secret::SecretString;
use auditpulse::security::{SecurityAlert, SecurityAlertKind, Severity};
use sqlx::Connection;

use crate::crypto::{master, migrated, tenant, TOKEN};
use crate::helpers::Backend;

/// The tables 0006 covers, which this test fills for two tenants (the identity tables have their
/// own test in `identity_store.rs`).
const FILLED: [&str; 5] = [
    "tenant_keys",
    "tenant_secrets",
    "audit_events",
    "security_alerts",
    "llm_providers",
];

async fn tenant_tables(c: &mut sqlx::PgConnection) -> Vec<(String, bool, bool)> {
    sqlx::query_as(
        "SELECT c.table_name::text, k.relrowsecurity, k.relforcerowsecurity \
         FROM information_schema.columns c \
         JOIN pg_class k ON k.relname = c.table_name AND k.relkind = 'r' \
         JOIN pg_namespace n ON n.oid = k.relnamespace AND n.nspname = c.table_schema \
         WHERE c.column_name = 'tenant_id' AND c.table_schema = current_schema() \
         ORDER BY c.table_name",
    )
    .fetch_all(c)
    .await
    .unwrap()
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set AUDITPULSE_TEST_POSTGRES_URL to run on PostgreSQL"
)]
async fn every_table_with_a_tenant_has_forced_row_level_security() {
    let (db, _store) = migrated(Backend::Postgres).await;
    let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let tables = tenant_tables(&mut c).await;
    let names: Vec<&str> = tables.iter().map(|(t, _, _)| t.as_str()).collect();
    for expected in FILLED.iter().chain(&["users", "sessions", "api_keys"]) {
        assert!(
            names.contains(expected),
            "{expected} missing from {names:?}"
        );
    }
    for (table, enabled, forced) in &tables {
        assert!(enabled, "{table} has a tenant_id but no row-level security");
        assert!(
            forced,
            "{table}: row-level security is not forced on its owner"
        );
    }
}

/// Two tenants' rows in every filled table, plus system rows (no tenant) where a table allows.
async fn fill(store: &Arc<dyn Store>, a: TenantId, b: TenantId) {
    let keyring = Arc::new(auditpulse::crypto::Keyring::new(
        master(&[("k1", 1)]),
        store.clone(),
    ));
    let providers = Providers::new(store.clone(), keyring.clone(), OutboundPolicy::STRICT);
    let mut events = vec![NewAuditEvent::new(ActorKind::System, None, "system.start")];
    for tenant in [a, b] {
        keyring.secrets(tenant).put("plaid", TOKEN).await.unwrap();
        let key = NewProviderKey {
            provider: Provider::OpenAi,
            label: None,
            api_key: SecretString::new("sk-row-security-test".into()),
            base_url: None,
            allowed_models: None,
        };
        providers.set(tenant, key, "u").await.unwrap();
        let event = NewAuditEvent::new(ActorKind::User, Some("u".into()), "auth.login");
        events.push(event.tenant(Some(tenant)));
    }
    store.append_audit(&events).await.unwrap();
    for tenant in [Some(a), Some(b), None] {
        store.insert_alert(&alert(tenant)).await.unwrap();
    }
}

fn alert(tenant_id: Option<TenantId>) -> SecurityAlert {
    SecurityAlert {
        id: uuid::Uuid::now_v7(),
        kind: SecurityAlertKind::PrivilegeEscalation,
        severity: Severity::High,
        tenant_id,
        subject: "user".into(),
        summary: "test".into(),
        evidence: serde_json::json!({}),
        created_at: auditpulse::domain::time::now(),
        dedup_key: "privilege_escalation:user".into(),
        state: auditpulse::security::AlertState::Open,
        occurrences: 1,
    }
}

/// `(own, foreign)`: rows of `table` whose tenant is / is not `tenant`, as a transaction with
/// `auditpulse.tenant` set to `setting` sees them. No filter but the policy decides.
async fn visible(
    c: &mut sqlx::PgConnection,
    table: &str,
    setting: &str,
    tenant: &str,
) -> (i64, i64) {
    let mut tx = c.begin().await.unwrap();
    sqlx::query("SELECT set_config('auditpulse.tenant', $1, true)")
        .bind(setting)
        .execute(&mut *tx)
        .await
        .unwrap();
    let counts = sqlx::query_as(&format!(
        "SELECT COUNT(*) FILTER (WHERE tenant_id::text = $1), \
         COUNT(*) FILTER (WHERE tenant_id IS NULL OR tenant_id::text <> $1) FROM {table}"
    ))
    .bind(tenant)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    counts
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set AUDITPULSE_TEST_POSTGRES_URL to run on PostgreSQL"
)]
async fn the_application_role_sees_no_other_tenants_rows() {
    let (db, store) = migrated(Backend::Postgres).await;
    let (a, b) = (tenant(&store, "a").await, tenant(&store, "b").await);
    fill(&store, a, b).await;
    let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let (user,): (String,) = sqlx::query_as("SELECT current_user::text")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(user, crate::helpers::PG_APP_ROLE);
    let (a, b) = (a.to_string(), b.to_string());
    for table in FILLED {
        let (own, foreign) = visible(&mut c, table, &a, &a).await;
        assert!(own > 0, "{table}: tenant A sees none of its own rows");
        assert_eq!(foreign, 0, "{table}: tenant A sees rows not its own");
        assert_eq!(
            visible(&mut c, table, &b, &a).await.0,
            0,
            "{table}: B sees A's rows"
        );
        let (_, others) = visible(&mut c, table, "*", &a).await;
        assert!(others > 0, "{table}: the system scope sees every tenant");
        assert_eq!(
            visible(&mut c, table, "", &a).await,
            (0, 0),
            "{table}: unset shows rows"
        );
    }

    // Writing into another tenant is refused by the database, not only by the application.
    let mut tx = c.begin().await.unwrap();
    sqlx::query("SELECT set_config('auditpulse.tenant', $1, true)")
        .bind(&a)
        .execute(&mut *tx)
        .await
        .unwrap();
    let foreign = sqlx::query(
        "INSERT INTO security_alerts (id, tenant_id, kind, severity, subject, summary, evidence, \
         created_at) VALUES ($1, $2::uuid, 'api_abuse', 'low', 's', 's', '{}', now())",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(&b)
    .execute(&mut *tx)
    .await
    .unwrap_err();
    assert!(
        foreign.to_string().contains("row-level security"),
        "{foreign}"
    );
}
