//! Plaid item storage on both backends: items stay in their tenant's scope, the webhook look-up
//! finds an item across tenants, a removed item is not revived, the cursor is saved with the
//! sync's time and clears the error.

use auditpulse::domain::time;
use auditpulse::plaid::{ItemStatus, PlaidItem, PlaidItemId};
use auditpulse::store::Scope;

use crate::crypto::{migrated, tenant};
use crate::helpers::Backend;
use crate::on_both_backends;

fn item(tenant_id: auditpulse::domain::TenantId, item_id: &str) -> PlaidItem {
    PlaidItem {
        id: PlaidItemId::new(),
        tenant_id,
        item_id: item_id.to_owned(),
        institution: Some("First Platypus Bank".into()),
        status: ItemStatus::Active,
        last_error_code: None,
        cursor: None,
        last_sync_at: None,
        created_at: time::now(),
    }
}

async fn items_stay_in_their_tenant(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let (a, b) = (tenant(&store, "a").await, tenant(&store, "b").await);
    let in_a = item(a, "item-a");
    let in_b = item(b, "item-b");
    store.insert_plaid_item(&in_a).await.unwrap();
    store.insert_plaid_item(&in_b).await.unwrap();
    let listed = store.list_plaid_items(Scope::Tenant(a)).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|i| i.item_id.as_str())
            .collect::<Vec<_>>(),
        ["item-a"]
    );
    assert!(store
        .get_plaid_item(Scope::Tenant(a), in_b.id)
        .await
        .unwrap()
        .is_none());
    assert!(!store
        .set_plaid_item_status(Scope::Tenant(a), in_b.id, ItemStatus::Removed, None)
        .await
        .unwrap());
    // The webhook's look-up crosses tenants.
    let found = store.find_plaid_item("item-b").await.unwrap().unwrap();
    assert_eq!((found.id, found.tenant_id), (in_b.id, b));
    assert!(store.find_plaid_item("item-zz").await.unwrap().is_none());
    // Plaid's item id is unique: the same item cannot be stored twice.
    let err = store
        .insert_plaid_item(&item(b, "item-a"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 409, "{err:?}");
}

async fn status_and_cursor_follow_the_sync(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let a = tenant(&store, "a").await;
    let one = item(a, "item-1");
    store.insert_plaid_item(&one).await.unwrap();
    let scope = Scope::Tenant(a);
    assert!(store
        .set_plaid_item_status(
            scope,
            one.id,
            ItemStatus::LoginRequired,
            Some("ITEM_LOGIN_REQUIRED")
        )
        .await
        .unwrap());
    let got = store.get_plaid_item(scope, one.id).await.unwrap().unwrap();
    assert_eq!(got.status, ItemStatus::LoginRequired);
    assert_eq!(got.last_error_code.as_deref(), Some("ITEM_LOGIN_REQUIRED"));

    let at = time::now();
    assert!(store
        .save_plaid_cursor(scope, one.id, "cur-7", at)
        .await
        .unwrap());
    let got = store.get_plaid_item(scope, one.id).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.cursor.as_deref()),
        (ItemStatus::Active, Some("cur-7"))
    );
    assert_eq!(got.last_error_code, None);
    assert_eq!(
        got.last_sync_at.unwrap().timestamp_micros(),
        at.timestamp_micros()
    );

    store
        .set_plaid_item_status(scope, one.id, ItemStatus::Removed, None)
        .await
        .unwrap();
    assert!(
        !store
            .set_plaid_item_status(scope, one.id, ItemStatus::Active, None)
            .await
            .unwrap(),
        "a removed item is not revived"
    );
    store
        .save_plaid_cursor(scope, one.id, "cur-8", at)
        .await
        .unwrap();
    let got = store.get_plaid_item(scope, one.id).await.unwrap().unwrap();
    assert_eq!(got.status, ItemStatus::Removed);
    assert!(store.syncable_plaid_items().await.unwrap().is_empty());
}

on_both_backends!(
    items_stay_in_their_tenant,
    status_and_cursor_follow_the_sync
);
