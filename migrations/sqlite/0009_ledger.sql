-- The ledger: bank accounts, spend events from every source, the approved-vendor list, saved CSV
-- mappings and the record of each file import. Money is integer minor units of the row's ISO 4217
-- currency, positive = money out. `*_ciphertext` columns are sealed with the tenant's data key
-- (crypto::ENCRYPTED_COLUMNS); everything filters and detection need stays clear.
-- SQLite has no row-level security; the tenant filter in every statement isolates tenants.
CREATE TABLE ledger_accounts (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL
        CHECK (kind IN ('checking', 'savings', 'credit_card', 'loan', 'investment', 'other')),
    currency TEXT NOT NULL,
    mask TEXT,
    number_ciphertext BLOB,
    institution TEXT,
    origin TEXT NOT NULL CHECK (origin IN ('manual', 'plaid')),
    external_id TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (tenant_id, id)
) STRICT;
CREATE UNIQUE INDEX ledger_accounts_external ON ledger_accounts (tenant_id, origin, external_id)
    WHERE external_id IS NOT NULL;

CREATE TABLE ledger_imports (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('ofx', 'csv')),
    mapping_name TEXT,
    file_sha256 TEXT NOT NULL,
    file_bytes INTEGER NOT NULL,
    rows_read INTEGER NOT NULL,
    imported INTEGER NOT NULL,
    duplicates INTEGER NOT NULL,
    actor TEXT NOT NULL,
    created_at TEXT NOT NULL,
    FOREIGN KEY (tenant_id, account_id) REFERENCES ledger_accounts (tenant_id, id)
) STRICT;
CREATE INDEX ledger_imports_by_tenant ON ledger_imports (tenant_id, id);

CREATE TABLE spend_events (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    source TEXT NOT NULL CHECK (source IN ('plaid', 'ofx', 'csv', 'gateway', 'otlp')),
    source_ref TEXT NOT NULL,
    account_id TEXT,
    occurred_at TEXT NOT NULL,
    booked_on TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'posted')),
    counterparty TEXT,
    counterparty_ciphertext BLOB,
    category TEXT,
    description_ciphertext BLOB,
    import_id TEXT REFERENCES ledger_imports (id) ON DELETE SET NULL,
    removed_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (tenant_id, source, source_ref),
    FOREIGN KEY (tenant_id, account_id) REFERENCES ledger_accounts (tenant_id, id)
) STRICT;
CREATE INDEX spend_events_recent ON spend_events (tenant_id, occurred_at, id);
CREATE INDEX spend_events_by_account ON spend_events (tenant_id, account_id, occurred_at, id);
CREATE INDEX spend_events_by_counterparty ON spend_events (tenant_id, counterparty, occurred_at, id);
-- Date-range filters (the bank's date) with an amount bound: the range is read from these and
-- sorted, where the newest-first indexes above would walk every later event first.
CREATE INDEX spend_events_booked ON spend_events (tenant_id, booked_on, amount_minor)
    WHERE removed_at IS NULL;
CREATE INDEX spend_events_by_account_booked
    ON spend_events (tenant_id, account_id, booked_on, amount_minor) WHERE removed_at IS NULL;

CREATE TABLE vendors (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    normalized TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (tenant_id, normalized)
) STRICT;

CREATE TABLE import_mappings (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    mapping TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name)
) STRICT;
