-- LLM calls: one row per call through the gateway (later also per OTLP span), with its
-- attribution, tokens by kind and exact cost in nano-dollars (NULL while unpriced). A priced
-- call is also a spend event (source 'gateway', source_ref = this id, currency USD_NANO).
CREATE TABLE llm_calls (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    source TEXT NOT NULL CHECK (source IN ('gateway', 'otlp')),
    api_key_id UUID,
    provider TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    application TEXT,
    project TEXT,
    end_user TEXT,
    model_requested TEXT,
    model_answered TEXT,
    response_id TEXT,
    streamed BOOLEAN NOT NULL,
    http_status BIGINT,
    outcome TEXT NOT NULL,
    input_tokens BIGINT NOT NULL,
    cache_read_tokens BIGINT NOT NULL,
    cache_write_5m_tokens BIGINT NOT NULL,
    cache_write_1h_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    reasoning_tokens BIGINT NOT NULL,
    cost_status TEXT NOT NULL CHECK (cost_status IN ('priced', 'unpriced', 'no_usage')),
    cost_nanos BIGINT,
    priced_model TEXT,
    started_at TIMESTAMPTZ NOT NULL,
    latency_us BIGINT NOT NULL,
    ttft_us BIGINT,
    error TEXT,
    CHECK ((cost_status = 'priced') = (cost_nanos IS NOT NULL))
);
CREATE INDEX llm_calls_recent ON llm_calls (tenant_id, started_at DESC, id DESC);
CREATE INDEX llm_calls_unpriced ON llm_calls (tenant_id, id) WHERE cost_status = 'unpriced';
CREATE INDEX llm_calls_by_response ON llm_calls (tenant_id, provider, response_id)
    WHERE response_id IS NOT NULL;

ALTER TABLE llm_calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE llm_calls FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON llm_calls
    USING (auditpulse_tenant_visible(tenant_id)) WITH CHECK (auditpulse_tenant_visible(tenant_id));
