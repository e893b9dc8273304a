"""A LangChain application whose LLM calls AuditPulse prices from its OpenTelemetry traces.

LangChain calls the model directly (no gateway); OpenInference's LangChain instrumentation turns
each call into spans carrying the model and its token counts, and the OpenTelemetry SDK's
OTLP/HTTP exporter sends them to AuditPulse's POST /v1/traces with an `ingest:write` key. Set:

    OPENAI_API_KEY, OPENAI_BASE_URL (optional)        the model provider, as usual
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT                 https://auditpulse.example.com/v1/traces
    OTEL_EXPORTER_OTLP_HEADERS                         Authorization=Bearer%20ap_...
    OTEL_SERVICE_NAME                                  the application the calls belong to

Run: python app.py "a question". It prints the answer, then one JSON line with what was exported.
"""

import json
import sys

from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI
from openinference.instrumentation.langchain import LangChainInstrumentor
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult


class Counting(OTLPSpanExporter):
    """The OTLP exporter, counting what it sent and whether AuditPulse accepted it."""

    exported = 0
    failures = 0

    def export(self, spans):
        result = super().export(spans)
        if result == SpanExportResult.SUCCESS:
            Counting.exported += len(spans)
        else:
            Counting.failures += 1
        return result


def main():
    question = sys.argv[1] if len(sys.argv) > 1 else "Say hello to the team"
    # Resource.create reads OTEL_SERVICE_NAME; the exporter reads the OTEL_EXPORTER_OTLP_* settings.
    provider = TracerProvider(resource=Resource.create())
    provider.add_span_processor(BatchSpanProcessor(Counting()))
    LangChainInstrumentor().instrument(tracer_provider=provider)

    prompt = ChatPromptTemplate.from_messages([("user", "{question}")])
    chain = prompt | ChatOpenAI(model="gpt-4o-mini", max_retries=0)
    answer = chain.invoke({"question": question})
    print(answer.content)

    provider.shutdown()  # flushes the batch
    print(json.dumps({"exported_spans": Counting.exported, "export_failures": Counting.failures}))
    sys.exit(1 if Counting.failures or not Counting.exported else 0)


if __name__ == "__main__":
    main()
