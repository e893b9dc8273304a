-- Envelope encryption. Each tenant's data keys, stored only wrapped by a master key; the active
-- one seals new fields. Deleting a tenant deletes its keys explicitly in the same transaction
-- (crypto-shredding); the foreign key only guards against orphans.
CREATE TABLE tenant_keys (
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    master_key_id TEXT NOT NULL,
    wrapped_key BYTEA NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, version)
);
CREATE UNIQUE INDEX tenant_keys_one_active ON tenant_keys (tenant_id) WHERE active;

-- Named credentials of a tenant (provider tokens, API keys, webhook URLs), encrypted by the
-- keyring and bound to (tenant_id, name). Registered in src/crypto/registry.rs.
CREATE TABLE tenant_secrets (
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value_ciphertext BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
