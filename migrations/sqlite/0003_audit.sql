-- The audit trail: an append-only, hash-chained log of security-relevant events.
-- hash = SHA-256(prev_hash || canonical form); see src/audit/canonical.rs.
CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY NOT NULL,
    at TEXT NOT NULL,
    tenant_id TEXT,
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    target_type TEXT,
    target_id TEXT,
    source_ip TEXT,
    user_agent TEXT,
    outcome TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
) STRICT;
CREATE INDEX audit_events_tenant_seq ON audit_events (tenant_id, seq);
CREATE INDEX audit_events_at ON audit_events (at);

-- The chain head: last appended seq and hash. Writers update it in the append transaction, so a
-- deleted tail is detected; verification compares the last event with it.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));

-- Signed checkpoints written by retention pruning: the last pruned seq and its hash.
CREATE TABLE audit_checkpoints (
    id INTEGER PRIMARY KEY NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    created_at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature BLOB NOT NULL
) STRICT;

-- Present (one row) only inside a retention-pruning transaction: the one deliberate bypass.
CREATE TABLE audit_prune_guard (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1)
) STRICT;

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN NOT EXISTS (SELECT 1 FROM audit_prune_guard)
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are append-only');
END;

CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are append-only');
END;
