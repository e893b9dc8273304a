-- The ledger: bank accounts, spend events from every source, the approved-vendor list, saved CSV
-- mappings and the record of each file import. Money is integer minor units of the row's ISO 4217
-- currency, positive = money out. `*_ciphertext` columns are sealed with the tenant's data key
-- (crypto::ENCRYPTED_COLUMNS); everything filters and detection need stays clear.
CREATE TABLE ledger_accounts (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL
        CHECK (kind IN ('checking', 'savings', 'credit_card', 'loan', 'investment', 'other')),
    currency TEXT NOT NULL,
    mask TEXT,
    number_ciphertext BYTEA,
    institution TEXT,
    origin TEXT NOT NULL CHECK (origin IN ('manual', 'plaid')),
    external_id TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX ledger_accounts_external ON ledger_accounts (tenant_id, origin, external_id)
    WHERE external_id IS NOT NULL;

CREATE TABLE ledger_imports (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id UUID NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('ofx', 'csv')),
    mapping_name TEXT,
    file_sha256 TEXT NOT NULL,
    file_bytes BIGINT NOT NULL,
    rows_read BIGINT NOT NULL,
    imported BIGINT NOT NULL,
    duplicates BIGINT NOT NULL,
    actor TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (tenant_id, account_id) REFERENCES ledger_accounts (tenant_id, id)
);
CREATE INDEX ledger_imports_by_tenant ON ledger_imports (tenant_id, id);

CREATE TABLE spend_events (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    source TEXT NOT NULL CHECK (source IN ('plaid', 'ofx', 'csv', 'gateway', 'otlp')),
    source_ref TEXT NOT NULL,
    account_id UUID,
    occurred_at TIMESTAMPTZ NOT NULL,
    booked_on DATE NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'posted')),
    counterparty TEXT,
    counterparty_ciphertext BYTEA,
    category TEXT,
    description_ciphertext BYTEA,
    import_id UUID REFERENCES ledger_imports (id) ON DELETE SET NULL,
    removed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, source, source_ref),
    FOREIGN KEY (tenant_id, account_id) REFERENCES ledger_accounts (tenant_id, id)
);
CREATE INDEX spend_events_recent ON spend_events (tenant_id, occurred_at DESC, id DESC);
CREATE INDEX spend_events_by_account ON spend_events (tenant_id, account_id, occurred_at DESC, id DESC);
CREATE INDEX spend_events_by_counterparty ON spend_events (tenant_id, counterparty, occurred_at DESC, id DESC);
-- Date-range filters (the bank's date) with an amount bound: the range is read from these and
-- sorted, where the newest-first indexes above would walk every later event first.
CREATE INDEX spend_events_booked ON spend_events (tenant_id, booked_on, amount_minor)
    WHERE removed_at IS NULL;
CREATE INDEX spend_events_by_account_booked
    ON spend_events (tenant_id, account_id, booked_on, amount_minor) WHERE removed_at IS NULL;

CREATE TABLE vendors (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    normalized TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, normalized)
);

CREATE TABLE import_mappings (
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    mapping TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

ALTER TABLE ledger_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ledger_accounts
    USING (auditpulse_tenant_visible(tenant_id)) WITH CHECK (auditpulse_tenant_visible(tenant_id));
ALTER TABLE ledger_imports ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_imports FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ledger_imports
    USING (auditpulse_tenant_visible(tenant_id)) WITH CHECK (auditpulse_tenant_visible(tenant_id));
ALTER TABLE spend_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE spend_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON spend_events
    USING (auditpulse_tenant_visible(tenant_id)) WITH CHECK (auditpulse_tenant_visible(tenant_id));
ALTER TABLE vendors ENABLE ROW LEVEL SECURITY;
ALTER TABLE vendors FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON vendors
    USING (auditpulse_tenant_visible(tenant_id)) WITH CHECK (auditpulse_tenant_visible(tenant_id));
ALTER TABLE import_mappings ENABLE ROW LEVEL SECURITY;
ALTER TABLE import_mappings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON import_mappings
    USING (auditpulse_tenant_visible(tenant_id)) WITH CHECK (auditpulse_tenant_visible(tenant_id));
