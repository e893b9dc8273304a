#!/bin/sh
# Seeds corpus/otlp_spans with export requests in each convention AuditPulse reads, behind a mode
# byte (bit 0: 1 = OTLP/JSON, 0 = protobuf; bit 1: gzip). Protobuf seeds are encoded with the
# opentelemetry-proto Python package when PYTHON (default: the SDK test venv's) has it.
# The corpus is generated at run time and never committed (fuzz/corpus is ignored by git).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/corpus/otlp_spans"
mkdir -p "$out"
span() { # name, attributes (JSON list)
  printf '{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"%s","startTimeUnixNano":"1796378400000000000","endTimeUnixNano":"1796378401000000000","status":{"code":2,"message":"x"},"attributes":%s}' "$1" "$2"
}
request() { # spans (JSON list)
  printf '{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"bot"}}]},"scopeSpans":[{"scope":{"name":"s"},"spans":%s}]}]}' "$1"
}
s='{"key":"%s","value":{"stringValue":"%s"}}'
i='{"key":"%s","value":{"intValue":"%s"}}'
genai="[$(printf "$s,$s,$s,$i,$i,$i,$i" gen_ai.provider.name openai gen_ai.request.model gpt-4o gen_ai.response.id chatcmpl-1 gen_ai.usage.input_tokens 2006 gen_ai.usage.cache_read.input_tokens 1920 gen_ai.usage.output_tokens 300 gen_ai.usage.reasoning.output_tokens 128)]"
old="[$(printf "$s,$s,$i,$i,$i" gen_ai.system anthropic gen_ai.response.model claude-sonnet-4-5 gen_ai.usage.prompt_tokens 21 gen_ai.usage.completion_tokens 393 gen_ai.usage.cache_read_input_tokens 188086)]"
oi="[$(printf "$s,$s,$s,$i,$i,$i" openinference.span.kind LLM llm.provider openai llm.model_name gpt-4o-mini llm.token_count.prompt 120 llm.token_count.completion 30 llm.token_count.prompt_details.cache_read 20)]"
tl="[$(printf "$s,$s,$s,$i,$i,$s" traceloop.span.kind workflow gen_ai.system OpenAI gen_ai.request.model gpt-4o llm.usage.prompt_tokens 10 llm.usage.completion_tokens 4 traceloop.association.properties.user_id alice)]"
seed="[$(printf "$s,$s,$i,$i" llm.model_name claude-3-haiku llm.provider claude llm.input_tokens 10 llm.output_tokens 2),{\"key\":\"llm.total_cost_usd\",\"value\":{\"doubleValue\":0.01}}]"
all="[$(span genai "$genai"),$(span old "$old"),$(span oi "$oi"),$(span tl "$tl"),$(span seed "$seed"),$(span http '[{"key":"http.request.method","value":{"stringValue":"GET"}}]')]"
printf '\001%s' "$(request "$all")" > "$out/seed_json_all"
printf '\001%s' "$(request "[$(span genai "$genai")]")" > "$out/seed_json_genai"
printf '\001{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"arrayValue":{"values":[{"kvlistValue":{"values":[{"key":"a","value":{"bytesValue":"AAE="}}]}}]}}}]}]}]}]}' > "$out/seed_json_nested"
printf '\001{"resource_spans":[]}' > "$out/seed_json_snake"
python=${PYTHON:-$here/../.venv-sdk/bin/python}
[ -x "$python" ] || python=/work/sdk-venv/bin/python
if [ -x "$python" ] && "$python" -c 'import opentelemetry.proto' 2>/dev/null; then
  request "$all" | "$python" -c '
import gzip, sys
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
out = sys.argv[1]
message = json_format.Parse(sys.stdin.read(), ExportTraceServiceRequest())
body = message.SerializeToString()
open(out + "/seed_proto_all", "wb").write(b"\x00" + body)
open(out + "/seed_proto_gzip", "wb").write(b"\x02" + gzip.compress(body))
' "$out"
else
  echo "no python with opentelemetry-proto: JSON seeds only" >&2
fi
ls "$out"
