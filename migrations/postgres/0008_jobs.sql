-- The durable background job queue: Plaid sync, scoring, retraining and alert delivery run as
-- jobs that survive a restart. A job is `queued`, `running` (claimed, with a lease in
-- `locked_until`; an expired lease makes it claimable again), `failed` (an attempt failed, retried
-- at `run_at`), `succeeded` or `dead` (out of attempts). At most one pending job (queued, running
-- or failed) holds a given `dedup_key`. `last_error` is a scrubbed summary, never a secret.
-- Row-level security as in 0006: jobs without a tenant are visible to the system scope only.
CREATE TABLE jobs (
    id UUID PRIMARY KEY,
    kind TEXT NOT NULL,
    tenant_id UUID REFERENCES tenants (id) ON DELETE CASCADE,
    payload TEXT NOT NULL,
    state TEXT NOT NULL
        CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL CHECK (max_attempts > 0),
    run_at TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ,
    last_error TEXT,
    dedup_key TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX jobs_pending_dedup_key ON jobs (dedup_key)
    WHERE dedup_key IS NOT NULL AND state IN ('queued', 'running', 'failed');
CREATE INDEX jobs_due ON jobs (kind, run_at) WHERE state IN ('queued', 'running', 'failed');
CREATE INDEX jobs_dedup_key ON jobs (dedup_key) WHERE dedup_key IS NOT NULL;

ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON jobs
    USING (auditpulse_tenant_visible(tenant_id)) WITH CHECK (auditpulse_tenant_visible(tenant_id));
