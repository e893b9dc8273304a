//! The job queue's storage contract on both backends: concurrent claims never share a job, an
//! expired lease is retaken (and the old attempt can no longer record an outcome), backoff grows
//! to its cap and ends in `dead`, deduplication holds, listing keeps to its scope.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use auditpulse::app::{connect, Store};
use auditpulse::config::DatabaseUrl;
use auditpulse::jobs::{Backoff, Dedup, JobCount, JobFilter, JobState, NewJob};
use auditpulse::store::Scope;
use serde_json::json;

use crate::crypto::{migrated, tenant};
use crate::helpers::Backend;

const LEASE: Duration = Duration::from_secs(60);

fn all(limit: u32) -> JobFilter {
    JobFilter {
        limit,
        ..JobFilter::default()
    }
}

async fn concurrent_claims_never_share_a_job(backend: Backend) {
    let (db, first) = migrated(backend).await;
    let second = connect(&DatabaseUrl::parse(&db.url).unwrap(), 5)
        .await
        .unwrap();
    for i in 0..40 {
        let job = NewJob::new("test.many", json!({ "i": i }));
        first.enqueue_job(&job).await.unwrap().unwrap();
    }
    let mut workers = Vec::new();
    for worker in 0..6 {
        let store: Arc<dyn Store> = if worker % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        workers.push(tokio::spawn(async move {
            let mut claimed = Vec::new();
            while let Some(job) = store.claim_job(&["test.many"], LEASE).await.unwrap() {
                assert!(store.complete_job(&job).await.unwrap());
                claimed.push(job.id);
            }
            claimed
        }));
    }
    let mut ids = Vec::new();
    for worker in workers {
        ids.extend(worker.await.unwrap());
    }
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(ids.len(), 40, "every job claimed exactly once");
    assert_eq!(unique.len(), 40, "no job claimed twice");
    let counts = first.count_jobs().await.unwrap();
    assert_eq!(
        counts,
        [JobCount {
            kind: "test.many".into(),
            state: JobState::Succeeded,
            count: 40
        }]
    );
}

async fn an_expired_lease_is_retaken_and_the_old_attempt_is_fenced(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let id = store
        .enqueue_job(&NewJob::new("test.lease", json!({})))
        .await
        .unwrap()
        .unwrap();
    assert!(store.claim_job(&["other"], LEASE).await.unwrap().is_none());
    let crashed = store
        .claim_job(&["test.lease"], Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((crashed.id, crashed.attempts), (id, 1));
    assert_eq!(crashed.state, JobState::Running);
    let retaken = store
        .claim_job(&["test.lease"], LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((retaken.id, retaken.attempts), (id, 2));
    assert!(store
        .claim_job(&["test.lease"], LEASE)
        .await
        .unwrap()
        .is_none());
    assert!(!store.complete_job(&crashed).await.unwrap());
    let stale = store.fail_job(&crashed, "late", Backoff::default()).await;
    assert_eq!(stale.unwrap(), None);
    assert!(store.complete_job(&retaken).await.unwrap());
    let jobs = store.list_jobs(Scope::System, &all(10)).await.unwrap();
    assert_eq!(jobs[0].state, JobState::Succeeded);
    assert_eq!(jobs[0].locked_until, None);
}

async fn a_lease_lost_on_the_last_attempt_is_dead(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let job = NewJob::new("test.crash", json!({})).max_attempts(1);
    store.enqueue_job(&job).await.unwrap().unwrap();
    store
        .claim_job(&["test.crash"], Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    assert!(store
        .claim_job(&["test.crash"], LEASE)
        .await
        .unwrap()
        .is_none());
    let jobs = store.list_jobs(Scope::System, &all(10)).await.unwrap();
    assert_eq!(jobs[0].state, JobState::Dead);
}

async fn backoff_grows_to_its_cap_then_the_job_is_dead(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let backoff = Backoff {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(40),
    };
    let job = NewJob::new("test.flaky", json!({})).max_attempts(5);
    store.enqueue_job(&job).await.unwrap().unwrap();
    let mut delays = Vec::new();
    for attempt in 1..=5u32 {
        let claimed = loop {
            match store.claim_job(&["test.flaky"], LEASE).await.unwrap() {
                Some(job) => break job,
                None => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        };
        assert_eq!(claimed.attempts, attempt);
        let secret = "upstream said: Authorization: Bearer abc.def.ghi";
        let state = store.fail_job(&claimed, secret, backoff).await.unwrap();
        let stored = &store.list_jobs(Scope::System, &all(1)).await.unwrap()[0];
        assert_eq!(Some(stored.state), state);
        assert!(!stored
            .last_error
            .as_deref()
            .unwrap()
            .contains("abc.def.ghi"));
        if state == Some(JobState::Failed) {
            delays.push((stored.run_at - stored.updated_at).num_milliseconds());
        }
    }
    assert_eq!(delays, [10, 20, 40, 40]);
    let stored = &store.list_jobs(Scope::System, &all(1)).await.unwrap()[0];
    assert_eq!(stored.state, JobState::Dead);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(store
        .claim_job(&["test.flaky"], LEASE)
        .await
        .unwrap()
        .is_none());
}

async fn dedup_keys_hold_while_pending_or_once(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let sync = || NewJob::new("test.sync", json!({})).dedup(Dedup::Pending("item:1".into()));
    assert!(store.enqueue_job(&sync()).await.unwrap().is_some());
    assert!(store.enqueue_job(&sync()).await.unwrap().is_none());
    let running = store
        .claim_job(&["test.sync"], LEASE)
        .await
        .unwrap()
        .unwrap();
    assert!(store.enqueue_job(&sync()).await.unwrap().is_none());
    store.complete_job(&running).await.unwrap();
    assert!(store.enqueue_job(&sync()).await.unwrap().is_some());

    let period = || NewJob::new("test.tick", json!({})).dedup(Dedup::Once("tick:7".into()));
    assert!(store.enqueue_job(&period()).await.unwrap().is_some());
    let tick = store
        .claim_job(&["test.tick"], LEASE)
        .await
        .unwrap()
        .unwrap();
    store.complete_job(&tick).await.unwrap();
    assert!(store.enqueue_job(&period()).await.unwrap().is_none());
    let ticks = JobFilter {
        kind: Some("test.tick".into()),
        ..all(10)
    };
    assert_eq!(
        store.list_jobs(Scope::System, &ticks).await.unwrap().len(),
        1
    );
}

async fn listing_keeps_to_its_scope_and_filters(backend: Backend) {
    let (_db, store) = migrated(backend).await;
    let (a, b) = (
        tenant(&store, "jobs-a").await,
        tenant(&store, "jobs-b").await,
    );
    for (kind, owner) in [("test.a", Some(a)), ("test.b", Some(b)), ("test.sys", None)] {
        let job = NewJob::new(kind, json!({ "kind": kind })).tenant(owner);
        store.enqueue_job(&job).await.unwrap().unwrap();
    }
    let kinds = |jobs: Vec<auditpulse::jobs::Job>| -> Vec<String> {
        jobs.into_iter().map(|j| j.kind).collect()
    };
    let seen = store.list_jobs(Scope::Tenant(a), &all(10)).await.unwrap();
    assert_eq!(kinds(seen), ["test.a"]);
    let seen = store.list_jobs(Scope::System, &all(10)).await.unwrap();
    assert_eq!(kinds(seen), ["test.sys", "test.b", "test.a"]);
    let claimed = store.claim_job(&["test.b"], LEASE).await.unwrap().unwrap();
    assert_eq!(claimed.tenant_id, Some(b));
    assert_eq!(claimed.payload, json!({"kind": "test.b"}));
    let running = JobFilter {
        state: Some(JobState::Running),
        ..all(10)
    };
    let seen = store.list_jobs(Scope::System, &running).await.unwrap();
    assert_eq!(kinds(seen), ["test.b"]);
    let queued_a = JobFilter {
        state: Some(JobState::Queued),
        kind: Some("test.a".into()),
        limit: 10,
    };
    assert!(store
        .list_jobs(Scope::Tenant(b), &queued_a)
        .await
        .unwrap()
        .is_empty());
}

crate::on_both_backends!(
    concurrent_claims_never_share_a_job,
    an_expired_lease_is_retaken_and_the_old_attempt_is_fenced,
    a_lease_lost_on_the_last_attempt_is_dead,
    backoff_grows_to_its_cap_then_the_job_is_dead,
    dedup_keys_hold_while_pending_or_once,
    listing_keeps_to_its_scope_and_filters,
);
