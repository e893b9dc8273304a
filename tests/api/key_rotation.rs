//! Key rotation, on both backends: master keys are re-wrapped online and can then be retired,
//! `--reencrypt-data` survives a crash halfway and finishes on the next run, the store keeps
//! serving meanwhile, and the `keys` commands report it all with the right exit codes.

use std::sync::Arc;

use auditpulse::audit::AuditQuery;
use auditpulse::crypto::{Keyring, Rotation};
use auditpulse::store::Scope;
use auditpulse::Error;
use base64::Engine;

use crate::crypto::{master, migrated, raw_count, tenant, value, TOKEN};
use crate::helpers::Backend;

async fn rotation_moves_every_key_to_the_new_master_key_which_then_suffices(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let old = Keyring::new(master(&[("k1", 1)]), store.clone());
    let mut tenants = Vec::new();
    for i in 0..3 {
        let id = tenant(&store, &format!("t{i}")).await;
        old.secrets(id)
            .put("token", format!("value-{i}").as_bytes())
            .await
            .unwrap();
        tenants.push(id);
    }
    let both = Keyring::new(master(&[("k2", 2), ("k1", 1)]), store.clone());
    let status = both.status().await.unwrap();
    assert_eq!(
        (
            status.master_keys[0].id.as_str(),
            status.master_keys[0].data_keys
        ),
        ("k2", 0)
    );
    assert_eq!(
        (
            status.master_keys[1].id.as_str(),
            status.master_keys[1].data_keys
        ),
        ("k1", 3)
    );

    let report = both.rotate(&Rotation::default()).await.unwrap();
    assert_eq!(report.rewrapped, 3);
    assert_eq!(
        both.rotate(&Rotation::default()).await.unwrap().rewrapped,
        0,
        "idempotent"
    );
    let status = both.status().await.unwrap();
    assert_eq!(status.master_keys[0].data_keys, 3);
    assert_eq!(status.master_keys[1].data_keys, 0);
    assert_eq!(status.columns[0].under_active_keys, 3);

    let retired = Keyring::new(master(&[("k2", 2)]), store.clone());
    for (i, id) in tenants.iter().enumerate() {
        assert_eq!(
            value(&retired, *id, "token").await,
            format!("value-{i}").as_bytes()
        );
    }
    let only_old = Keyring::new(master(&[("k1", 1)]), store.clone());
    let error = only_old.secrets(tenants[0]).get("token").await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("\"k2\", which is not in AUDITPULSE_MASTER_KEYS"),
        "{error}"
    );
}

async fn reencryption_interrupted_halfway_finishes_on_the_next_run(backend: Backend) {
    let (db, store) = migrated(backend).await;
    let old = Keyring::new(master(&[("k1", 1)]), store.clone());
    let mut tenants = Vec::new();
    for t in 0..2 {
        let id = tenant(&store, &format!("t{t}")).await;
        for s in 0..5 {
            old.secrets(id)
                .put(&format!("s{s}"), format!("{t}-{s}").as_bytes())
                .await
                .unwrap();
        }
        tenants.push(id);
    }
    let stale = store.get_secret(tenants[0], "s0").await.unwrap().unwrap();
    let both = Keyring::new(master(&[("k2", 2), ("k1", 1)]), store.clone());
    let crash = Rotation {
        reencrypt_data: true,
        batch_size: 2,
        stop_after: Some(2 + 1 + 3),
    };
    assert!(
        matches!(both.rotate(&crash).await, Err(Error::Crypto(_))),
        "the simulated crash"
    );
    let halfway = both.status().await.unwrap();
    assert_eq!(halfway.older_data_keys, 1, "{halfway:?}");
    assert!(halfway.columns[0].under_older_keys > 0, "{halfway:?}");
    for (t, id) in tenants.iter().enumerate() {
        assert_eq!(
            value(&both, *id, "s4").await,
            format!("{t}-4").as_bytes(),
            "usable halfway"
        );
    }

    let resumed = Rotation {
        reencrypt_data: true,
        batch_size: 2,
        stop_after: None,
    };
    let report = both.rotate(&resumed).await.unwrap();
    assert_eq!(report.data_keys_retired, 2, "{report:?}");
    let done = both.status().await.unwrap();
    assert_eq!(
        (done.older_data_keys, done.columns[0].under_older_keys),
        (0, 0),
        "{done:?}"
    );
    assert_eq!(done.columns[0].under_active_keys, 10);
    assert_eq!(
        raw_count(backend, &db.url, "SELECT COUNT(*) FROM tenant_keys").await,
        2
    );
    assert!(
        !store.put_secret(tenants[0], "s0", &stale).await.unwrap(),
        "a write sealed with a retired data key is refused"
    );

    let retired = Keyring::new(master(&[("k2", 2)]), store.clone());
    for (t, id) in tenants.iter().enumerate() {
        for s in 0..5 {
            assert_eq!(
                value(&retired, *id, &format!("s{s}")).await,
                format!("{t}-{s}").as_bytes()
            );
        }
    }
}

async fn rotation_runs_while_the_store_keeps_serving(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let old = Keyring::new(master(&[("k1", 1)]), store.clone());
    let acme = tenant(&store, "acme").await;
    for s in 0..20 {
        old.secrets(acme)
            .put(&format!("s{s:02}"), b"before")
            .await
            .unwrap();
    }
    let serving = Arc::new(Keyring::new(master(&[("k2", 2), ("k1", 1)]), store.clone()));
    let writer = {
        let keyring = serving.clone();
        tokio::spawn(async move {
            for round in 0..40 {
                let name = format!("s{:02}", round % 20);
                keyring
                    .secrets(acme)
                    .put(&name, format!("during-{round}").as_bytes())
                    .await
                    .unwrap();
                keyring.secrets(acme).get(&name).await.unwrap().unwrap();
            }
        })
    };
    let options = Rotation {
        reencrypt_data: true,
        batch_size: 3,
        stop_after: None,
    };
    serving.rotate(&options).await.unwrap();
    writer.await.unwrap();
    // A write that raced the last batch may have kept an old key alive; a rerun finishes it.
    if serving.status().await.unwrap().older_data_keys > 0 {
        serving.rotate(&options).await.unwrap();
    }
    let retired = Keyring::new(master(&[("k2", 2)]), store.clone());
    for s in 0..20 {
        let got = value(&retired, acme, &format!("s{s:02}")).await;
        assert!(
            got.starts_with(b"during-"),
            "{}",
            String::from_utf8_lossy(&got)
        );
    }
}

crate::on_both_backends!(
    rotation_moves_every_key_to_the_new_master_key_which_then_suffices,
    reencryption_interrupted_halfway_finishes_on_the_next_run,
    rotation_runs_while_the_store_keeps_serving,
);

/// `auditpulse keys status` and `keys rotate` as an operator runs them, on SQLite.
#[tokio::test]
async fn the_keys_commands_rotate_and_report_with_exit_codes() {
    let (db, store) = migrated(Backend::Sqlite).await;
    let old = Keyring::new(master(&[("k1", 1)]), store.clone());
    let acme = tenant(&store, "acme").await;
    old.secrets(acme).put("plaid", TOKEN).await.unwrap();
    let keys = |spec: &[(&str, u8)]| {
        let entries: Vec<String> = spec
            .iter()
            .map(|(id, b)| {
                let key = base64::engine::general_purpose::STANDARD.encode([*b; 32]);
                format!("{id}:{key}")
            })
            .collect();
        entries.join(",")
    };
    let run = |args: &[&str], master_keys: String| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditpulse"))
            .args(args)
            .current_dir(db.dir.path())
            .env_clear()
            .env("DATABASE_URL", &db.url)
            .env("AUDITPULSE_MASTER_KEYS", master_keys)
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let both = keys(&[("k2", 2), ("k1", 1)]);
    let (code, out, _) = run(&["keys", "status"], both.clone());
    assert_eq!(code, Some(0));
    assert!(
        out.contains("master key k1: wraps 1 tenant data key(s) (still in use"),
        "{out}"
    );
    assert!(
        out.contains("tenant_secrets.value_ciphertext: 1 field(s) under active"),
        "{out}"
    );

    let (code, out, err) = run(&["keys", "rotate"], both);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "re-wrapped 1 tenant data key(s) under master key k2\n");

    let (code, out, _) = run(&["keys", "status"], keys(&[("k2", 2)]));
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with("master key k2: wraps 1 tenant data key(s) (active)\n"),
        "{out}"
    );
    let (code, _, err) = run(&["keys", "rotate"], keys(&[("k1", 1)]));
    assert_eq!(code, Some(1));
    assert!(
        err.contains("\"k2\", which is not in AUDITPULSE_MASTER_KEYS"),
        "{err}"
    );
    assert!(
        !err.contains("AQEBAQEB") && !err.contains("AgICAgIC"),
        "no key material: {err}"
    );
    let retired = Keyring::new(master(&[("k2", 2)]), store.clone());
    assert_eq!(value(&retired, acme, "plaid").await, TOKEN);

    // The successful rotation is in the audit trail, by the operator, naming the new master key.
    let query = AuditQuery {
        scope: Scope::System,
        from: None,
        to: None,
        actor_id: None,
        action: Some("keys.rotate".into()),
        outcome: None,
        after: None,
        limit: 10,
    };
    let recorded = store.query_audit(&query).await.unwrap();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].actor_kind, auditpulse::audit::ActorKind::System);
    assert_eq!(recorded[0].target_id.as_deref(), Some("k2"));
    assert_eq!(recorded[0].details["rewrapped"], 1);
}
