#!/bin/sh
# Seeds the gateway corpora with provider answers and client requests in their wire shapes.
#   gateway_tap:  streams behind a mode byte (endpoint in bits 0-1, strip in bit 2) and a
#                 chunk-size seed byte
#   gateway_body: whole bodies behind an endpoint byte (0 chat, 1 responses, 2 embeddings,
#                 3 messages, 4 count_tokens)
# The corpora are generated at run time and never committed (fuzz/corpus is ignored by git).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tap="$here/corpus/gateway_tap"
body="$here/corpus/gateway_body"
mkdir -p "$tap" "$body"
chunk='{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}'
usage='{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":2006,"completion_tokens":300,"prompt_tokens_details":{"cached_tokens":1920},"completion_tokens_details":{"reasoning_tokens":128}}}'
chat="data: $chunk\n\ndata: $usage\n\ndata: [DONE]\n\n"
printf "\000\007$chat" > "$tap/seed_chat"
printf "\004\001$chat" > "$tap/seed_chat_strip"
printf "\004\021$(printf "$chat" | sed 's/$/\r/')" > "$tap/seed_chat_strip_crlf"
responses='event: response.created\ndata: {"type":"response.created","response":{"id":"resp_1","model":"o3-2025-04-16","usage":null}}\n\nevent: response.completed\ndata: {"type":"response.completed","response":{"id":"resp_1","model":"o3-2025-04-16","status":"completed","usage":{"input_tokens":1037,"input_tokens_details":{"cached_tokens":1024},"output_tokens":211,"output_tokens_details":{"reasoning_tokens":192}}}}\n\n'
printf "\001\003$responses" > "$tap/seed_responses"
messages='event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":21,"cache_creation_input_tokens":1000,"cache_read_input_tokens":188086,"cache_creation":{"ephemeral_5m_input_tokens":400,"ephemeral_1h_input_tokens":600},"output_tokens":1}}}\n\nevent: ping\ndata: {"type": "ping"}\n\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":393}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n'
printf "\002\005$messages" > "$tap/seed_messages"
printf '\000{"model":"gpt-4o","stream":true,"user":"u1","messages":[{"role":"user","content":"hi"}]}' > "$body/seed_chat_stream"
printf '\000{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":false,"include_obfuscation":true}}' > "$body/seed_chat_options"
printf '\000{"id":"chatcmpl-1","model":"gpt-4o","usage":{"prompt_tokens":2006,"completion_tokens":300,"prompt_tokens_details":{"cached_tokens":1920},"completion_tokens_details":{"reasoning_tokens":128}}}' > "$body/seed_chat_body"
printf '\001{"id":"resp_1","model":"o3","usage":{"input_tokens":1037,"input_tokens_details":{"cached_tokens":1024},"output_tokens":211,"output_tokens_details":{"reasoning_tokens":192}}}' > "$body/seed_responses_body"
printf '\002{"object":"list","model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}' > "$body/seed_embeddings_body"
printf '\003{"model":"claude-sonnet-4-5","stream":true,"metadata":{"user_id":"u-1"},"messages":[]}' > "$body/seed_messages_request"
printf '\003{"id":"msg_1","model":"claude-sonnet-4-5","usage":{"input_tokens":21,"cache_creation_input_tokens":1000,"cache_read_input_tokens":188086,"cache_creation":{"ephemeral_5m_input_tokens":400,"ephemeral_1h_input_tokens":600},"output_tokens":393}}' > "$body/seed_messages_body"
printf '\004{"input_tokens":2095}' > "$body/seed_count_tokens"
