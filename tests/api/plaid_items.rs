//! Plaid items through the API against the fake Plaid, on both backends: linking (token
//! encrypted at rest, accounts with mask and institution, first sync queued and run), removing
//! (at Plaid too, token deleted, history kept), and the routes' answer while Plaid is off.

use serde_json::json;

use crate::accounts::{delete, json_of, post, tenant_with_admin};
use crate::crypto::{contains, raw_column};
use crate::helpers::{error_of, Backend, TestApp};
use crate::on_both_backends;
use crate::plaid_harness::{posted, start};

async fn linking_stores_the_token_encrypted_and_syncs(backend: Backend) {
    let l = start(backend).await;
    let link = json_of(
        post(&l.app, &l.admin, "/api/v1/plaid/link-token", json!({})).await,
        200,
    )
    .await;
    assert!(link["link_token"]
        .as_str()
        .unwrap()
        .starts_with("link-sandbox-"));
    l.fake
        .push("item-1", vec![posted("t1", "12.34"), posted("t2", "1500")]);
    let item = l.link("item-1").await;
    assert_eq!(
        (item["item_id"].as_str(), item["status"].as_str()),
        (Some("item-1"), Some("active"))
    );
    let text = item.to_string();
    assert!(
        !text.contains("access-sandbox") && !text.contains("cursor"),
        "{text}"
    );
    let accounts = json_of(l.app.get_as(&l.admin, "/api/v1/accounts").await, 200).await;
    assert_eq!(accounts["items"][0]["mask"], "****0000");
    assert_eq!(accounts["items"][0]["institution"], "First Platypus Bank");
    assert_eq!(accounts["items"][0]["origin"], "plaid");
    l.synced(1).await;
    assert_eq!(
        l.transactions().await,
        [
            ("t1".into(), 1234, "posted".into()),
            ("t2".into(), 150000, "posted".into())
        ]
    );
    let listed = l.items().await;
    assert!(listed[0]["last_sync_at"].is_string(), "{listed:?}");
    // At rest the access token is ciphertext only.
    let token = &l.fake.requests("/accounts/get")[0]["access_token"];
    let token = token.as_str().unwrap().as_bytes().to_vec();
    for value in raw_column(
        l.backend,
        l.app.database_url(),
        "SELECT value_ciphertext FROM tenant_secrets",
    )
    .await
    {
        assert!(
            !contains(&value, &token),
            "access token stored in the clear"
        );
    }
    assert!(l.app.events.actions().contains(&"plaid.item_link"));
}

async fn removing_an_item_keeps_its_history(backend: Backend) {
    let l = start(backend).await;
    l.fake.push("item-1", vec![posted("t1", "1.00")]);
    let item = l.link("item-1").await;
    l.synced(1).await;
    let path = format!("/api/v1/plaid/items/{}", item["id"].as_str().unwrap());
    let removed = json_of(delete(&l.app, &l.admin, &path).await, 200).await;
    assert_eq!(removed["status"], "removed");
    assert!(l.fake.item_removed("item-1"));
    assert_eq!(l.transactions().await.len(), 1, "history kept");
    let names = l.app.state.keyring.secrets(l.tenant).names().await.unwrap();
    assert!(names.is_empty(), "the token is deleted: {names:?}");
    l.webhook("item-1").await;
    l.synced(1).await;
    assert_eq!(
        l.fake.requests("/transactions/sync").len(),
        1,
        "a removed item is not synced"
    );
    assert_eq!(
        delete(&l.app, &l.admin, "/api/v1/plaid/items/not-an-id")
            .await
            .status(),
        404
    );
}

async fn without_plaid_the_routes_say_so(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (_, _, admin) = tenant_with_admin(&app, "acme").await;
    let error = error_of(post(&app, &admin, "/api/v1/plaid/link-token", json!({})).await).await;
    assert_eq!(error["code"], "conflict");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Plaid is not configured"),
        "{error}"
    );
    let listed = app.get_as(&admin, "/api/v1/plaid/items").await;
    assert_eq!(listed.status(), 409);
}

on_both_backends!(
    linking_stores_the_token_encrypted_and_syncs,
    removing_an_item_keeps_its_history,
    without_plaid_the_routes_say_so,
);
