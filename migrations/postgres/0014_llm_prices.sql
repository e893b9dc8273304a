-- LLM prices: catalogs imported with `auditpulse prices import` (system-wide, not tenant-owned;
-- the newest is in force, the shipped one when there is none) and each tenant's negotiated
-- overrides, one per (tenant, provider, model, effective date): setting the same date replaces.
-- Prices are decimal text (USD per million tokens) in JSON, never floats.
CREATE TABLE llm_price_catalogs (
    id BIGSERIAL PRIMARY KEY,
    source_name TEXT NOT NULL,
    models_count BIGINT NOT NULL,
    catalog_json TEXT NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE llm_price_overrides (
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    effective_from DATE NOT NULL,
    prices_json TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, provider, model, effective_from)
);

ALTER TABLE llm_price_overrides ENABLE ROW LEVEL SECURITY;
ALTER TABLE llm_price_overrides FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON llm_price_overrides
    USING (auditpulse_tenant_visible(tenant_id)) WITH CHECK (auditpulse_tenant_visible(tenant_id));
