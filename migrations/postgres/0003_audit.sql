-- The audit trail: an append-only, hash-chained log of security-relevant events.
-- hash = SHA-256(prev_hash || canonical form); see src/audit/canonical.rs.
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    tenant_id UUID,
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    target_type TEXT,
    target_id TEXT,
    source_ip TEXT,
    user_agent TEXT,
    outcome TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash BYTEA NOT NULL,
    hash BYTEA NOT NULL
);
CREATE INDEX audit_events_tenant_seq ON audit_events (tenant_id, seq);
CREATE INDEX audit_events_at ON audit_events (at);

-- The chain head: last appended seq and hash. Every append transaction locks this row
-- (SELECT ... FOR UPDATE), which serializes writers across instances.
CREATE TABLE audit_head (
    id INT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

-- Signed checkpoints written by retention pruning: the last pruned seq and its hash.
CREATE TABLE audit_checkpoints (
    id BIGSERIAL PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    key_id TEXT NOT NULL,
    signature BYTEA NOT NULL
);

-- Audit rows are never updated; they are deleted only by retention pruning, which sets
-- auditpulse.audit_prune = 'on' with SET LOCAL inside its transaction. Deployments that want the
-- database itself to enforce this against the application should also REVOKE UPDATE, DELETE,
-- TRUNCATE on these tables from the application role and prune as a separate role.
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_events'
       AND current_setting('auditpulse.audit_prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit rows are append-only (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
