//! The audit trail's storage contract on both backends: chaining, append-only triggers, tamper
//! detection by `verify` (and by the real `auditpulse audit verify`), concurrent writers, retention.

use std::process::Command;
use std::sync::Arc;

use auditpulse::app::{connect, Store};
use auditpulse::audit::AuditQuery;
use auditpulse::audit::{self, retention, ActorKind, AuditLog, NewAuditEvent, Outcome, Verdict};
use auditpulse::config::{DatabaseUrl, MasterKeys};
use auditpulse::store::Scope;
use serde_json::json;
use sqlx::Connection;

use crate::helpers::{Backend, TestDb, MASTER_KEY, TENANT_A};
use crate::storage::raw_execute;

async fn migrated(backend: Backend) -> (TestDb, Arc<dyn Store>) {
    let db = TestDb::migrated(backend).await;
    let store = connect(&DatabaseUrl::parse(&db.url).unwrap(), 5)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    (db, store)
}

fn keys() -> MasterKeys {
    MasterKeys::parse(MASTER_KEY).unwrap()
}

fn event(i: usize) -> NewAuditEvent {
    NewAuditEvent::new(
        ActorKind::User,
        Some(format!("user-{}", i % 3)),
        "auth.login",
    )
    .outcome(if i.is_multiple_of(2) {
        Outcome::Success
    } else {
        Outcome::Failure
    })
    .source(Some("192.0.2.1".into()), Some("curl/8".into()))
    .details(json!({"attempt": i}))
}

/// A fresh database holding `count` chained events.
async fn with_events(backend: Backend, count: usize) -> (TestDb, Arc<dyn Store>) {
    let (db, store) = migrated(backend).await;
    let events: Vec<_> = (0..count).map(event).collect();
    let seqs = store.append_audit(&events).await.unwrap();
    assert_eq!(seqs, (1..=count as i64).collect::<Vec<_>>());
    (db, store)
}

async fn verdict(store: &Arc<dyn Store>) -> Verdict {
    audit::verify(store.as_ref(), Some(&keys())).await.unwrap()
}

/// Drops the append-only triggers, as an attacker with database access could.
async fn drop_triggers(backend: Backend, url: &str) {
    let statements: &[&str] = match backend {
        Backend::Sqlite => &[
            "DROP TRIGGER audit_events_no_update",
            "DROP TRIGGER audit_events_no_delete",
        ],
        Backend::Postgres => &["DROP TRIGGER audit_events_append_only ON audit_events"],
    };
    for sql in statements {
        raw_execute(backend, url, sql).await;
    }
}

/// Runs `sql` beside the store and returns the database's error message, if it refused.
async fn try_execute(backend: Backend, url: &str, sql: &str) -> Option<String> {
    let result = match backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.map(|_| ())
        }
        Backend::Postgres => {
            let mut c = crate::storage::pg_as_system(url).await;
            sqlx::query(sql).execute(&mut c).await.map(|_| ())
        }
    };
    result.err().map(|e| e.to_string())
}

async fn appended_events_form_an_intact_chain(backend: Backend) {
    let (_db, store) = with_events(backend, 5).await;
    let more = store.append_audit(&[event(5), event(6)]).await.unwrap();
    assert_eq!(more, vec![6, 7]);
    let page = store.audit_chain_page(0, 100).await.unwrap();
    assert_eq!(page.len(), 7);
    assert_eq!(page[0].prev_hash, [0; 32]);
    assert_eq!(page[5].prev_hash, page[4].hash);
    assert_eq!(page[2].details_json, r#"{"attempt":2}"#);
    assert_eq!(page[2].user_agent.as_deref(), Some("curl/8"));
    assert_eq!(store.audit_head().await.unwrap(), (7, page[6].hash));
    assert_eq!(
        verdict(&store).await,
        Verdict::Intact {
            events: 7,
            checkpoint: None,
            last: 7
        }
    );
}

async fn the_database_refuses_to_update_or_delete_audit_rows(backend: Backend) {
    let (db, store) = with_events(backend, 3).await;
    for sql in [
        "UPDATE audit_events SET action = 'forged' WHERE seq = 2",
        "DELETE FROM audit_events WHERE seq = 3",
        "DELETE FROM audit_events",
    ] {
        let error = try_execute(backend, &db.url, sql)
            .await
            .unwrap_or_else(|| panic!("{sql} was allowed"));
        assert!(error.contains("append-only"), "{sql}: {error}");
    }
    if backend == Backend::Postgres {
        let error = try_execute(backend, &db.url, "TRUNCATE audit_events").await;
        assert!(error.unwrap().contains("append-only"));
    }
    let cp = retention::prune_once(
        store.as_ref(),
        &AuditLog::start(store.clone()),
        keys().active(),
        1,
    )
    .await
    .unwrap();
    assert!(cp.is_none(), "nothing is old enough to prune");
    assert_eq!(store.audit_chain_page(0, 10).await.unwrap().len(), 3);
}

async fn changed_content_is_named_by_verify(backend: Backend) {
    let (db, store) = with_events(backend, 5).await;
    drop_triggers(backend, &db.url).await;
    raw_execute(
        backend,
        &db.url,
        "UPDATE audit_events SET details = '{\"attempt\":99}' WHERE seq = 3",
    )
    .await;
    match verdict(&store).await {
        Verdict::Broken { seq, reason } => {
            assert_eq!(seq, 3);
            assert!(reason.contains("content was changed"), "{reason}");
        }
        other => panic!("tampering went unnoticed: {other:?}"),
    }
}

async fn reordered_events_are_named_by_verify(backend: Backend) {
    let (db, store) = with_events(backend, 5).await;
    drop_triggers(backend, &db.url).await;
    for sql in [
        "UPDATE audit_events SET seq = -2 WHERE seq = 2",
        "UPDATE audit_events SET seq = 2 WHERE seq = 3",
        "UPDATE audit_events SET seq = 3 WHERE seq = -2",
    ] {
        raw_execute(backend, &db.url, sql).await;
    }
    match verdict(&store).await {
        Verdict::Broken { seq, reason } => {
            assert_eq!(seq, 2);
            assert!(reason.contains("reordered"), "{reason}");
        }
        other => panic!("reordering went unnoticed: {other:?}"),
    }
}

async fn deleting_any_event_is_named_by_verify(backend: Backend) {
    for deleted in [1, 3, 5] {
        let (db, store) = with_events(backend, 5).await;
        drop_triggers(backend, &db.url).await;
        raw_execute(
            backend,
            &db.url,
            &format!("DELETE FROM audit_events WHERE seq = {deleted}"),
        )
        .await;
        match verdict(&store).await {
            Verdict::Broken { seq, reason } => {
                assert!(
                    reason.contains(&format!("event {deleted} is missing")),
                    "{reason}"
                );
                assert!(seq >= deleted);
            }
            other => panic!("deleting event {deleted} went unnoticed: {other:?}"),
        }
    }
}

async fn concurrent_writers_in_two_instances_keep_one_contiguous_chain(backend: Backend) {
    let (db, first) = migrated(backend).await;
    let second = connect(&DatabaseUrl::parse(&db.url).unwrap(), 5)
        .await
        .unwrap();
    let logs = [AuditLog::start(first.clone()), AuditLog::start(second)];
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let log = logs[writer % 2].clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..200 {
                seqs.push(log.append(event(writer * 1000 + i)).await.unwrap());
            }
            seqs
        }));
    }
    let mut seqs: Vec<i64> = Vec::new();
    for task in tasks {
        let mine = task.await.unwrap();
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "one writer's events stay in order"
        );
        seqs.extend(mine);
    }
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=1600).collect::<Vec<i64>>(),
        "contiguous, none lost or doubled"
    );
    assert_eq!(
        verdict(&first).await,
        Verdict::Intact {
            events: 1600,
            checkpoint: None,
            last: 1600
        }
    );
}

async fn retention_prunes_only_a_whole_old_prefix_and_verify_still_passes(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let old = auditpulse::domain::time::now() - chrono::Duration::days(500);
    let mut events: Vec<NewAuditEvent> = (0..8).map(event).collect();
    for (i, e) in events.iter_mut().enumerate() {
        // Events 1-4 are old, 5-7 recent, and 8 old again (a clock step back): only 1-4 may go.
        if i < 4 || i == 7 {
            e.at = old;
        }
    }
    store.append_audit(&events).await.unwrap();
    let log = AuditLog::start(store.clone());
    let cp = retention::prune_once(store.as_ref(), &log, keys().active(), 400)
        .await
        .unwrap()
        .expect("an old prefix was pruned");
    assert_eq!((cp.seq, cp.key_id.as_str()), (4, "t1"));
    let kept: Vec<i64> = store
        .audit_chain_page(0, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(
        kept,
        vec![5, 6, 7, 8, 9],
        "event 9 records the prune itself"
    );
    let last = store.audit_chain_page(8, 1).await.unwrap();
    assert_eq!(last[0].action, "audit.prune");
    assert_eq!(
        verdict(&store).await,
        Verdict::Intact {
            events: 5,
            checkpoint: Some(4),
            last: 9
        }
    );
    // Pruning again finds nothing more to remove; verification still starts at the checkpoint.
    assert!(
        retention::prune_once(store.as_ref(), &log, keys().active(), 400)
            .await
            .unwrap()
            .is_none()
    );
    // Without the master keys, or with other keys, the checkpoint is not trusted.
    match audit::verify(store.as_ref(), None).await.unwrap() {
        Verdict::Broken { seq: 5, reason } => assert!(reason.contains("master keys"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let other = MasterKeys::parse("zz:HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=").unwrap();
    assert!(matches!(
        audit::verify(store.as_ref(), Some(&other)).await.unwrap(),
        Verdict::Broken { seq: 5, .. }
    ));
}

async fn checkpoints_are_append_only_too(backend: Backend) {
    let (db, store) = migrated(backend).await;
    let mut old = event(0);
    old.at = auditpulse::domain::time::now() - chrono::Duration::days(30);
    store.append_audit(&[old, event(1)]).await.unwrap();
    store
        .prune_audit(
            auditpulse::domain::time::now() - chrono::Duration::days(1),
            keys().active(),
        )
        .await
        .unwrap()
        .unwrap();
    for sql in [
        "UPDATE audit_checkpoints SET seq = 0",
        "DELETE FROM audit_checkpoints",
    ] {
        let error = try_execute(backend, &db.url, sql).await;
        assert!(error.is_some_and(|e| e.contains("append-only")), "{sql}");
    }
}

async fn queries_filter_and_scope_by_tenant(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let tenant = TENANT_A.parse().unwrap();
    let events = vec![
        event(0).tenant(Some(tenant)),
        event(1),
        NewAuditEvent::new(ActorKind::System, None, "audit.prune").tenant(Some(tenant)),
    ];
    store.append_audit(&events).await.unwrap();
    let all = AuditQuery {
        scope: Scope::System,
        from: None,
        to: None,
        actor_id: None,
        action: None,
        outcome: None,
        after: None,
        limit: 10,
    };
    let seqs = |events: Vec<audit::AuditEvent>| events.iter().map(|e| e.seq).collect::<Vec<_>>();
    assert_eq!(seqs(store.query_audit(&all).await.unwrap()), vec![1, 2, 3]);
    let scoped = AuditQuery {
        scope: Scope::Tenant(tenant),
        ..all.clone()
    };
    assert_eq!(seqs(store.query_audit(&scoped).await.unwrap()), vec![1, 3]);
    let failures = AuditQuery {
        outcome: Some(Outcome::Failure),
        ..all.clone()
    };
    assert_eq!(seqs(store.query_audit(&failures).await.unwrap()), vec![2]);
    let after = AuditQuery {
        after: Some(1),
        limit: 1,
        ..all.clone()
    };
    assert_eq!(seqs(store.query_audit(&after).await.unwrap()), vec![2]);
}

/// `auditpulse audit verify` as an operator runs it.
fn run_verify(url: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_auditpulse"))
        .args(["audit", "verify"])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .env("AUDITPULSE_MASTER_KEYS", MASTER_KEY)
        .env("LOG_LEVEL", "warn")
        .output()
        .expect("the binary runs")
}

async fn the_verify_command_exits_0_when_intact_and_1_naming_the_first_bad_event(backend: Backend) {
    let (db, _store) = with_events(backend, 5).await;
    let url = db.url.clone();
    let out = tokio::task::spawn_blocking(move || run_verify(&url))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout,
        "audit trail intact: 5 events verified, through event 5\n"
    );

    drop_triggers(backend, &db.url).await;
    raw_execute(
        backend,
        &db.url,
        "UPDATE audit_events SET actor_id = 'someone-else' WHERE seq = 2",
    )
    .await;
    raw_execute(backend, &db.url, "DELETE FROM audit_events WHERE seq = 4").await;
    let url = db.url.clone();
    let out = tokio::task::spawn_blocking(move || run_verify(&url))
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr,
        "error: audit trail broken at event 2: event 2 does not match its hash: its content was changed\n"
    );
}

crate::on_both_backends!(
    appended_events_form_an_intact_chain,
    the_database_refuses_to_update_or_delete_audit_rows,
    changed_content_is_named_by_verify,
    reordered_events_are_named_by_verify,
    deleting_any_event_is_named_by_verify,
    concurrent_writers_in_two_instances_keep_one_contiguous_chain,
    retention_prunes_only_a_whole_old_prefix_and_verify_still_passes,
    checkpoints_are_append_only_too,
    queries_filter_and_scope_by_tenant,
    the_verify_command_exits_0_when_intact_and_1_naming_the_first_bad_event,
);
