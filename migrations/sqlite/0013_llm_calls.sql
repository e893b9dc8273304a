-- LLM calls: one row per call through the gateway (later also per OTLP span), with its
-- attribution, tokens by kind and exact cost in nano-dollars (NULL while unpriced). A priced
-- call is also a spend event (source 'gateway', source_ref = this id, currency USD_NANO).
-- SQLite has no row-level security; the tenant filter in every statement isolates tenants.
CREATE TABLE llm_calls (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    source TEXT NOT NULL CHECK (source IN ('gateway', 'otlp')),
    api_key_id TEXT,
    provider TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    application TEXT,
    project TEXT,
    end_user TEXT,
    model_requested TEXT,
    model_answered TEXT,
    response_id TEXT,
    streamed INTEGER NOT NULL,
    http_status INTEGER,
    outcome TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    cache_write_5m_tokens INTEGER NOT NULL,
    cache_write_1h_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    cost_status TEXT NOT NULL CHECK (cost_status IN ('priced', 'unpriced', 'no_usage')),
    cost_nanos INTEGER,
    priced_model TEXT,
    started_at TEXT NOT NULL,
    latency_us INTEGER NOT NULL,
    ttft_us INTEGER,
    error TEXT,
    CHECK ((cost_status = 'priced') = (cost_nanos IS NOT NULL))
) STRICT;
CREATE INDEX llm_calls_recent ON llm_calls (tenant_id, started_at DESC, id DESC);
CREATE INDEX llm_calls_unpriced ON llm_calls (tenant_id, id) WHERE cost_status = 'unpriced';
CREATE INDEX llm_calls_by_response ON llm_calls (tenant_id, provider, response_id)
    WHERE response_id IS NOT NULL;
