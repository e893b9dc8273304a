-- Detection: each tenant's configuration and the record of its changes, trained isolation-forest
-- models (versioned), one risk score per spend event with its factors, anomalies (review cases)
-- with their history, and snoozes. The tenant's time zone (timing rule, schedules, budgets).
-- Review notes are sealed with the tenant's data key (crypto::ENCRYPTED_COLUMNS).
-- SQLite has no row-level security; the tenant filter in every statement isolates tenants.
ALTER TABLE tenants ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

CREATE TABLE detection_configs (
    tenant_id TEXT PRIMARY KEY NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    config TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE detection_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    parameter TEXT NOT NULL,
    from_value TEXT NOT NULL,
    to_value TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX detection_changes_by_tenant ON detection_changes (tenant_id, id);

CREATE TABLE detection_models (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    trained_at TEXT NOT NULL,
    training_rows INTEGER NOT NULL,
    threshold REAL NOT NULL,
    features TEXT NOT NULL,
    model BLOB NOT NULL,
    UNIQUE (tenant_id, version),
    UNIQUE (tenant_id, id)
) STRICT;

CREATE TABLE risk_scores (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    spend_id TEXT NOT NULL REFERENCES spend_events (id) ON DELETE CASCADE,
    score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
    -- The rules that fired, as ",rule_a,rule_b," so one rule is found with LIKE.
    rules TEXT NOT NULL,
    factors TEXT NOT NULL,
    model_id TEXT,
    scored_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, spend_id),
    FOREIGN KEY (tenant_id, model_id) REFERENCES detection_models (tenant_id, id)
) STRICT;

CREATE TABLE anomalies (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    spend_id TEXT NOT NULL REFERENCES spend_events (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('open', 'investigating', 'closed')),
    outcome TEXT CHECK (outcome IN ('confirmed', 'false_positive', 'expected')),
    assignee TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    reviewed_at TEXT,
    -- One case per transaction, however often it is rescored.
    UNIQUE (tenant_id, spend_id),
    UNIQUE (tenant_id, id)
) STRICT;
CREATE INDEX anomalies_reviewed ON anomalies (tenant_id, reviewed_at) WHERE outcome IS NOT NULL;

CREATE TABLE anomaly_events (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    anomaly_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('raised', 'review', 'assign')),
    actor TEXT NOT NULL,
    status TEXT,
    outcome TEXT,
    assignee TEXT,
    score INTEGER,
    note_ciphertext BLOB,
    created_at TEXT NOT NULL,
    FOREIGN KEY (tenant_id, anomaly_id) REFERENCES anomalies (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX anomaly_events_by_anomaly ON anomaly_events (tenant_id, anomaly_id, created_at);

CREATE TABLE detection_snoozes (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('vendor', 'account')),
    target_value TEXT NOT NULL,
    until TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX detection_snoozes_by_tenant ON detection_snoozes (tenant_id, until);
