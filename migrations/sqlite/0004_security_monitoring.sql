-- Security alerts raised by the monitor, and per-user login history for its baselines.
-- Alerts carry no foreign key: they are security records and outlive what they describe.
CREATE TABLE security_alerts (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    subject TEXT NOT NULL,
    summary TEXT NOT NULL,
    evidence TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX security_alerts_by_tenant ON security_alerts (tenant_id, id);

-- kind: 'total' (value ''), 'ip', 'user_agent' or 'hour' (value '00'..'23').
CREATE TABLE login_baselines (
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    logins INTEGER NOT NULL,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (user_id, kind, value)
) STRICT;
