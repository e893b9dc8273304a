-- Detection: each tenant's configuration and the record of its changes, trained isolation-forest
-- models (versioned), one risk score per spend event with its factors, anomalies (review cases)
-- with their history, and snoozes. The tenant's time zone (timing rule, schedules, budgets).
-- Review notes are sealed with the tenant's data key (crypto::ENCRYPTED_COLUMNS).
ALTER TABLE tenants ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

CREATE TABLE detection_configs (
    tenant_id UUID PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    config TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE detection_changes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    parameter TEXT NOT NULL,
    from_value TEXT NOT NULL,
    to_value TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX detection_changes_by_tenant ON detection_changes (tenant_id, id);

CREATE TABLE detection_models (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    trained_at TIMESTAMPTZ NOT NULL,
    training_rows BIGINT NOT NULL,
    threshold DOUBLE PRECISION NOT NULL,
    features TEXT NOT NULL,
    model BYTEA NOT NULL,
    UNIQUE (tenant_id, version),
    UNIQUE (tenant_id, id)
);

CREATE TABLE risk_scores (
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    spend_id UUID NOT NULL REFERENCES spend_events (id) ON DELETE CASCADE,
    score BIGINT NOT NULL CHECK (score BETWEEN 0 AND 100),
    -- The rules that fired, as ",rule_a,rule_b," so one rule is found with LIKE.
    rules TEXT NOT NULL,
    factors TEXT NOT NULL,
    model_id UUID,
    scored_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, spend_id),
    FOREIGN KEY (tenant_id, model_id) REFERENCES detection_models (tenant_id, id)
);

CREATE TABLE anomalies (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    spend_id UUID NOT NULL REFERENCES spend_events (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('open', 'investigating', 'closed')),
    outcome TEXT CHECK (outcome IN ('confirmed', 'false_positive', 'expected')),
    assignee UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    reviewed_at TIMESTAMPTZ,
    -- One case per transaction, however often it is rescored.
    UNIQUE (tenant_id, spend_id),
    UNIQUE (tenant_id, id)
);
CREATE INDEX anomalies_reviewed ON anomalies (tenant_id, reviewed_at) WHERE outcome IS NOT NULL;

CREATE TABLE anomaly_events (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    anomaly_id UUID NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('raised', 'review', 'assign')),
    actor TEXT NOT NULL,
    status TEXT,
    outcome TEXT,
    assignee UUID,
    score BIGINT,
    note_ciphertext BYTEA,
    created_at TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (tenant_id, anomaly_id) REFERENCES anomalies (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX anomaly_events_by_anomaly ON anomaly_events (tenant_id, anomaly_id, created_at);

CREATE TABLE detection_snoozes (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('vendor', 'account')),
    target_value TEXT NOT NULL,
    until TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX detection_snoozes_by_tenant ON detection_snoozes (tenant_id, until);

DO $$
DECLARE t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['detection_configs', 'detection_changes', 'detection_models',
        'risk_scores', 'anomalies', 'anomaly_events', 'detection_snoozes'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (auditpulse_tenant_visible(tenant_id)) '
            'WITH CHECK (auditpulse_tenant_visible(tenant_id))', t);
    END LOOP;
END $$;
