-- The durable background job queue: Plaid sync, scoring, retraining and alert delivery run as
-- jobs that survive a restart. A job is `queued`, `running` (claimed, with a lease in
-- `locked_until`; an expired lease makes it claimable again), `failed` (an attempt failed, retried
-- at `run_at`), `succeeded` or `dead` (out of attempts). At most one pending job (queued, running
-- or failed) holds a given `dedup_key`. `last_error` is a scrubbed summary, never a secret.
-- SQLite has no row-level security; the tenant filter in every statement isolates tenants.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    payload TEXT NOT NULL,
    state TEXT NOT NULL
        CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL CHECK (max_attempts > 0),
    run_at TEXT NOT NULL,
    locked_until TEXT,
    last_error TEXT,
    dedup_key TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX jobs_pending_dedup_key ON jobs (dedup_key)
    WHERE dedup_key IS NOT NULL AND state IN ('queued', 'running', 'failed');
CREATE INDEX jobs_due ON jobs (kind, run_at) WHERE state IN ('queued', 'running', 'failed');
CREATE INDEX jobs_dedup_key ON jobs (dedup_key) WHERE dedup_key IS NOT NULL;
