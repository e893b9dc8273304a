//! LLM provider keys through the API, on both backends: set, list, replace and delete them
//! without the key ever coming back; the key sealed at rest and still resolved by the gateway's
//! look-up after `keys rotate --reencrypt-data`; tenant isolation; admins only; base URLs held to
//! the outbound policy; hostile bodies refused without echoing the key.

use std::sync::Arc;

use auditpulse::auth::Role;
use auditpulse::config::{vars, MasterKeys};
use auditpulse::crypto::{Keyring, Rotation};
use auditpulse::domain::TenantId;
use auditpulse::gateway::providers::{NewProviderKey, Providers};
use auditpulse::gateway::Provider;
use auditpulse::secret::SecretString;
use serde_json::{json, Value};

use crate::accounts::{audited, delete, json_of, post, tenant_with_admin, user};
use crate::crypto::{contains, raw_column};
use crate::helpers::{error_of, Backend, TestApp, MASTER_KEY, PASSWORD};
use crate::on_both_backends;

const OPENAI_KEY: &str = "sk-proj-Zq8rT2vLw9XcB4nM7kPa0123abcd";
const OPENAI_KEY_2: &str = "sk-proj-Hh5sD1fGj3kLq6wEr8tYu456wxyz";
const ANTHROPIC_KEY: &str = "sk-ant-api03-Mn4bV7cX1zLk9jHg2fDs-9876efgh";

async fn set(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    post(app, token, "/api/v1/providers", body).await
}

async fn listed(app: &TestApp, token: &str) -> Value {
    json_of(app.get_as(token, "/api/v1/providers").await, 200).await
}

/// The body of a response, which must have `status` and must not contain any test key.
async fn keyless(response: reqwest::Response, status: u16) -> Value {
    let got = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    for key in [OPENAI_KEY, OPENAI_KEY_2, ANTHROPIC_KEY] {
        assert!(!text.contains(key), "a key came back: {text}");
    }
    serde_json::from_str(&text).unwrap()
}

async fn resolved(app: &TestApp, tenant: TenantId, provider: Provider) -> Option<(String, String)> {
    let upstream = app
        .state
        .providers
        .resolve(tenant, provider)
        .await
        .unwrap()?;
    Some((
        upstream.base_url.to_string(),
        upstream.api_key.expose().clone(),
    ))
}

async fn keys_are_set_listed_replaced_and_deleted_but_never_shown(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (_, _, admin) = tenant_with_admin(&app, "acme").await;
    assert_eq!(listed(&app, &admin).await["items"], json!([]));

    let first = keyless(
        set(
            &app,
            &admin,
            json!({"provider": "openai", "api_key": OPENAI_KEY}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(first["key_hint"], "…abcd");
    assert_eq!(first["base_url"], "https://api.openai.com/");
    assert_eq!(first["custom_base_url"], false);
    assert_eq!(first["allowed_models"], Value::Null);

    // Setting the provider again replaces its key: one entry, a new id, the new hint.
    let second = keyless(
        set(
            &app,
            &admin,
            json!({"provider": "openai", "api_key": OPENAI_KEY_2, "label": " production "}),
        )
        .await,
        201,
    )
    .await;
    assert_ne!(second["id"], first["id"]);
    let claude = json!({"provider": "anthropic", "api_key": ANTHROPIC_KEY,
        "allowed_models": ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-sonnet-4-5"]});
    keyless(set(&app, &admin, claude).await, 201).await;
    let list = keyless(app.get_as(&admin, "/api/v1/providers").await, 200).await;
    let items = list["items"].as_array().unwrap();
    let summary: Vec<(&str, &str, &Value)> = items
        .iter()
        .map(|i| {
            let provider = i["provider"].as_str().unwrap();
            (provider, i["key_hint"].as_str().unwrap(), &i["label"])
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("anthropic", "…efgh", &Value::Null),
            ("openai", "…wxyz", &json!("production"))
        ]
    );
    assert_eq!(
        items[0]["allowed_models"],
        json!(["claude-sonnet-4-5", "claude-haiku-4-5"])
    );

    let path = format!("/api/v1/providers/{}", second["id"].as_str().unwrap());
    assert_eq!(delete(&app, &admin, &path).await.status(), 204);
    assert_eq!(
        listed(&app, &admin).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(delete(&app, &admin, &path).await.status(), 404);
    let replaced = format!("/api/v1/providers/{}", first["id"].as_str().unwrap());
    assert_eq!(
        delete(&app, &admin, &replaced).await.status(),
        404,
        "replaced keys are gone"
    );
    assert_eq!(
        delete(&app, &admin, "/api/v1/providers/not-an-id")
            .await
            .status(),
        404
    );

    // Every change is audited, naming the provider, never the key.
    let sets = crate::accounts::audited_at_least(&app, &admin, "gateway.provider_set", 3).await;
    assert_eq!(sets.len(), 3, "{sets:?}");
    assert_eq!(sets[1]["details"]["replaced"], first["id"]);
    let deletes = audited(&app, &admin, "gateway.provider_delete").await;
    assert_eq!(deletes[0]["details"]["provider"], "openai");
    let trail = format!("{sets:?}{deletes:?}");
    for key in [OPENAI_KEY, OPENAI_KEY_2, ANTHROPIC_KEY] {
        assert!(!trail.contains(key), "a key in the audit trail: {trail}");
    }
}

async fn the_key_is_sealed_at_rest_and_resolves_after_rotation(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    keyless(
        set(
            &app,
            &admin,
            json!({"provider": "openai", "api_key": OPENAI_KEY}),
        )
        .await,
        201,
    )
    .await;
    let sealed = || {
        raw_column(
            backend,
            app.database_url(),
            "SELECT api_key_ciphertext FROM llm_providers",
        )
    };
    let before = sealed().await;
    assert_eq!(before.len(), 1);
    assert!(
        !contains(&before[0], OPENAI_KEY.as_bytes()),
        "the key is stored in the clear"
    );
    assert_eq!(
        resolved(&app, tenant, Provider::OpenAi).await,
        Some(("https://api.openai.com/".into(), OPENAI_KEY.into()))
    );
    assert_eq!(resolved(&app, tenant, Provider::Anthropic).await, None);

    // `keys rotate --reencrypt-data` onto a new master key: the key is sealed anew under a new
    // data key, the old data key retired, and the new master key alone resolves it.
    let new_master = "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
    let both = MasterKeys::parse(&format!("{new_master},{MASTER_KEY}")).unwrap();
    let store = app.state.store.clone();
    let rotation = Rotation {
        reencrypt_data: true,
        ..Rotation::default()
    };
    let report = Keyring::new(both, store.clone())
        .rotate(&rotation)
        .await
        .unwrap();
    assert!(
        report.fields_reencrypted >= 1 && report.data_keys_retired >= 1,
        "{report:?}"
    );
    let after = sealed().await;
    assert_ne!(after, before, "re-encrypted");
    let only_new = Keyring::new(MasterKeys::parse(new_master).unwrap(), store.clone());
    let providers = Providers::new(store, Arc::new(only_new), app.state.config.outbound);
    let upstream = providers
        .resolve(tenant, Provider::OpenAi)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(upstream.api_key.expose(), OPENAI_KEY);
    assert!(!format!("{upstream:?}").contains(OPENAI_KEY));
}

/// The gateway keeps resolving, and admins keep setting keys, while a re-encrypting rotation runs:
/// no look-up fails or returns another key, and no write is lost.
async fn keys_resolve_and_set_while_a_rotation_runs(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let providers = app.state.providers.clone();
    let claude = NewProviderKey {
        provider: Provider::Anthropic,
        label: None,
        api_key: SecretString::new(ANTHROPIC_KEY.into()),
        base_url: None,
        allowed_models: None,
    };
    providers.set(tenant, claude, "admin").await.unwrap();
    let body = json!({"provider": "openai", "api_key": OPENAI_KEY});
    keyless(set(&app, &admin, body).await, 201).await;
    let busy = {
        let providers = providers.clone();
        tokio::spawn(async move {
            for round in 0..30 {
                let key = format!("sk-round-{round:02}-0123456789");
                let new = NewProviderKey {
                    provider: Provider::OpenAi,
                    label: None,
                    api_key: SecretString::new(key.clone()),
                    base_url: None,
                    allowed_models: None,
                };
                providers.set(tenant, new, "admin").await.unwrap();
                let got = providers.resolve(tenant, Provider::OpenAi).await.unwrap();
                assert_eq!(got.unwrap().api_key.expose(), &key);
                let other = providers
                    .resolve(tenant, Provider::Anthropic)
                    .await
                    .unwrap();
                assert_eq!(other.unwrap().api_key.expose(), ANTHROPIC_KEY);
            }
        })
    };
    let rotation = Rotation {
        reencrypt_data: true,
        batch_size: 1,
        stop_after: None,
    };
    for _ in 0..3 {
        app.state.keyring.rotate(&rotation).await.unwrap();
    }
    busy.await.unwrap();
    let last = providers.resolve(tenant, Provider::OpenAi).await.unwrap();
    assert_eq!(last.unwrap().api_key.expose(), "sk-round-29-0123456789");
    assert_eq!(
        listed(&app, &admin).await["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

async fn tenants_never_see_or_delete_each_others_keys(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (a, _, admin_a) = tenant_with_admin(&app, "acme").await;
    let (b, _, admin_b) = tenant_with_admin(&app, "globex").await;
    let key = keyless(
        set(
            &app,
            &admin_a,
            json!({"provider": "openai", "api_key": OPENAI_KEY}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(listed(&app, &admin_b).await["items"], json!([]));
    let path = format!("/api/v1/providers/{}", key["id"].as_str().unwrap());
    assert_eq!(delete(&app, &admin_b, &path).await.status(), 404);
    assert_eq!(resolved(&app, b, Provider::OpenAi).await, None);
    // B's own key for the same provider leaves A's alone.
    keyless(
        set(
            &app,
            &admin_b,
            json!({"provider": "openai", "api_key": OPENAI_KEY_2}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        resolved(&app, a, Provider::OpenAi).await.unwrap().1,
        OPENAI_KEY
    );
    assert_eq!(
        resolved(&app, b, Provider::OpenAi).await.unwrap().1,
        OPENAI_KEY_2
    );
    assert_eq!(listed(&app, &admin_a).await["items"][0]["id"], key["id"]);
}

async fn only_administrators_manage_keys(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let key = keyless(
        set(
            &app,
            &admin,
            json!({"provider": "openai", "api_key": OPENAI_KEY}),
        )
        .await,
        201,
    )
    .await;
    let path = format!("/api/v1/providers/{}", key["id"].as_str().unwrap());
    for (email, role) in [
        ("a@acme.example", Role::Auditor),
        ("v@acme.example", Role::Viewer),
    ] {
        user(&app, tenant, email, role).await;
        let token = app.login(email, PASSWORD).await.access_token;
        assert_eq!(app.get_as(&token, "/api/v1/providers").await.status(), 403);
        let body = json!({"provider": "openai", "api_key": OPENAI_KEY_2});
        assert_eq!(set(&app, &token, body).await.status(), 403);
        assert_eq!(delete(&app, &token, &path).await.status(), 403);
    }
    assert_eq!(
        resolved(&app, tenant, Provider::OpenAi).await.unwrap().1,
        OPENAI_KEY
    );
}

async fn base_urls_are_held_to_the_outbound_policy(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let local = json!({"provider": "openai", "api_key": OPENAI_KEY,
        "base_url": "http://127.0.0.1:9/openai"});
    let error = error_of(set(&app, &admin, local.clone()).await).await;
    assert_eq!(error["code"], "validation_failed", "{error}");
    assert_eq!(error["fields"][0]["field"], "base_url", "{error}");
    let message = error["fields"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("base_url") && message.contains(vars::ALLOW_PRIVATE_OUTBOUND),
        "{message}"
    );
    for refused in [
        "https://user:pw@llm.example.com",
        "ftp://llm.example.com",
        "https://llm.example.com/?key=x",
        "not a url",
    ] {
        let body = json!({"provider": "openai", "api_key": OPENAI_KEY, "base_url": refused});
        let response = set(&app, &admin, body).await;
        assert_eq!(response.status(), 422, "{refused}");
    }
    assert_eq!(
        listed(&app, &admin).await["items"],
        json!([]),
        "nothing stored"
    );
    assert_eq!(resolved(&app, tenant, Provider::OpenAi).await, None);

    let app = TestApp::spawn_with(backend, &[(vars::ALLOW_PRIVATE_OUTBOUND, "true")]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let key = keyless(set(&app, &admin, local).await, 201).await;
    assert_eq!(
        (&key["base_url"], &key["custom_base_url"]),
        (&json!("http://127.0.0.1:9/openai"), &json!(true))
    );
    assert_eq!(
        resolved(&app, tenant, Provider::OpenAi).await,
        Some(("http://127.0.0.1:9/openai".into(), OPENAI_KEY.into()))
    );
}

async fn hostile_bodies_are_refused_without_echoing_the_key(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (_, _, admin) = tenant_with_admin(&app, "acme").await;
    let spaced = "sk-proj-has a space-SECRETPART";
    let cases = [
        (json!({"provider": "openai", "api_key": spaced}), "api_key"),
        (json!({"provider": "openai", "api_key": ""}), "api_key"),
        (
            json!({"provider": "openai", "api_key": "k".repeat(513)}),
            "api_key",
        ),
        (
            json!({"provider": "openai", "api_key": "sk-\u{e9}SECRETPART"}),
            "api_key",
        ),
        (
            json!({"provider": "mistral", "api_key": OPENAI_KEY}),
            "provider",
        ),
        (json!({"provider": "openai"}), "api_key"),
        (
            json!({"provider": "openai", "api_key": OPENAI_KEY, "allowed_models": vec!["m"; 201]}),
            "allowed_models",
        ),
        (
            json!({"provider": "openai", "api_key": OPENAI_KEY, "allowed_models": ["ok", "no spaces"]}),
            "allowed_models[1]",
        ),
        (
            json!({"provider": "openai", "api_key": OPENAI_KEY, "tenant_id": "x"}),
            "tenant_id",
        ),
    ];
    for (body, field) in cases {
        let response = set(&app, &admin, body.clone()).await;
        let error = keyless(response, 422).await;
        let text = error.to_string();
        assert!(!text.contains("SECRETPART"), "{text}");
        let fields: Vec<&str> = error["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{body}: {text}");
    }
    assert_eq!(listed(&app, &admin).await["items"], json!([]));
}

on_both_backends!(
    keys_are_set_listed_replaced_and_deleted_but_never_shown,
    the_key_is_sealed_at_rest_and_resolves_after_rotation,
    keys_resolve_and_set_while_a_rotation_runs,
    tenants_never_see_or_delete_each_others_keys,
    only_administrators_manage_keys,
    base_urls_are_held_to_the_outbound_policy,
    hostile_bodies_are_refused_without_echoing_the_key,
);
