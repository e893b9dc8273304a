-- Security alerts raised by the monitor, and per-user login history for its baselines.
-- Alerts carry no foreign key: they are security records and outlive what they describe.
CREATE TABLE security_alerts (
    id UUID PRIMARY KEY,
    tenant_id UUID,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    subject TEXT NOT NULL,
    summary TEXT NOT NULL,
    evidence JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX security_alerts_by_tenant ON security_alerts (tenant_id, id);

-- kind: 'total' (value ''), 'ip', 'user_agent' or 'hour' (value '00'..'23').
CREATE TABLE login_baselines (
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    logins BIGINT NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, kind, value)
);
