//! The identity storage contract on both backends: users unique by e-mail and reachable only in
//! scope, login throttling, single-use TOTP steps and recovery codes, sessions with rotating
//! refresh tokens and reuse detection, API keys, first-run setup, tenant deletion. On PostgreSQL,
//! row-level security is checked directly, as the (non-superuser) application role.

use std::sync::Arc;

use auditpulse::app::Store;
use auditpulse::auth::{ApiScope, Role};
use auditpulse::crypto::{Keyring, Rotation, USER_TOTP_SECRET};
use auditpulse::domain::time::{self, Timestamp};
use auditpulse::domain::{ApiKeyId, SessionId, TenantId, UserId};
use auditpulse::identity::{
    email_key, NewApiKey, NewSession, NewUser, RefreshOutcome, Throttle, UserPatch, SYSTEM_TENANT,
};
use auditpulse::secret::SecretString;
use auditpulse::store::Scope;
use auditpulse::tenants::NewTenant;
use auditpulse::Error;
use chrono::Duration;

use crate::crypto::{master, migrated, tenant};
use crate::helpers::Backend;

fn new_user(tenant: Option<TenantId>, email: &str) -> NewUser {
    NewUser {
        id: UserId::new(),
        tenant_id: tenant,
        email: email.to_owned(),
        display_name: Some(format!("Name of {email}")),
        role: tenant.map(|_| Role::Viewer),
        system_admin: tenant.is_none(),
        password_hash: SecretString::new(format!("$argon2id$v=19$fake-hash-of-{email}")),
        created_at: time::now(),
    }
}

async fn user_in(store: &Arc<dyn Store>, tenant: Option<TenantId>, email: &str) -> UserId {
    store
        .insert_user(&new_user(tenant, email))
        .await
        .unwrap()
        .id
}

fn new_session(user: UserId, tenant: Option<TenantId>, created_at: Timestamp) -> NewSession {
    NewSession {
        id: SessionId::new(),
        user_id: user,
        tenant_id: tenant,
        created_at,
        expires_at: created_at + Duration::hours(12),
        ip: Some("192.0.2.7".to_owned()),
        user_agent: Some("curl/8".to_owned()),
    }
}

fn hash(n: u8) -> [u8; 32] {
    [n; 32]
}

fn new_api_key(tenant: TenantId, public_id: &str) -> NewApiKey {
    NewApiKey {
        id: ApiKeyId::new(),
        tenant_id: tenant,
        public_id: public_id.to_owned(),
        secret_hash: hash(public_id.len() as u8),
        name: format!("key {public_id}"),
        scopes: vec![ApiScope::Read, ApiScope::IngestWrite],
        created_by: None,
        created_at: time::now(),
        expires_at: Some(time::now() + Duration::days(30)),
    }
}

fn system_tenant() -> TenantId {
    SYSTEM_TENANT.parse().unwrap()
}

async fn users_are_unique_by_e_mail_whatever_the_case_and_tenant(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let (a, b) = (tenant(&store, "a").await, tenant(&store, "b").await);
    let alice = store
        .insert_user(&new_user(Some(a), "Alice@Example.com"))
        .await
        .unwrap();
    assert_eq!(
        (
            alice.tenant_id,
            alice.role,
            alice.active,
            alice.totp_enabled
        ),
        (Some(a), Some(Role::Viewer), true, false)
    );
    assert_eq!(alice.email, "Alice@Example.com", "kept as written");
    for (tenant, email) in [
        (Some(b), "  alice@example.COM "),
        (Some(a), "ALICE@EXAMPLE.COM"),
        (None, "alice@example.com"),
    ] {
        match store.insert_user(&new_user(tenant, email)).await {
            Err(Error::Conflict(message)) => {
                assert_eq!(message, "a user with this e-mail already exists")
            }
            other => panic!("{email:?}: expected a conflict, got {other:?}"),
        }
    }
    assert!(store.any_user().await.unwrap());
}

async fn scoped_calls_never_reach_another_tenants_user(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let (a, b) = (tenant(&store, "a").await, tenant(&store, "b").await);
    let alice = user_in(&store, Some(a), "alice@a.example").await;
    let bob = user_in(&store, Some(b), "bob@b.example").await;
    let (in_a, in_b) = (Scope::Tenant(a), Scope::Tenant(b));

    assert!(store.get_user(in_b, alice).await.unwrap().is_none());
    assert_eq!(
        store.get_user(in_a, alice).await.unwrap().unwrap().id,
        alice
    );
    assert_eq!(
        store
            .get_user(Scope::System, alice)
            .await
            .unwrap()
            .unwrap()
            .id,
        alice
    );
    assert!(store.password_hash(in_b, alice).await.unwrap().is_none());
    assert!(store.password_hash(in_a, alice).await.unwrap().is_some());

    let promote = UserPatch {
        role: Some(Role::Admin),
        active: Some(false),
        display_name: Some(None),
    };
    assert!(store
        .update_user(in_b, alice, &promote)
        .await
        .unwrap()
        .is_none());
    let unchanged = store.get_user(in_a, alice).await.unwrap().unwrap();
    assert_eq!(
        (unchanged.role, unchanged.active),
        (Some(Role::Viewer), true)
    );
    let updated = store
        .update_user(in_a, alice, &promote)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (updated.role, updated.active, updated.display_name),
        (Some(Role::Admin), false, None)
    );
    let renamed = store
        .update_user(
            in_a,
            alice,
            &UserPatch {
                display_name: Some(Some("Alice".into())),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            renamed.role,
            renamed.active,
            renamed.display_name.as_deref()
        ),
        (Some(Role::Admin), false, Some("Alice")),
        "None fields stay as they are"
    );

    let new_hash = SecretString::new("$argon2id$new".to_owned());
    assert!(matches!(
        store.set_password_hash(in_b, alice, &new_hash).await,
        Err(Error::NotFound)
    ));
    store
        .set_password_hash(in_a, alice, &new_hash)
        .await
        .unwrap();
    assert_eq!(
        store
            .password_hash(in_a, alice)
            .await
            .unwrap()
            .unwrap()
            .expose(),
        "$argon2id$new"
    );

    assert!(!store.delete_user(in_b, alice).await.unwrap());
    assert!(store.get_user(in_a, alice).await.unwrap().is_some());
    assert!(store.delete_user(in_a, alice).await.unwrap());
    assert!(store
        .get_user(Scope::System, alice)
        .await
        .unwrap()
        .is_none());
    assert!(!store.delete_user(in_a, alice).await.unwrap());
    assert!(store.get_user(in_b, bob).await.unwrap().is_some());
}

async fn users_are_listed_per_tenant_in_creation_order(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let (a, b) = (tenant(&store, "a").await, tenant(&store, "b").await);
    let mut in_a = Vec::new();
    for i in 0..5 {
        in_a.push(user_in(&store, Some(a), &format!("u{i}@a.example")).await);
        user_in(&store, Some(b), &format!("u{i}@b.example")).await;
    }
    user_in(&store, None, "root@example.com").await;
    let all: Vec<UserId> = store
        .list_users(a, None, 100)
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(all, in_a);
    let page: Vec<UserId> = store
        .list_users(a, Some(in_a[1]), 2)
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(page, in_a[2..4]);
}

async fn login_finds_the_account_by_e_mail_key_across_tenants(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let (a, b) = (tenant(&store, "a").await, tenant(&store, "b").await);
    user_in(&store, Some(a), "alice@a.example").await;
    let bob = user_in(&store, Some(b), "Bob@B.example").await;
    let root = user_in(&store, None, "root@example.com").await;
    store.set_tenant_requires_totp(b, true).await.unwrap();

    let record = store
        .login_record(&email_key(" BOB@b.example"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.user.id, bob);
    assert_eq!(record.user.tenant_id, Some(b));
    assert_eq!(
        record.password_hash.expose(),
        "$argon2id$v=19$fake-hash-of-Bob@B.example"
    );
    assert!(record.tenant_requires_totp);

    let record = store
        .login_record("root@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            record.user.id,
            record.user.tenant_id,
            record.user.role,
            record.user.system_admin
        ),
        (root, None, None, true)
    );
    assert!(!record.tenant_requires_totp, "tenantless users: false");
    assert!(store
        .login_record("nobody@example.com")
        .await
        .unwrap()
        .is_none());

    let at = time::now();
    store.record_login(Scope::Tenant(b), bob, at).await.unwrap();
    assert_eq!(
        store
            .get_user(Scope::Tenant(b), bob)
            .await
            .unwrap()
            .unwrap()
            .last_login_at,
        Some(at)
    );
    assert!(matches!(
        store.record_login(Scope::Tenant(a), bob, at).await,
        Err(Error::NotFound)
    ));
}

async fn the_login_throttle_round_trips_and_clears(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let key = "whoever@example.com";
    assert_eq!(store.login_throttle(key).await.unwrap(), None);
    assert!(!store.clear_login_throttle(key).await.unwrap());
    let first = Throttle {
        failures: 3,
        window_start: time::now(),
        lockouts: 0,
        locked_until: None,
    };
    store
        .put_login_throttle(key, &first, time::now())
        .await
        .unwrap();
    assert_eq!(store.login_throttle(key).await.unwrap(), Some(first));
    let locked = Throttle {
        failures: 0,
        window_start: time::now(),
        lockouts: 2,
        locked_until: Some(time::now() + Duration::minutes(15)),
    };
    store
        .put_login_throttle(key, &locked, time::now())
        .await
        .unwrap();
    assert_eq!(store.login_throttle(key).await.unwrap(), Some(locked));
    assert_eq!(
        store.login_throttle("other@example.com").await.unwrap(),
        None
    );
    assert!(store.clear_login_throttle(key).await.unwrap());
    assert_eq!(store.login_throttle(key).await.unwrap(), None);
}

/// A user of a new tenant with a pending TOTP secret sealed by the keyring.
async fn user_with_totp_secret(
    store: &Arc<dyn Store>,
    keyring: &Keyring,
    slug: &str,
) -> (TenantId, UserId) {
    let tenant = tenant(store, slug).await;
    let user = user_in(store, Some(tenant), &format!("u@{slug}.example")).await;
    let sealed = keyring
        .encrypt(
            tenant,
            USER_TOTP_SECRET.row(&user.to_string()),
            b"JBSWY3DPEHPK3PXP",
        )
        .await
        .unwrap();
    assert!(store
        .put_totp_secret(Scope::Tenant(tenant), user, tenant, &sealed, time::now())
        .await
        .unwrap());
    (tenant, user)
}

async fn totp_steps_are_single_use_and_concurrent_uses_have_one_winner(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let keyring = Keyring::new(master(&[("k1", 1)]), store.clone());
    let (a, alice) = user_with_totp_secret(&store, &keyring, "a").await;
    let b = tenant(&store, "b").await;
    let in_a = Scope::Tenant(a);

    let record = store.totp_secret(in_a, alice).await.unwrap().unwrap();
    assert_eq!((record.key_tenant, record.last_step), (a, None));
    let secret = keyring
        .decrypt(
            a,
            USER_TOTP_SECRET.row(&alice.to_string()),
            &record.ciphertext,
        )
        .await
        .unwrap();
    assert_eq!(secret.expose().as_slice(), b"JBSWY3DPEHPK3PXP");
    assert!(store
        .totp_secret(Scope::Tenant(b), alice)
        .await
        .unwrap()
        .is_none());

    assert!(store.use_totp_step(in_a, alice, 1000).await.unwrap());
    assert!(
        !store.use_totp_step(in_a, alice, 1000).await.unwrap(),
        "replay"
    );
    assert!(
        !store.use_totp_step(in_a, alice, 999).await.unwrap(),
        "older"
    );
    assert!(
        !store
            .use_totp_step(Scope::Tenant(b), alice, 1001)
            .await
            .unwrap(),
        "out of scope"
    );
    assert!(store.use_totp_step(in_a, alice, 1001).await.unwrap());
    assert_eq!(
        store
            .totp_secret(in_a, alice)
            .await
            .unwrap()
            .unwrap()
            .last_step,
        Some(1001)
    );

    let racers = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.use_totp_step(in_a, alice, 1002).await.unwrap() })
    });
    let wins = futures_util::future::join_all(racers)
        .await
        .into_iter()
        .filter(|won| *won.as_ref().unwrap())
        .count();
    assert_eq!(wins, 1, "exactly one of the concurrent uses of a step wins");
}

async fn totp_is_enabled_with_single_use_recovery_codes_and_disabled(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let keyring = Keyring::new(master(&[("k1", 1)]), store.clone());
    let (a, alice) = user_with_totp_secret(&store, &keyring, "a").await;
    let b = tenant(&store, "b").await;
    let (in_a, in_b) = (Scope::Tenant(a), Scope::Tenant(b));
    let codes = [hash(1), hash(2), hash(3)];

    assert!(matches!(
        store.enable_totp(in_b, alice, &codes).await,
        Err(Error::NotFound)
    ));
    store.enable_totp(in_a, alice, &codes).await.unwrap();
    assert!(
        store
            .get_user(in_a, alice)
            .await
            .unwrap()
            .unwrap()
            .totp_enabled
    );
    let again = keyring
        .encrypt(a, USER_TOTP_SECRET.row(&alice.to_string()), b"OTHER")
        .await
        .unwrap();
    assert!(
        matches!(
            store
                .put_totp_secret(in_a, alice, a, &again, time::now())
                .await,
            Err(Error::Conflict(_))
        ),
        "no new secret while TOTP is enabled"
    );

    let now = time::now();
    assert!(!store
        .use_recovery_code(in_b, alice, &hash(1), now)
        .await
        .unwrap());
    assert!(store
        .use_recovery_code(in_a, alice, &hash(1), now)
        .await
        .unwrap());
    assert!(
        !store
            .use_recovery_code(in_a, alice, &hash(1), now)
            .await
            .unwrap(),
        "single use"
    );
    assert!(!store
        .use_recovery_code(in_a, alice, &hash(9), now)
        .await
        .unwrap());

    // Enabling again replaces the codes.
    store.enable_totp(in_a, alice, &[hash(4)]).await.unwrap();
    assert!(!store
        .use_recovery_code(in_a, alice, &hash(2), now)
        .await
        .unwrap());
    assert!(store
        .use_recovery_code(in_a, alice, &hash(4), now)
        .await
        .unwrap());

    assert!(matches!(
        store.disable_totp(in_b, alice).await,
        Err(Error::NotFound)
    ));
    store.disable_totp(in_a, alice).await.unwrap();
    assert!(
        !store
            .get_user(in_a, alice)
            .await
            .unwrap()
            .unwrap()
            .totp_enabled
    );
    assert!(store.totp_secret(in_a, alice).await.unwrap().is_none());
    store.enable_totp(in_a, alice, &codes).await.unwrap_err();
    assert!(
        store
            .put_totp_secret(in_a, alice, a, &again, time::now())
            .await
            .unwrap(),
        "a new secret once disabled"
    );
}

async fn a_totp_secret_is_stored_only_under_the_active_key_of_the_right_tenant(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let keyring = Keyring::new(master(&[("k1", 1)]), store.clone());
    let (a, alice) = user_with_totp_secret(&store, &keyring, "a").await;
    let in_a = Scope::Tenant(a);

    // A ciphertext sealed with a data key version the tenant does not have active.
    let mut stale = vec![1, 0, 0, 0, 99];
    stale.extend([0; 28]);
    assert!(!store
        .put_totp_secret(in_a, alice, a, &stale, time::now())
        .await
        .unwrap());

    let b = tenant(&store, "b").await;
    let sealed_for_b = keyring
        .encrypt(b, USER_TOTP_SECRET.row(&alice.to_string()), b"X")
        .await
        .unwrap();
    store
        .put_totp_secret(in_a, alice, b, &sealed_for_b, time::now())
        .await
        .unwrap_err();
    assert!(matches!(
        store
            .put_totp_secret(Scope::Tenant(b), alice, b, &sealed_for_b, time::now())
            .await,
        Err(Error::NotFound)
    ));

    // A global administrator's secret is sealed with the reserved system tenant's key.
    let root = user_in(&store, None, "root@example.com").await;
    let sealed = keyring
        .encrypt(
            system_tenant(),
            USER_TOTP_SECRET.row(&root.to_string()),
            b"ROOT",
        )
        .await
        .unwrap();
    assert!(store
        .put_totp_secret(Scope::System, root, system_tenant(), &sealed, time::now())
        .await
        .unwrap());
    assert_eq!(
        store
            .totp_secret(Scope::System, root)
            .await
            .unwrap()
            .unwrap()
            .key_tenant,
        system_tenant()
    );
    assert!(store.totp_secret(in_a, root).await.unwrap().is_none());
}

async fn key_rotation_reencrypts_totp_secrets_and_keeps_their_keys_until_then(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let old = Keyring::new(master(&[("k1", 1)]), store.clone());
    let (a, alice) = user_with_totp_secret(&store, &old, "a").await;

    // A rotation that stops after making the new data key, before re-encrypting the secret.
    let crash = Rotation {
        reencrypt_data: true,
        batch_size: 10,
        stop_after: Some(1),
    };
    assert!(matches!(old.rotate(&crash).await, Err(Error::Crypto(_))));
    let keys = store.tenant_keys(a).await.unwrap();
    assert_eq!(
        keys.iter()
            .map(|k| (k.version, k.active))
            .collect::<Vec<_>>(),
        [(1, false), (2, true)]
    );
    assert!(
        !store.retire_tenant_key(a, 1).await.unwrap(),
        "a data key that a TOTP secret uses is not retired"
    );
    let status = old.status().await.unwrap();
    let totp = status
        .columns
        .iter()
        .find(|c| c.column == "user_totp.secret_ciphertext")
        .unwrap();
    assert_eq!((totp.under_active_keys, totp.under_older_keys), (0, 1));

    let both = Keyring::new(master(&[("k2", 2), ("k1", 1)]), store.clone());
    let report = both
        .rotate(&Rotation {
            reencrypt_data: true,
            ..Rotation::default()
        })
        .await
        .unwrap();
    assert!(report.fields_reencrypted >= 1, "{report:?}");
    let record = store
        .totp_secret(Scope::Tenant(a), alice)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        &record.ciphertext[..5],
        &[1, 0, 0, 0, 1],
        "not under version 1"
    );
    let secret = both
        .decrypt(
            a,
            USER_TOTP_SECRET.row(&alice.to_string()),
            &record.ciphertext,
        )
        .await
        .unwrap();
    assert_eq!(secret.expose().as_slice(), b"JBSWY3DPEHPK3PXP");
    let status = both.status().await.unwrap();
    let totp = status
        .columns
        .iter()
        .find(|c| c.column == "user_totp.secret_ciphertext")
        .unwrap();
    assert_eq!((totp.under_active_keys, totp.under_older_keys), (1, 0));
    assert!(
        store
            .tenant_keys(a)
            .await
            .unwrap()
            .iter()
            .all(|k| k.version != 1),
        "version 1 is retired once nothing uses it"
    );
}

async fn sessions_are_listed_newest_first_and_ended_in_scope(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let (a, b) = (tenant(&store, "a").await, tenant(&store, "b").await);
    store.set_tenant_requires_totp(a, true).await.unwrap();
    let alice = user_in(&store, Some(a), "alice@a.example").await;
    let other = user_in(&store, Some(a), "other@a.example").await;
    let start = time::now() - Duration::hours(1);
    let mut ids = Vec::new();
    for i in 0..3 {
        let session = new_session(alice, Some(a), start + Duration::minutes(i));
        store
            .insert_session(&session, &hash(10 + i as u8))
            .await
            .unwrap();
        ids.push(session.id);
    }
    let (in_a, in_b) = (Scope::Tenant(a), Scope::Tenant(b));
    let listed: Vec<SessionId> = store
        .list_sessions(in_a, alice)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, [ids[2], ids[1], ids[0]], "newest first");
    assert!(store.list_sessions(in_b, alice).await.unwrap().is_empty());

    let state = store.session_state(ids[0]).await.unwrap().unwrap();
    assert_eq!(state.session.user_id, alice);
    assert_eq!(state.session.tenant_id, Some(a));
    assert_eq!(state.session.ip.as_deref(), Some("192.0.2.7"));
    assert_eq!(state.session.last_seen_at, start);
    assert_eq!(state.user.id, alice);
    assert!(state.tenant_requires_totp);
    let later = time::now();
    store.touch_session(ids[0], later).await.unwrap();
    assert_eq!(
        store
            .session_state(ids[0])
            .await
            .unwrap()
            .unwrap()
            .session
            .last_seen_at,
        later
    );

    let now = time::now();
    assert!(!store
        .end_session(in_b, alice, ids[0], "logout", now)
        .await
        .unwrap());
    assert!(
        !store
            .end_session(in_a, other, ids[0], "logout", now)
            .await
            .unwrap(),
        "only the user's own session"
    );
    assert!(store
        .end_session(in_a, alice, ids[0], "logout", now)
        .await
        .unwrap());
    assert!(!store
        .end_session(in_a, alice, ids[0], "logout", now)
        .await
        .unwrap());
    assert_eq!(
        store
            .session_state(ids[0])
            .await
            .unwrap()
            .unwrap()
            .session
            .ended_at,
        Some(now)
    );
    assert_eq!(store.list_sessions(in_a, alice).await.unwrap().len(), 2);

    assert!(store
        .end_user_sessions(in_b, alice, None, "password_changed", now)
        .await
        .unwrap()
        .is_empty());
    let ended = store
        .end_user_sessions(in_a, alice, Some(ids[2]), "password_changed", now)
        .await
        .unwrap();
    assert_eq!(ended, [ids[1]]);
    let listed: Vec<SessionId> = store
        .list_sessions(in_a, alice)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, [ids[2]]);

    assert!(
        matches!(
            store
                .insert_session(&new_session(alice, Some(b), now), &hash(99))
                .await,
            Err(Error::NotFound)
        ),
        "a session's tenant is its user's"
    );
    let root = user_in(&store, None, "root@example.com").await;
    let session = new_session(root, None, now);
    store.insert_session(&session, &hash(98)).await.unwrap();
    assert_eq!(
        store
            .list_sessions(Scope::System, root)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store.list_sessions(in_a, root).await.unwrap().is_empty());
    assert!(
        !store
            .session_state(session.id)
            .await
            .unwrap()
            .unwrap()
            .tenant_requires_totp
    );
}

async fn a_refresh_token_rotates_once_and_its_reuse_ends_the_session(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let a = tenant(&store, "a").await;
    let alice = user_in(&store, Some(a), "alice@a.example").await;
    let session = new_session(alice, Some(a), time::now() - Duration::minutes(5));
    store.insert_session(&session, &hash(1)).await.unwrap();

    let at = time::now();
    match store.rotate_refresh(&hash(1), &hash(2), at).await.unwrap() {
        RefreshOutcome::Rotated(state) => {
            assert_eq!(state.session.id, session.id);
            assert_eq!(state.session.last_seen_at, at);
            assert_eq!(state.session.ended_at, None);
            assert_eq!(state.user.id, alice);
        }
        other => panic!("expected Rotated, got {other:?}"),
    }
    assert!(matches!(
        store
            .rotate_refresh(&hash(2), &hash(3), time::now())
            .await
            .unwrap(),
        RefreshOutcome::Rotated(_)
    ));
    match store
        .rotate_refresh(&hash(1), &hash(4), time::now())
        .await
        .unwrap()
    {
        RefreshOutcome::Reused(state) => {
            assert_eq!(state.session.id, session.id);
            assert!(state.session.ended_at.is_some(), "the session is ended");
        }
        other => panic!("expected Reused, got {other:?}"),
    }
    assert!(store
        .list_sessions(Scope::Tenant(a), alice)
        .await
        .unwrap()
        .is_empty());
    assert!(
        matches!(
            store
                .rotate_refresh(&hash(3), &hash(5), time::now())
                .await
                .unwrap(),
            RefreshOutcome::Unknown
        ),
        "the current token of an ended session is refused too"
    );
    assert!(matches!(
        store
            .rotate_refresh(&hash(77), &hash(78), time::now())
            .await
            .unwrap(),
        RefreshOutcome::Unknown
    ));
}

async fn concurrent_presentations_of_one_refresh_token_rotate_it_once(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let a = tenant(&store, "a").await;
    let alice = user_in(&store, Some(a), "alice@a.example").await;
    let session = new_session(alice, Some(a), time::now());
    store.insert_session(&session, &hash(1)).await.unwrap();
    let racers = (0..6u8).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .rotate_refresh(&hash(1), &hash(100 + i), time::now())
                .await
                .unwrap()
        })
    });
    let outcomes: Vec<RefreshOutcome> = futures_util::future::join_all(racers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let rotated = outcomes
        .iter()
        .filter(|o| matches!(o, RefreshOutcome::Rotated(_)))
        .count();
    assert_eq!(rotated, 1, "{outcomes:?}");
}

async fn api_keys_are_listed_revoked_and_found_within_their_tenant(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let (a, b) = (tenant(&store, "a").await, tenant(&store, "b").await);
    let alice = user_in(&store, Some(a), "alice@a.example").await;
    let first = store
        .insert_api_key(&NewApiKey {
            created_by: Some(alice),
            ..new_api_key(a, "pubfirst")
        })
        .await
        .unwrap();
    assert_eq!(first.scopes, [ApiScope::Read, ApiScope::IngestWrite]);
    let second = store
        .insert_api_key(&new_api_key(a, "pubsecond"))
        .await
        .unwrap();
    let theirs = store
        .insert_api_key(&new_api_key(b, "pubtheirs"))
        .await
        .unwrap();
    assert!(matches!(
        store.insert_api_key(&new_api_key(b, "pubfirst")).await,
        Err(Error::Conflict(_))
    ));

    assert_eq!(
        store.list_api_keys(a).await.unwrap(),
        [first.clone(), second.clone()]
    );
    assert_eq!(store.list_api_keys(b).await.unwrap(), [theirs]);

    let at = time::now();
    assert!(
        !store.revoke_api_key(b, first.id, at).await.unwrap(),
        "another tenant's key"
    );
    assert!(store.revoke_api_key(a, first.id, at).await.unwrap());
    assert!(!store.revoke_api_key(a, first.id, at).await.unwrap());
    assert_eq!(
        store.list_api_keys(a).await.unwrap(),
        std::slice::from_ref(&second)
    );

    let found = store
        .api_key_by_public_id("pubfirst")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.tenant_id, a);
    assert_eq!(found.key.id, first.id);
    assert_eq!(found.key.revoked_at, Some(at), "found even when revoked");
    assert_eq!(found.secret_hash, hash("pubfirst".len() as u8).to_vec());
    assert!(store.api_key_by_public_id("nope").await.unwrap().is_none());

    let used = time::now();
    store.touch_api_key(second.id, used).await.unwrap();
    let found = store
        .api_key_by_public_id("pubsecond")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.key.last_used_at, Some(used));
    assert_eq!(found.key.expires_at, second.expires_at);

    // The creator's deletion leaves the key.
    assert!(store.delete_user(Scope::Tenant(a), alice).await.unwrap());
    assert!(store
        .api_key_by_public_id("pubfirst")
        .await
        .unwrap()
        .is_some());
}

async fn a_tenant_can_require_totp(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let (a, b) = (tenant(&store, "a").await, tenant(&store, "b").await);
    assert!(!store.tenant_requires_totp(a).await.unwrap());
    store.set_tenant_requires_totp(a, true).await.unwrap();
    assert!(store.tenant_requires_totp(a).await.unwrap());
    assert!(!store.tenant_requires_totp(b).await.unwrap());
    store.set_tenant_requires_totp(a, false).await.unwrap();
    assert!(!store.tenant_requires_totp(a).await.unwrap());
    assert!(matches!(
        store.set_tenant_requires_totp(TenantId::new(), true).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        store.set_tenant_requires_totp(system_tenant(), true).await,
        Err(Error::NotFound)
    ));
}

fn first_tenant() -> NewTenant {
    NewTenant {
        slug: "first".into(),
        name: "First".into(),
    }
}

async fn setup_completes_once_and_only_while_no_user_exists(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    assert!(!store.any_user().await.unwrap());
    let now = time::now();
    store
        .replace_setup_token(&hash(1), now, now + Duration::hours(1))
        .await
        .unwrap();
    store
        .replace_setup_token(&hash(2), now, now + Duration::hours(1))
        .await
        .unwrap();
    let admin = NewUser {
        role: None,
        ..new_user(None, "first@example.com")
    };
    assert!(
        store
            .complete_setup(&hash(1), now, &first_tenant(), &admin)
            .await
            .unwrap()
            .is_none(),
        "a replaced token"
    );
    let (tenant, user) = store
        .complete_setup(&hash(2), now, &first_tenant(), &admin)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tenant.slug, "first");
    assert_eq!(user.tenant_id, Some(tenant.id));
    assert_eq!(user.role, Some(Role::Admin));
    assert!(user.system_admin);
    assert_eq!(store.get_tenant(tenant.id).await.unwrap().unwrap(), tenant);
    assert_eq!(
        store
            .get_user(Scope::Tenant(tenant.id), user.id)
            .await
            .unwrap()
            .unwrap(),
        user
    );
    assert!(store.any_user().await.unwrap());

    let again = NewUser {
        role: None,
        ..new_user(None, "second@example.com")
    };
    assert!(store
        .complete_setup(&hash(2), now, &first_tenant(), &again)
        .await
        .unwrap()
        .is_none());
    store
        .replace_setup_token(&hash(3), now, now + Duration::hours(1))
        .await
        .unwrap();
    assert!(
        store
            .complete_setup(&hash(3), now, &first_tenant(), &again)
            .await
            .unwrap()
            .is_none(),
        "refused once a user exists"
    );
    assert_eq!(store.list_tenants(None, 10).await.unwrap().len(), 1);
}

async fn an_expired_setup_token_changes_nothing(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let created = time::now() - Duration::hours(2);
    store
        .replace_setup_token(&hash(1), created, created + Duration::hours(1))
        .await
        .unwrap();
    let admin = new_user(None, "first@example.com");
    assert!(store
        .complete_setup(&hash(1), time::now(), &first_tenant(), &admin)
        .await
        .unwrap()
        .is_none());
    assert!(!store.any_user().await.unwrap());
    assert!(store.list_tenants(None, 10).await.unwrap().is_empty());
}

async fn deleting_a_tenant_deletes_its_users_sessions_and_keys(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let keyring = Keyring::new(master(&[("k1", 1)]), store.clone());
    let (a, alice) = user_with_totp_secret(&store, &keyring, "a").await;
    let b = tenant(&store, "b").await;
    let bob = user_in(&store, Some(b), "bob@b.example").await;
    let session = new_session(alice, Some(a), time::now());
    store.insert_session(&session, &hash(1)).await.unwrap();
    let bobs = new_session(bob, Some(b), time::now());
    store.insert_session(&bobs, &hash(2)).await.unwrap();
    store
        .insert_api_key(&new_api_key(a, "pubofa"))
        .await
        .unwrap();
    store
        .insert_api_key(&new_api_key(b, "pubofb"))
        .await
        .unwrap();

    assert!(store.delete_tenant(a).await.unwrap());
    assert!(store
        .get_user(Scope::System, alice)
        .await
        .unwrap()
        .is_none());
    assert!(store.login_record("u@a.example").await.unwrap().is_none());
    assert!(store.session_state(session.id).await.unwrap().is_none());
    assert!(matches!(
        store
            .rotate_refresh(&hash(1), &hash(3), time::now())
            .await
            .unwrap(),
        RefreshOutcome::Unknown
    ));
    assert!(store
        .api_key_by_public_id("pubofa")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .totp_secret(Scope::System, alice)
        .await
        .unwrap()
        .is_none());

    assert!(store.get_user(Scope::System, bob).await.unwrap().is_some());
    assert!(store.session_state(bobs.id).await.unwrap().is_some());
    assert!(store
        .api_key_by_public_id("pubofb")
        .await
        .unwrap()
        .is_some());
}

crate::on_both_backends!(
    users_are_unique_by_e_mail_whatever_the_case_and_tenant,
    scoped_calls_never_reach_another_tenants_user,
    users_are_listed_per_tenant_in_creation_order,
    login_finds_the_account_by_e_mail_key_across_tenants,
    the_login_throttle_round_trips_and_clears,
    totp_steps_are_single_use_and_concurrent_uses_have_one_winner,
    totp_is_enabled_with_single_use_recovery_codes_and_disabled,
    a_totp_secret_is_stored_only_under_the_active_key_of_the_right_tenant,
    key_rotation_reencrypts_totp_secrets_and_keeps_their_keys_until_then,
    sessions_are_listed_newest_first_and_ended_in_scope,
    a_refresh_token_rotates_once_and_its_reuse_ends_the_session,
    concurrent_presentations_of_one_refresh_token_rotate_it_once,
    api_keys_are_listed_revoked_and_found_within_their_tenant,
    a_tenant_can_require_totp,
    setup_completes_once_and_only_while_no_user_exists,
    an_expired_setup_token_changes_nothing,
    deleting_a_tenant_deletes_its_users_sessions_and_keys,
);

/// What `SELECT count(*) FROM users` shows the application role with `auditpulse.tenant` as given
/// (`None`: never set on this connection).
async fn users_visible(url: &str, setting: Option<&str>) -> i64 {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(url).await.unwrap();
    if let Some(setting) = setting {
        sqlx::query("SELECT set_config('auditpulse.tenant', $1, false)")
            .bind(setting)
            .execute(&mut c)
            .await
            .unwrap();
    }
    sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&mut c)
        .await
        .unwrap()
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set AUDITPULSE_TEST_POSTGRES_URL to run on PostgreSQL"
)]
async fn row_level_security_shows_the_application_role_only_its_tenant() {
    use sqlx::Connection;
    let (db, store) = migrated(Backend::Postgres).await;
    let (a, b) = (tenant(&store, "a").await, tenant(&store, "b").await);
    user_in(&store, Some(a), "a1@a.example").await;
    user_in(&store, Some(a), "a2@a.example").await;
    user_in(&store, Some(b), "b1@b.example").await;
    user_in(&store, None, "root@example.com").await;

    let mut app = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let (user, bypasses): (String, bool) = sqlx::query_as(
        "SELECT current_user::text, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(&mut app)
    .await
    .unwrap();
    assert_eq!(user, crate::helpers::PG_APP_ROLE);
    assert!(
        !bypasses,
        "the test role must not bypass row-level security"
    );
    assert!(!store.bypasses_row_security().await.unwrap());

    // No WHERE clause: the policy alone decides.
    assert_eq!(users_visible(&db.url, Some(&a.to_string())).await, 2);
    assert_eq!(users_visible(&db.url, Some(&b.to_string())).await, 1);
    assert_eq!(users_visible(&db.url, None).await, 0, "unset: no rows");
    assert_eq!(users_visible(&db.url, Some("")).await, 0);
    assert_eq!(users_visible(&db.url, Some("*")).await, 4);

    sqlx::query("SELECT set_config('auditpulse.tenant', $1, false)")
        .bind(a.to_string())
        .execute(&mut app)
        .await
        .unwrap();
    let foreign = sqlx::query(
        "INSERT INTO users (id, tenant_id, email, email_key, role, system_admin, active, \
         password_hash, created_at) \
         VALUES ($1, $2, 'x@b.example', 'x@b.example', 'viewer', FALSE, TRUE, 'h', now())",
    )
    .bind(UserId::new().as_uuid())
    .bind(b.as_uuid())
    .execute(&mut app)
    .await
    .unwrap_err();
    assert!(
        foreign.to_string().contains("row-level security"),
        "{foreign}"
    );
    let moved = sqlx::query("UPDATE users SET tenant_id = $1")
        .bind(b.as_uuid())
        .execute(&mut app)
        .await
        .unwrap_err();
    assert!(moved.to_string().contains("row-level security"), "{moved}");
    let deleted = sqlx::query("DELETE FROM users")
        .execute(&mut app)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(deleted, 2, "only tenant A's rows are reachable");
    assert_eq!(users_visible(&db.url, Some("*")).await, 2);

    // The administrator (a superuser) bypasses it: exactly what production refuses.
    let admin = auditpulse::app::connect(
        &auditpulse::config::DatabaseUrl::parse(&db.pg_admin_url().unwrap()).unwrap(),
        1,
    )
    .await
    .unwrap();
    assert!(admin.bypasses_row_security().await.unwrap());
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set AUDITPULSE_TEST_POSTGRES_URL to run on PostgreSQL"
)]
async fn production_refuses_a_role_that_bypasses_row_level_security() {
    use auditpulse::config::vars;
    let db = crate::helpers::TestDb::new(Backend::Postgres).await;
    let admin_url = db.pg_admin_url().unwrap();
    let production = [
        (vars::ENV, "production"),
        (vars::TRUSTED_PROXIES, "127.0.0.1/32"),
        (vars::DATABASE_URL, admin_url.as_str()),
    ];
    let config = crate::helpers::test_config(&db, &production);
    let error = auditpulse::Application::build(config)
        .await
        .err()
        .expect("production refuses a superuser");
    let message = error.to_string();
    assert!(
        message.contains("superuser or has BYPASSRLS")
            && message.contains("connect as an ordinary role"),
        "{message}"
    );
    assert!(!message.contains('\n'), "one line: {message}");

    // The application role passes in production (and migrates, owning the schema); as the
    // superuser, development starts with a warning.
    let config = crate::helpers::test_config(&db, &production[..2]);
    drop(auditpulse::Application::build(config).await.unwrap());
    let development = [(vars::DATABASE_URL, admin_url.as_str())];
    auditpulse::Application::build(crate::helpers::test_config(&db, &development))
        .await
        .unwrap();
}
