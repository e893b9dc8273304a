-- Budgets: a tenant's spend held to an amount per scope and period (docs/budgets.md). A budget is
-- one row, its name unique in the tenant; `alert_thresholds` is a JSON array of fractions in parts
-- per ten thousand (8000 = 80 %), `swap_threshold` one such fraction, `model_chain` a JSON array of
-- model names; `amount_minor` is in minor units of `currency`.
--
-- Enforcement (a swap threshold or a hard limit) keeps, per budget and period, a counter row in
-- `budget_usage`, in nano-dollars: `committed` is what the gateway reserved for calls in flight
-- (their worst-case cost) plus the exact cost of those calls once recorded; `other` is the rest of
-- the period's spend (OTLP, bank spend, calls from before the budget), as last evaluated. A call
-- is let through only if committed + other + its worst case stays within the amount, checked and
-- reserved in one transaction holding the counter's row, so concurrent calls on any number of
-- instances sharing the database cannot overshoot. Each reservation is a row of
-- `budget_reservations` ('held' until the call is recorded, then 'settled' with its exact cost;
-- 'expired' when a crashed call never settles, giving its reservation back; a late call still
-- settles). `budget_alerts_sent` marks each threshold alerted, once per budget and period.
-- SQLite has no row-level security; the tenant filter in every statement isolates tenants.
CREATE TABLE budgets (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    scope_kind TEXT NOT NULL CHECK (scope_kind IN
        ('tenant', 'application', 'project', 'user', 'api_key', 'account', 'vendor', 'category')),
    scope_value TEXT,
    counts TEXT NOT NULL CHECK (counts IN ('llm', 'bank', 'all')),
    period TEXT NOT NULL CHECK (period IN ('day', 'week', 'month')),
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL,
    alert_thresholds TEXT NOT NULL,
    swap_threshold INTEGER,
    model_chain TEXT NOT NULL,
    hard_limit INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    UNIQUE (tenant_id, name),
    UNIQUE (tenant_id, id)
) STRICT;

CREATE TABLE budget_usage (
    tenant_id TEXT NOT NULL,
    budget_id TEXT NOT NULL,
    period_start TEXT NOT NULL,
    committed INTEGER NOT NULL,
    other INTEGER NOT NULL,
    evaluated_at TEXT,
    PRIMARY KEY (budget_id, period_start),
    FOREIGN KEY (tenant_id, budget_id) REFERENCES budgets (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE TABLE budget_reservations (
    tenant_id TEXT NOT NULL,
    budget_id TEXT NOT NULL,
    period_start TEXT NOT NULL,
    call_id TEXT NOT NULL,
    reserved INTEGER NOT NULL CHECK (reserved >= 0),
    actual INTEGER,
    state TEXT NOT NULL CHECK (state IN ('held', 'settled', 'expired')),
    expires_at TEXT NOT NULL,
    PRIMARY KEY (budget_id, call_id),
    FOREIGN KEY (tenant_id, budget_id) REFERENCES budgets (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX budget_reservations_by_call ON budget_reservations (tenant_id, call_id);
CREATE INDEX budget_reservations_held ON budget_reservations (expires_at) WHERE state = 'held';

CREATE TABLE budget_alerts_sent (
    tenant_id TEXT NOT NULL,
    budget_id TEXT NOT NULL,
    period_start TEXT NOT NULL,
    threshold INTEGER NOT NULL,
    raised_at TEXT NOT NULL,
    PRIMARY KEY (budget_id, period_start, threshold),
    FOREIGN KEY (tenant_id, budget_id) REFERENCES budgets (tenant_id, id) ON DELETE CASCADE
) STRICT;

-- A call the gateway sent with another model than the client asked for (a budget's swap): the
-- model sent. `model_requested` stays the client's.
ALTER TABLE llm_calls ADD COLUMN swapped_to TEXT;
