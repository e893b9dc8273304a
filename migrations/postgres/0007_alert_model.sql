-- Security alerts are the first source of the one alert model that alert delivery takes over:
-- every alert carries a deduplication key (kind and subject), a state (open, acknowledged,
-- resolved) and how many times it has been raised. Existing alerts are open, raised once.
ALTER TABLE security_alerts ADD COLUMN dedup_key TEXT NOT NULL DEFAULT '';
UPDATE security_alerts SET dedup_key = kind || ':' || subject;
ALTER TABLE security_alerts ADD COLUMN state TEXT NOT NULL DEFAULT 'open';
ALTER TABLE security_alerts ADD COLUMN occurrences BIGINT NOT NULL DEFAULT 1;
CREATE INDEX security_alerts_open_by_key ON security_alerts (tenant_id, dedup_key)
    WHERE state = 'open';
