"""The official `openai` Python SDK against an OpenAI-compatible endpoint (the fake, or the
gateway in front of it): plain and streamed chat completions (with and without
`stream_options.include_usage`), tool calls, the Responses API, embeddings, the model list, and
errors (the SDK's exception class, status and request id). Reads OPENAI_BASE_URL and
OPENAI_API_KEY; the error checks use the fake's magic model names (`fake-fail-429`, ...).
Prints a JSON summary (see _check.py) and exits non-zero on any failure.
"""

import base64
import json
import os
import struct

import openai
from openai import OpenAI

from _check import Checks, expect_error, expect_raise

MODEL = os.environ.get("OPENAI_SDK_MODEL", "gpt-4o-mini")
MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say hello please"},
]
TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}}]

client = OpenAI(base_url=os.environ["OPENAI_BASE_URL"], api_key=os.environ["OPENAI_API_KEY"],
                max_retries=0, timeout=30)


def usage_of(usage):
    return None if usage is None else usage.model_dump(mode="json", exclude_none=True)


def models():
    ids = [m.id for m in client.models.list()]
    assert ids, "no models"
    return {"ids": ids}


def chat_plain():
    done = client.chat.completions.create(model=MODEL, messages=MESSAGES)
    text = done.choices[0].message.content
    assert text, "empty answer"
    assert done.usage.prompt_tokens_details.cached_tokens is not None
    return {"text": text, "finish_reason": done.choices[0].finish_reason, "usage": usage_of(done.usage)}


def chat_stream_with_usage():
    chunks = list(client.chat.completions.create(
        model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None, "no final usage chunk"
    assert all(c.usage is None for c in chunks[:-1]), "usage before the last chunk"
    return {"text": text, "chunks": len(chunks), "usage": usage_of(last.usage)}


def chat_stream_without_usage():
    chunks = list(client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))
    assert all(c.usage is None for c in chunks), "usage without include_usage"
    assert all(c.choices for c in chunks), "a chunk without choices"
    return {"text": "".join(c.choices[0].delta.content or "" for c in chunks), "chunks": len(chunks)}


def chat_stream_helper():
    with client.chat.completions.stream(model=MODEL, messages=MESSAGES,
                                        stream_options={"include_usage": True}) as stream:
        final = stream.get_final_completion()
    return {"text": final.choices[0].message.content, "usage": usage_of(final.usage)}


def chat_tools():
    done = client.chat.completions.create(model=MODEL, messages=MESSAGES, tools=TOOLS)
    call = done.choices[0].message.tool_calls[0]
    assert done.choices[0].finish_reason == "tool_calls"
    streamed = list(client.chat.completions.create(model=MODEL, messages=MESSAGES, tools=TOOLS,
                                                   stream=True, stream_options={"include_usage": True}))
    pieces = [tc.function.arguments or "" for c in streamed if c.choices
              for tc in (c.choices[0].delta.tool_calls or [])]
    return {"name": call.function.name, "arguments": json.loads(call.function.arguments),
            "streamed_arguments": json.loads("".join(pieces)), "usage": usage_of(done.usage)}


def responses_plain():
    done = client.responses.create(model=MODEL, instructions="Be brief.", input="Say hi")
    assert done.status == "completed"
    return {"text": done.output_text, "usage": usage_of(done.usage)}


def responses_stream():
    events = list(client.responses.create(model=MODEL, instructions="Be brief.", input="Say hi", stream=True))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed", kinds
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    with client.responses.stream(model=MODEL, input="Say hi") as stream:
        final = stream.get_final_response()
    assert final.output_text == text, (final.output_text, text)
    return {"text": text, "events": kinds, "usage": usage_of(events[-1].response.usage)}


def embeddings():
    floats = client.embeddings.create(model="text-embedding-3-small", input=["a b", "c"])
    packed = client.embeddings.create(model="text-embedding-3-small", input="a b c",
                                      encoding_format="base64", dimensions=4)
    raw = packed.data[0].embedding
    if isinstance(raw, str):  # the SDK may hand back the base64 text as it came
        raw = list(struct.unpack("<4f", base64.b64decode(raw)))
    assert len(raw) == 4, raw
    return {"count": len(floats.data), "dims": len(floats.data[0].embedding),
            "usage": usage_of(floats.usage), "base64_dims": len(raw)}


def errors():
    wrong = OpenAI(base_url=os.environ["OPENAI_BASE_URL"], api_key="sk-wrong-0123456789", max_retries=0)
    ask = lambda model: lambda: client.chat.completions.create(model=model, messages=MESSAGES)
    seen = {
        "auth": expect_error(lambda: wrong.chat.completions.create(model=MODEL, messages=MESSAGES),
                             openai.AuthenticationError, 401),
        "rate_limit": expect_error(ask("fake-fail-429"), openai.RateLimitError, 429),
        "bad_request": expect_error(ask("fake-fail-400"), openai.BadRequestError, 400),
        "server": expect_error(ask("fake-fail-500"), openai.InternalServerError, 500),
    }
    retrying = client.with_options(max_retries=1)
    seen["retried"] = expect_error(
        lambda: retrying.chat.completions.create(model="fake-fail-500", messages=MESSAGES),
        openai.InternalServerError, 500)
    return seen


def stream_failures():
    def consume(model):
        return lambda: list(client.chat.completions.create(model=model, messages=MESSAGES, stream=True))
    return {"dropped": expect_raise(consume("fake-drop-3"), openai.APIConnectionError),
            "in_stream_error": expect_raise(consume("fake-error-2"), openai.APIError)}


checks = Checks(openai.__version__)
for check in [models, chat_plain, chat_stream_with_usage, chat_stream_without_usage, chat_stream_helper,
              chat_tools, responses_plain, responses_stream, embeddings, errors, stream_failures]:
    checks.run(check.__name__, check)
checks.finish()
