-- LLM prices: catalogs imported with `auditpulse prices import` (system-wide, not tenant-owned;
-- the newest is in force, the shipped one when there is none) and each tenant's negotiated
-- overrides, one per (tenant, provider, model, effective date): setting the same date replaces.
-- Prices are decimal text (USD per million tokens) in JSON, never floats.
-- SQLite has no row-level security; the tenant filter in every statement isolates tenants.
CREATE TABLE llm_price_catalogs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_name TEXT NOT NULL,
    models_count INTEGER NOT NULL,
    catalog_json TEXT NOT NULL,
    imported_at TEXT NOT NULL
) STRICT;

CREATE TABLE llm_price_overrides (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    prices_json TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, provider, model, effective_from)
) STRICT;
