-- Plaid items: one bank connection of a tenant made through Plaid Link. `item_id` is Plaid's;
-- `cursor` is the `/transactions/sync` cursor saved only after a whole sync was applied to the
-- ledger. The access token is never here: it is a tenant secret (`tenant_secrets`, name
-- `plaid:access:<id>`), encrypted with the tenant's data key. A removed item keeps its row and
-- its transactions (history); only its token is deleted.
-- SQLite has no row-level security; the tenant filter in every statement isolates tenants.
CREATE TABLE plaid_items (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    item_id TEXT NOT NULL UNIQUE,
    institution TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'login_required', 'error', 'removed')),
    last_error_code TEXT,
    cursor TEXT,
    last_sync_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX plaid_items_tenant ON plaid_items (tenant_id, created_at);
