-- Identity: users, login throttling, TOTP, recovery codes, sessions and their refresh tokens, API
-- keys, and the one-time first-run setup token.
--
-- Tenant-owned tables carry tenant_id and are guarded twice: the application reaches them only
-- through a tenant-scoped handle, and row-level security (below) limits every statement to the
-- tenant named by the transaction setting `auditpulse.tenant` ('*' for the few system paths:
-- login by e-mail, token checks, key rotation). Unset means no rows.

-- The reserved tenant whose data key seals the fields of global system administrators (users
-- without a tenant). Never listed, never deletable through the API.
INSERT INTO tenants (id, slug, name, created_at)
VALUES ('00000000-0000-0000-0000-000000000000', 'system', 'System', now());

-- Tenant admins can require two-factor authentication for everyone in the tenant.
ALTER TABLE tenants ADD COLUMN require_totp BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE users (
    id UUID PRIMARY KEY,
    -- NULL for a global system administrator.
    tenant_id UUID REFERENCES tenants (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    -- The e-mail as compared: trimmed and lowercased. Unique across all tenants (login is by e-mail).
    email_key TEXT NOT NULL,
    display_name TEXT,
    -- viewer, auditor or admin; NULL exactly when tenant_id is NULL.
    role TEXT,
    system_admin BOOLEAN NOT NULL,
    active BOOLEAN NOT NULL,
    -- Argon2id PHC string.
    password_hash TEXT NOT NULL,
    totp_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    last_login_at TIMESTAMPTZ,
    CONSTRAINT users_email_key UNIQUE (email_key),
    CONSTRAINT users_role_with_tenant CHECK ((tenant_id IS NULL) = (role IS NULL)),
    CONSTRAINT users_role_known CHECK (role IS NULL OR role IN ('viewer', 'auditor', 'admin')),
    CONSTRAINT users_global_are_system_admins CHECK (tenant_id IS NOT NULL OR system_admin)
);
CREATE INDEX users_tenant ON users (tenant_id, id);

-- Failed-login counting and lockout, keyed by the e-mail tried whether or not such a user exists,
-- so a lockout does not reveal which accounts exist. Not tenant data.
CREATE TABLE login_throttle (
    email_key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    lockouts INTEGER NOT NULL,
    locked_until TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL
);

-- A user's TOTP secret, sealed by the keyring with the data key of tenant_id (the user's tenant,
-- or the reserved system tenant for global administrators). Registered in src/crypto/registry.rs.
CREATE TABLE user_totp (
    user_id UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    secret_ciphertext BYTEA NOT NULL,
    -- The last accepted 30-second step: a code of this step or an earlier one is refused.
    last_step BIGINT,
    created_at TIMESTAMPTZ NOT NULL
);

-- Single-use recovery codes, SHA-256 hashed.
CREATE TABLE recovery_codes (
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id UUID REFERENCES tenants (id) ON DELETE CASCADE,
    code_hash BYTEA NOT NULL,
    used_at TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE sessions (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id UUID REFERENCES tenants (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    -- The absolute end of the session, whatever its activity.
    expires_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ,
    end_reason TEXT,
    ip TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_user ON sessions (user_id, created_at);

-- Refresh tokens, SHA-256 hashed. A used token stays, marked, so a second presentation is
-- recognised as reuse and ends its session.
CREATE TABLE refresh_tokens (
    token_hash BYTEA PRIMARY KEY,
    session_id UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    tenant_id UUID REFERENCES tenants (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE api_keys (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- The `ap_<public id>_...` part that names a key in logs and lists.
    public_id TEXT NOT NULL,
    -- SHA-256 of the secret part.
    secret_hash BYTEA NOT NULL,
    name TEXT NOT NULL,
    -- Space-separated scopes, e.g. `read ingest:write`.
    scopes TEXT NOT NULL,
    created_by UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    CONSTRAINT api_keys_public_id_key UNIQUE (public_id)
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);

-- The first-run setup token (SHA-256 hashed), valid for an hour, used once.
CREATE TABLE setup_tokens (
    token_hash BYTEA PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);

-- Row-level security: the second wall of tenant isolation. FORCE makes it apply to the table
-- owner too; a superuser still bypasses it, so production refuses to run as one.
CREATE FUNCTION auditpulse_tenant_visible(row_tenant UUID) RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT current_setting('auditpulse.tenant', true) = '*'
        OR (row_tenant IS NOT NULL AND row_tenant::text = current_setting('auditpulse.tenant', true))
$$;

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
    USING (auditpulse_tenant_visible(tenant_id)) WITH CHECK (auditpulse_tenant_visible(tenant_id));

ALTER TABLE user_totp ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_totp FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_totp
    USING (auditpulse_tenant_visible(tenant_id)) WITH CHECK (auditpulse_tenant_visible(tenant_id));

ALTER TABLE recovery_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE recovery_codes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON recovery_codes
    USING (auditpulse_tenant_visible(tenant_id)) WITH CHECK (auditpulse_tenant_visible(tenant_id));

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sessions
    USING (auditpulse_tenant_visible(tenant_id)) WITH CHECK (auditpulse_tenant_visible(tenant_id));

ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON refresh_tokens
    USING (auditpulse_tenant_visible(tenant_id)) WITH CHECK (auditpulse_tenant_visible(tenant_id));

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys
    USING (auditpulse_tenant_visible(tenant_id)) WITH CHECK (auditpulse_tenant_visible(tenant_id));
