-- Identity: users, login throttling, TOTP, recovery codes, sessions and their refresh tokens, API
-- keys, and the one-time first-run setup token.
--
-- Tenant-owned tables carry tenant_id; the application reaches them only through a tenant-scoped
-- handle. (PostgreSQL adds row-level security as a second wall; SQLite has none.)

-- The reserved tenant whose data key seals the fields of global system administrators (users
-- without a tenant). Never listed, never deletable through the API.
INSERT INTO tenants (id, slug, name, created_at)
VALUES ('00000000-0000-0000-0000-000000000000', 'system', 'System', '1970-01-01T00:00:00.000000Z');

-- Tenant admins can require two-factor authentication for everyone in the tenant.
ALTER TABLE tenants ADD COLUMN require_totp INTEGER NOT NULL DEFAULT 0;

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    -- NULL for a global system administrator.
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    -- The e-mail as compared: trimmed and lowercased. Unique across all tenants (login is by e-mail).
    email_key TEXT NOT NULL,
    display_name TEXT,
    -- viewer, auditor or admin; NULL exactly when tenant_id is NULL.
    role TEXT,
    system_admin INTEGER NOT NULL,
    active INTEGER NOT NULL,
    -- Argon2id PHC string.
    password_hash TEXT NOT NULL,
    totp_enabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    last_login_at TEXT,
    CONSTRAINT users_email_key UNIQUE (email_key),
    CONSTRAINT users_role_with_tenant CHECK ((tenant_id IS NULL) = (role IS NULL)),
    CONSTRAINT users_role_known CHECK (role IS NULL OR role IN ('viewer', 'auditor', 'admin')),
    CONSTRAINT users_global_are_system_admins CHECK (tenant_id IS NOT NULL OR system_admin)
) STRICT;
CREATE INDEX users_tenant ON users (tenant_id, id);

-- Failed-login counting and lockout, keyed by the e-mail tried whether or not such a user exists,
-- so a lockout does not reveal which accounts exist. Not tenant data.
CREATE TABLE login_throttle (
    email_key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start TEXT NOT NULL,
    lockouts INTEGER NOT NULL,
    locked_until TEXT,
    updated_at TEXT NOT NULL
) STRICT;

-- A user's TOTP secret, sealed by the keyring with the data key of tenant_id (the user's tenant,
-- or the reserved system tenant for global administrators). Registered in src/crypto/registry.rs.
CREATE TABLE user_totp (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    secret_ciphertext BLOB NOT NULL,
    -- The last accepted 30-second step: a code of this step or an earlier one is refused.
    last_step INTEGER,
    created_at TEXT NOT NULL
) STRICT;

-- Single-use recovery codes, SHA-256 hashed.
CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    code_hash BLOB NOT NULL,
    used_at TEXT,
    PRIMARY KEY (user_id, code_hash)
) STRICT;

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    -- The absolute end of the session, whatever its activity.
    expires_at TEXT NOT NULL,
    ended_at TEXT,
    end_reason TEXT,
    ip TEXT,
    user_agent TEXT
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id, created_at);

-- Refresh tokens, SHA-256 hashed. A used token stays, marked, so a second presentation is
-- recognised as reuse and ends its session.
CREATE TABLE refresh_tokens (
    token_hash BLOB PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    used_at TEXT
) STRICT;
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- The `ap_<public id>_...` part that names a key in logs and lists.
    public_id TEXT NOT NULL,
    -- SHA-256 of the secret part.
    secret_hash BLOB NOT NULL,
    name TEXT NOT NULL,
    -- Space-separated scopes, e.g. `read ingest:write`.
    scopes TEXT NOT NULL,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    expires_at TEXT,
    revoked_at TEXT,
    CONSTRAINT api_keys_public_id_key UNIQUE (public_id)
) STRICT;
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);

-- The first-run setup token (SHA-256 hashed), valid for an hour, used once.
CREATE TABLE setup_tokens (
    token_hash BLOB PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
) STRICT;
