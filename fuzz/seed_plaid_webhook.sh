#!/bin/sh
# Writes the plaid_webhook seed corpus: a valid signed webhook (odd mode: header, claims, body
# signed by the target), refused variants (alg none/HS256, stale iat, wrong body hash, no kid) and
# raw tokens (even mode). Generated at run time, never committed (fuzz/corpus is ignored by git).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
corpus="$here/corpus/plaid_webhook"
mkdir -p "$corpus"
body='{"webhook_type":"TRANSACTIONS","webhook_code":"SYNC_UPDATES_AVAILABLE","item_id":"item-1","initial_update_complete":true}'
hash=$(printf '%s' "$body" | sha256sum | cut -d' ' -f1)
seed() { # name mode part...
    name=$1; mode=$2; shift 2
    { printf "\\$(printf '%03o' "$mode")"; first=1
      for part in "$@"; do [ $first = 1 ] || printf '\000'; printf '%s' "$part"; first=0; done
    } > "$corpus/seed_$name"
}
iat=1800000000
seed valid 1 '{"alg":"ES256","kid":"fuzz-key","typ":"JWT"}' "{\"iat\":$iat,\"request_body_sha256\":\"$hash\"}" "$body"
seed stale 1 '{"alg":"ES256","kid":"fuzz-key","typ":"JWT"}' "{\"iat\":$((iat - 301)),\"request_body_sha256\":\"$hash\"}" "$body"
seed wrong_hash 1 '{"alg":"ES256","kid":"fuzz-key"}' "{\"iat\":$iat,\"request_body_sha256\":\"00$hash\"}" "$body"
seed alg_none 1 '{"alg":"none","kid":"fuzz-key"}' "{\"iat\":$iat,\"request_body_sha256\":\"$hash\"}" "$body"
seed alg_hs256 1 '{"alg":"HS256","kid":"fuzz-key"}' "{\"iat\":$iat,\"request_body_sha256\":\"$hash\"}" "$body"
seed no_kid 1 '{"alg":"ES256"}' "{\"iat\":$iat,\"request_body_sha256\":\"$hash\"}" "$body"
seed other_kid 1 '{"alg":"ES256","kid":"other"}' "{\"iat\":$iat,\"request_body_sha256\":\"$hash\"}" "$body"
seed raw_three_parts 0 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImZ1enota2V5In0.eyJpYXQiOjE4MDAwMDAwMDB9.AAAA' "$body"
seed raw_garbage 0 'a.b.c.d' ''
echo "seeded $(ls "$corpus" | wc -l) files into $corpus"
