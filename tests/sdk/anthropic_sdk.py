"""The official `anthropic` Python SDK against an Anthropic-compatible endpoint (the fake, or the
gateway in front of it): plain and streamed messages (raw events and the `messages.stream`
helper), prompt caching, tool use, count_tokens, and errors (the SDK's exception class, status
and request id, a dropped stream, an in-stream error event). Reads ANTHROPIC_BASE_URL and
ANTHROPIC_API_KEY; the error checks use the fake's magic model names (`fake-fail-429`, ...).
Prints a JSON summary (see _check.py) and exits non-zero on any failure.
"""

import os

import anthropic
import httpx2
from anthropic import Anthropic

from _check import Checks, expect_error, expect_raise

MODEL = os.environ.get("ANTHROPIC_SDK_MODEL", "claude-sonnet-4-5")
MESSAGES = [{"role": "user", "content": "Say hello please"}]
CACHED_SYSTEM = [{"type": "text", "text": "one two three four", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
CACHED_MESSAGES = [{"role": "user", "content": [
    {"type": "text", "text": "five six", "cache_control": {"type": "ephemeral"}},
    {"type": "text", "text": "seven"}]}]
TOOLS = [{"name": "get_weather", "description": "Weather of a city",
          "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]

client = Anthropic(base_url=os.environ["ANTHROPIC_BASE_URL"], api_key=os.environ["ANTHROPIC_API_KEY"],
                   max_retries=0, timeout=30)


def usage_of(usage):
    return usage.model_dump(mode="json", exclude_none=True)


def messages_plain():
    done = client.messages.create(model=MODEL, max_tokens=100, messages=MESSAGES)
    assert done.content[0].type == "text" and done.content[0].text
    return {"text": done.content[0].text, "stop_reason": done.stop_reason, "usage": usage_of(done.usage)}


def messages_stream_raw():
    events = list(client.messages.create(model=MODEL, max_tokens=100, messages=MESSAGES, stream=True))
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop", kinds
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")
    start = next(e for e in events if e.type == "message_start").message.usage
    delta = next(e for e in events if e.type == "message_delta")
    return {"text": text, "events": kinds, "start_usage": usage_of(start),
            "delta_usage": usage_of(delta.usage), "stop_reason": delta.delta.stop_reason}


def messages_stream_helper():
    with client.messages.stream(model=MODEL, max_tokens=100, system=CACHED_SYSTEM,
                                messages=CACHED_MESSAGES) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert final.content[0].text == text
    return {"text": text, "usage": usage_of(final.usage)}


def caching():
    again = client.messages.create(model=MODEL, max_tokens=100, system=CACHED_SYSTEM, messages=CACHED_MESSAGES)
    return {"usage": usage_of(again.usage)}


def tools():
    done = client.messages.create(model=MODEL, max_tokens=100, messages=MESSAGES, tools=TOOLS)
    block = done.content[0]
    assert block.type == "tool_use" and done.stop_reason == "tool_use"
    with client.messages.stream(model=MODEL, max_tokens=100, messages=MESSAGES, tools=TOOLS) as stream:
        final = stream.get_final_message()
    return {"name": block.name, "input": block.input, "streamed_input": final.content[0].input,
            "usage": usage_of(done.usage)}


def count_tokens():
    counted = client.messages.count_tokens(model=MODEL, system=CACHED_SYSTEM, messages=CACHED_MESSAGES)
    return {"input_tokens": counted.input_tokens}


def errors():
    wrong = Anthropic(base_url=os.environ["ANTHROPIC_BASE_URL"], api_key="sk-ant-wrong", max_retries=0)
    ask = lambda model: lambda: client.messages.create(model=model, max_tokens=10, messages=MESSAGES)
    return {
        "auth": expect_error(lambda: wrong.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES),
                             anthropic.AuthenticationError, 401),
        "rate_limit": expect_error(ask("fake-fail-429"), anthropic.RateLimitError, 429),
        "bad_request": expect_error(ask("fake-fail-400"), anthropic.BadRequestError, 400),
        "server": expect_error(ask("fake-fail-500"), anthropic.InternalServerError, 500),
        "overloaded": expect_error(ask("fake-fail-529"), anthropic.OverloadedError, 529),
    }


def stream_failures():
    def consume(model):
        return lambda: list(client.messages.create(model=model, max_tokens=10, messages=MESSAGES, stream=True))
    # This SDK lets the transport's error through as it is when a stream is cut.
    dropped = (anthropic.APIConnectionError, httpx2.TransportError)
    return {"dropped": expect_raise(consume("fake-drop-3"), dropped),
            "in_stream_error": expect_raise(consume("fake-error-3"), anthropic.APIStatusError)}


checks = Checks(anthropic.__version__)
for check in [messages_plain, messages_stream_raw, messages_stream_helper, caching, tools, count_tokens,
              errors, stream_failures]:
    checks.run(check.__name__, check)
checks.finish()
