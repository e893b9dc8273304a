"""The OpenTelemetry Python SDK exporting GenAI spans to AuditPulse's POST /v1/traces with its
OTLP/HTTP protobuf exporter, exactly as an instrumented application would: the key in
OTEL_EXPORTER_OTLP_HEADERS, the endpoint in OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, gzip on.

Spans: one per convention AuditPulse reads (OTel GenAI current and deprecated names,
OpenInference, OpenLLMetry), a plain HTTP span, and the same batch exported twice (a retry).
Prints a summary of what the exporter reported; tests/api/otel_sdk.rs checks what was stored.
"""

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult, SpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.version import __version__ as sdk_version

from _check import Checks


class Recording(SpanExporter):
    """The real exporter, with the results and spans of each export kept."""

    def __init__(self, inner):
        self.inner = inner
        self.results = []
        self.spans = []

    def export(self, spans):
        self.spans.extend(spans)
        result = self.inner.export(spans)
        self.results.append(result.name)
        return result

    def shutdown(self):
        self.inner.shutdown()


def spans(tracer):
    # OTel GenAI conventions, current names: OpenAI, cached prompt tokens included in input.
    with tracer.start_as_current_span("chat gpt-4o-mini") as s:
        s.set_attributes({
            "gen_ai.provider.name": "openai",
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.response.id": "chatcmpl-otel-sdk-1",
            "gen_ai.usage.input_tokens": 1000,
            "gen_ai.usage.cache_read.input_tokens": 400,
            "gen_ai.usage.output_tokens": 200,
            "user.id": "u-42",
        })
    # Deprecated names, Anthropic.
    with tracer.start_as_current_span("chat claude") as s:
        s.set_attributes({
            "gen_ai.system": "anthropic",
            "gen_ai.request.model": "claude-3-5-haiku-20241022",
            "gen_ai.usage.prompt_tokens": 2000,
            "gen_ai.usage.completion_tokens": 100,
        })
    # OpenInference.
    with tracer.start_as_current_span("ChatOpenAI") as s:
        s.set_attributes({
            "openinference.span.kind": "LLM",
            "llm.provider": "openai",
            "llm.model_name": "gpt-4o-mini",
            "llm.token_count.prompt": 100,
            "llm.token_count.completion": 10,
            "llm.token_count.total": 110,
        })
    # OpenLLMetry/Traceloop.
    with tracer.start_as_current_span("openai.chat") as s:
        s.set_attributes({
            "traceloop.span.kind": "llm",
            "llm.request.type": "chat",
            "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "llm.usage.prompt_tokens": 10,
            "llm.usage.completion_tokens": 4,
            "llm.usage.total_tokens": 14,
            "traceloop.association.properties.project": "q4-launch",
        })
    # Not an LLM call.
    with tracer.start_as_current_span("GET /health") as s:
        s.set_attribute("http.request.method", "GET")


def main():
    checks = Checks(sdk_version)
    exporter = Recording(OTLPSpanExporter(compression=Compression.Gzip))
    provider = TracerProvider(resource=Resource.create({"service.name": "support-bot"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("auditpulse-sdk-check")

    def export_each():
        spans(tracer)
        assert exporter.results == ["SUCCESS"] * 5, exporter.results
        return {"results": exporter.results}

    def retry():
        # The exporter's retry of the same spans: accepted again, stored once.
        result = exporter.inner.export(exporter.spans)
        assert result == SpanExportResult.SUCCESS, result
        return {"result": result.name}

    def wrong_key():
        bad = OTLPSpanExporter(headers={"authorization": "Bearer ap_not_a_key"}, timeout=5)
        result = bad.export(exporter.spans[:1])
        assert result == SpanExportResult.FAILURE, result
        return {"result": result.name}

    checks.run("export_each", export_each)
    checks.run("retry", retry)
    checks.run("wrong_key", wrong_key)
    provider.shutdown()
    checks.finish()


if __name__ == "__main__":
    main()
