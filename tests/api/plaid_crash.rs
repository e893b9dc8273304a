//! SIGKILL in the middle of a Plaid sync loses and duplicates nothing: the real `auditpulse
//! serve` binary pages through the fake Plaid, is killed with SIGKILL while a page is held, and
//! after a restart the job is retaken and finishes from the saved cursor. On both backends.

use std::sync::Arc;
use std::time::Duration;

use auditpulse::app::{connect, master_keys, Store};
use auditpulse::config::DatabaseUrl;
use auditpulse::crypto::Keyring;
use auditpulse::events::Events;
use auditpulse::ledger::Ledger;
use auditpulse::plaid::{Plaid, PlaidClient, WebhookVerifier};
use auditpulse::store::Scope;
use auditpulse::tenants::NewTenant;

use crate::accounts::eventually;
use crate::cli::Server;
use crate::crypto::raw_count;
use crate::helpers::fake_plaid::{account, txn, Change, FakePlaid};
use crate::helpers::{test_config, Backend, TestDb, MASTER_KEY};
use crate::on_both_backends;
use crate::storage::raw_execute;

/// Links `item-1` straight through the library, as `POST /api/v1/plaid/items` would: the token
/// is stored encrypted and the first sync job is queued, for the binary to run.
async fn link(
    db: &TestDb,
    fake: &FakePlaid,
    store: &Arc<dyn Store>,
) -> auditpulse::plaid::PlaidItem {
    let pairs = fake.config();
    let overrides: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let config = test_config(db, &overrides);
    let keyring = Arc::new(Keyring::new(master_keys(&config).unwrap(), store.clone()));
    let client = PlaidClient::new(config.plaid.as_ref().unwrap(), config.outbound).unwrap();
    let plaid = Plaid {
        verifier: Arc::new(WebhookVerifier::new(Arc::new(client.clone()))),
        client,
        items: store.clone(),
        jobs: store.clone(),
        alerts: store.clone(),
        keyring: keyring.clone(),
        ledger: Arc::new(Ledger::new(store.clone(), keyring)),
        events: Arc::new(Events::new(Vec::new())),
        page_size: 500,
    };
    let new = NewTenant {
        name: "acme".into(),
        slug: "acme".into(),
    };
    let tenant = store.create_tenant(&new).await.unwrap().id;
    let public = fake.add_item("item-1", vec![account("acc-1", "Operating", "0000")]);
    plaid.link(tenant, &public).await.unwrap()
}

fn env(db: &TestDb, fake: &FakePlaid) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = fake
        .config()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    for (k, v) in [
        ("DATABASE_URL", db.url.as_str()),
        ("AUDITPULSE_MASTER_KEYS", MASTER_KEY),
        ("AUDITPULSE_LISTEN", "127.0.0.1:0"),
        ("AUDITPULSE_METRICS_LISTEN", "off"),
    ] {
        env.push((k.to_owned(), v.to_owned()));
    }
    env.push((
        "AUDITPULSE_DATA_DIR".into(),
        db.dir.path().join("data").display().to_string(),
    ));
    env
}

async fn a_sync_killed_mid_pagination_finishes_after_restart(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let store = connect(&DatabaseUrl::parse(&db.url).unwrap(), 2)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let fake = FakePlaid::start().await;
    fake.paginate(2);
    fake.push(
        "item-1",
        (1..=7)
            .map(|i| {
                Change::Added(txn(
                    &format!("t{i}"),
                    "acc-1",
                    &format!("{i}.99"),
                    "2026-11-20",
                    "Vendor",
                ))
            })
            .collect(),
    );
    let item = link(&db, &fake, &store).await;
    fake.hold_page(2);

    let env = env(&db, &fake);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Server::start(db.dir.path(), &env);
    tokio::time::timeout(Duration::from_secs(30), fake.wait_held())
        .await
        .expect("the binary reached the third page");
    drop(server); // SIGKILL, mid-pagination: two pages read, nothing applied yet.
    let count = |sql: &'static str| raw_count(backend, &db.url, sql);
    assert_eq!(
        count("SELECT COUNT(*) FROM spend_events").await,
        0,
        "nothing applied before the set was complete"
    );
    let stored = store
        .get_plaid_item(Scope::Tenant(item.tenant_id), item.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.cursor, None, "the cursor did not move");

    fake.release();
    // The killed worker's lease (five minutes) is over, as it would be by a later restart.
    raw_execute(
        backend,
        &db.url,
        "UPDATE jobs SET locked_until = run_at WHERE kind = 'plaid.sync'",
    )
    .await;
    let server = Server::start(db.dir.path(), &env);
    let succeeded = "SELECT COUNT(*) FROM jobs WHERE kind = 'plaid.sync' AND state = 'succeeded' AND attempts = 2";
    let finished = eventually(Duration::from_secs(30), || async {
        count(succeeded).await == 1
    })
    .await;
    assert!(
        finished,
        "the restarted binary retook the job and finished it"
    );
    let synced = store
        .get_plaid_item(Scope::Tenant(item.tenant_id), item.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(synced.cursor.as_deref(), Some("cur-7"));
    assert_eq!(
        count("SELECT COUNT(*) FROM spend_events").await,
        7,
        "no transaction lost or duplicated"
    );
    assert_eq!(
        count("SELECT COUNT(DISTINCT source_ref) FROM spend_events").await,
        7
    );
    let starts = fake
        .requests("/transactions/sync")
        .iter()
        .filter(|r| r["cursor"].is_null())
        .count();
    assert_eq!(
        starts, 2,
        "the second run started again from the saved (empty) cursor"
    );
    let (code, _) = server.terminate();
    assert_eq!(code, Some(0));
}

on_both_backends!(a_sync_killed_mid_pagination_finishes_after_restart);
