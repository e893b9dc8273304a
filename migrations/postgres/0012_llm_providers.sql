-- LLM provider keys: the API key the gateway sends upstream for one tenant and provider, in place
-- of the caller's AuditPulse key. One key per (tenant, provider): setting a provider again replaces
-- its row (a new id). `api_key_ciphertext` is sealed with the tenant's data key
-- (crypto::ENCRYPTED_COLUMNS; the data key version is in the ciphertext's header); `key_hint` is
-- the key's last four characters, what responses show instead of it. `base_url` NULL means the
-- provider's public API; `allowed_models` is a JSON array of model names, NULL meaning every model.
-- Row-level security as in 0006.
CREATE TABLE llm_providers (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider TEXT NOT NULL CHECK (provider IN ('openai', 'anthropic')),
    label TEXT,
    api_key_ciphertext BYTEA NOT NULL,
    key_hint TEXT NOT NULL,
    base_url TEXT,
    allowed_models TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL,
    UNIQUE (tenant_id, provider)
);

ALTER TABLE llm_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE llm_providers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON llm_providers
    USING (auditpulse_tenant_visible(tenant_id)) WITH CHECK (auditpulse_tenant_visible(tenant_id));
