-- OTLP spans become LLM calls (source 'otlp'). A span describing a call the gateway also
-- relayed (the same provider response id) is linked to the gateway's call: it stays listed, but
-- only the gateway's call counts (in usage sums and as a spend event), so nothing is counted twice.
ALTER TABLE llm_calls ADD COLUMN linked_call_id UUID;
