-- Plaid items: one bank connection of a tenant made through Plaid Link. `item_id` is Plaid's;
-- `cursor` is the `/transactions/sync` cursor saved only after a whole sync was applied to the
-- ledger. The access token is never here: it is a tenant secret (`tenant_secrets`, name
-- `plaid:access:<id>`), encrypted with the tenant's data key. A removed item keeps its row and
-- its transactions (history); only its token is deleted.
-- Row-level security as in 0006; the webhook's look-up by Plaid item id runs in the system scope.
CREATE TABLE plaid_items (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    item_id TEXT NOT NULL UNIQUE,
    institution TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'login_required', 'error', 'removed')),
    last_error_code TEXT,
    cursor TEXT,
    last_sync_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX plaid_items_tenant ON plaid_items (tenant_id, created_at);

ALTER TABLE plaid_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE plaid_items FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON plaid_items
    USING (auditpulse_tenant_visible(tenant_id)) WITH CHECK (auditpulse_tenant_visible(tenant_id));
