#!/usr/bin/env bash
# bench/transactions.sh: GET /api/v1/transactions latency of the release `auditpulse` binary with
# 1,000,000 spend events of one tenant in its SQLite ledger, all traffic on 127.0.0.1.
#
# Seeds the ledger with `cargo bench --bench ledger_write` (the stored-import benchmark, told to
# keep its database: LEDGER_BENCH_DATA_DIR, with this run's master key), starts `auditpulse serve`
# on that data directory with the same AUDITPULSE_MASTER_KEYS and the API rate limits off, creates
# an admin of tenant `bench` with `auditpulse user create` (password on stdin), logs in, and
# measures with `wrk -t2 -c8 -d10s --timeout 10s --latency` (bearer token):
#   A: the first page, unfiltered (50 newest events)
#   B: a filtered page: account + from/to (June 2024, mid-history) + min_amount=100.00 USD
#   C: a counterparty filter (a mid-tail vendor, ~0.06 % of the events)
#   D: a deep cursor page: the page after the newest event booked before 2024-02-01, unfiltered
#   B1: B again from a single connection (wrk -t1 -c1), its latency without queueing
# Target: p99 < 50 ms for the filtered page (B, and B1). Prints a summary, also saved (with the raw wrk
# output) to bench/results/transactions-<date>.txt.
#
# Usage: bash bench/transactions.sh
# Environment (all optional): CARGO_TARGET_DIR (default /work/target-bench), BENCH_PORT (first
# port to try, default 18280), LEDGER_BENCH_ROWS (default 1000000), BENCH_DURATION (wrk -d,
# default 10s), BUILD_RETRIES (default 0), BENCH_PROFILE (`release`, the default, or `bench`:
# serve the `auditpulse` binary that `cargo bench` builds beside the seed, release without LTO;
# saves a second optimised build).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-bench}
BIN=$CARGO_TARGET_DIR/release/auditpulse
BENCH_PORT=${BENCH_PORT:-18280}
BUILD_RETRIES=${BUILD_RETRIES:-0}
ROWS=${LEDGER_BENCH_ROWS:-1000000}
DURATION=${BENCH_DURATION:-10s}

TARGET_FILTERED_P99_MS=50

# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_tools
command -v base64 >/dev/null || die "base64 not found"
if [[ ${BENCH_PROFILE:-release} == bench ]]; then
    # The binary `cargo bench` builds beside the seed (release without LTO, dev-dependency
    # features unified): no second optimised build.
    log "building: cargo bench --no-run --bench ledger_write (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
    (cd "$ROOT" && cargo bench --locked --no-run --bench ledger_write) || die "cargo build failed"
else
    build_release
fi
pick_port "$BENCH_PORT"

STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS_DIR=$BENCH_DIR/results
mkdir -p "$RESULTS_DIR"
RESULT_FILE=$RESULTS_DIR/transactions-$STAMP.txt
WORK_DIR=$(mktemp -d -t auditpulse-bench.XXXXXX)
OUT=$WORK_DIR/out
DATA=$WORK_DIR/data
mkdir -p "$OUT" "$DATA"
KEY="bench:$(head -c 32 /dev/urandom | base64 -w0)"

# --- seed: 1,000,000 events through one import ---------------------------------------------------

log "seeding $ROWS events: cargo bench --bench ledger_write (LEDGER_BENCH_DATA_DIR=$DATA)"
(cd "$ROOT" && env LEDGER_BENCH_DATA_DIR="$DATA" LEDGER_BENCH_MASTER_KEYS="$KEY" \
    LEDGER_BENCH_ROWS="$ROWS" cargo bench --locked --bench ledger_write) >"$OUT/seed.txt" 2>"$OUT/seed.err" ||
    { tail -n 20 "$OUT/seed.err" >&2; die "seeding failed"; }
SEED_LINE=$(grep 'rows/s' "$OUT/seed.txt" | tail -n1)
[[ -n $SEED_LINE ]] || die "the seed printed no figures: $(cat "$OUT/seed.txt")"
log "$SEED_LINE"

cd "$WORK_DIR"
SERVER_ENV=(AUDITPULSE_DATA_DIR="$DATA" AUDITPULSE_MASTER_KEYS="$KEY" LOG_LEVEL=warn)
log "starting $BIN serve on $BASE with the seeded data directory"
start_server "$OUT/server.log" "${SERVER_ENV[@]}" \
    AUDITPULSE_RATE_LIMIT_API_IP=off AUDITPULSE_RATE_LIMIT_API_PRINCIPAL=off

EMAIL=bench-admin@example.com
PASSWORD="correct horse battery staple $RANDOM$RANDOM"
printf '%s\n' "$PASSWORD" | env -i PATH="$PATH" HOME="${HOME:-/root}" "${SERVER_ENV[@]}" \
    "$BIN" user create --email "$EMAIL" --tenant bench --role admin >"$OUT/user.txt" 2>&1 ||
    die "user create failed: $(cat "$OUT/user.txt")"
ACCESS=$(curl --noproxy '*' -s -H 'Content-Type: application/json' \
    -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login" |
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[[ -n $ACCESS ]] || die "could not log in as the bench admin"

get() { curl --noproxy '*' -s -H "Authorization: Bearer $ACCESS" "$BASE$1"; }
ACCOUNT=$(get /api/v1/accounts | sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p' | head -n1)
[[ -n $ACCOUNT ]] || die "no account in the seeded ledger"
DEEP=$(get '/api/v1/transactions?to=2024-01-31&limit=1' | sed -n 's/.*"next_cursor":"\([^"]*\)".*/\1/p')
[[ -n $DEEP ]] || die "no cursor for the deep page"

declare -A URLS=(
    [a]="/api/v1/transactions"
    [b]="/api/v1/transactions?account=$ACCOUNT&from=2024-06-01&to=2024-06-30&min_amount=100.00&currency=USD"
    [c]="/api/v1/transactions?counterparty=ACME%20OFFICE"
    [d]="/api/v1/transactions?cursor=$DEEP"
)
declare -A LABELS=(
    [a]="A first page, unfiltered"
    [b]="B account + June 2024 + min 100.00 USD"
    [c]="C counterparty 'ACME OFFICE'"
    [d]="D deep cursor (before 2024-02-01), unfiltered"
)
items() { grep -o '"source_ref"' <<<"$1" | wc -l; }

# b1: the filtered page again from one client at a time, its latency without queueing behind
# the other seven connections on a 2-core machine.
URLS[b1]=${URLS[b]}
LABELS[b1]="B1 the same filtered page, one client (-t1 -c1)"
KEYS=(a b b1 c d)
for k in "${KEYS[@]}"; do
    body=$(get "${URLS[$k]}")
    n=$(items "$body")
    ((n > 0)) || die "${LABELS[$k]}: no events ($(head -c 300 <<<"$body"))"
    echo "$n" >"$OUT/$k.items"
    log "benchmark ${LABELS[$k]}: $n events per page; wrk -d$DURATION --latency"
    conns=(-t2 -c8)
    [[ $k == b1 ]] && conns=(-t1 -c1)
    wrk "${conns[@]}" -d"$DURATION" --timeout 10s --latency -H "Authorization: Bearer $ACCESS" "$BASE${URLS[$k]}" >"$OUT/$k.txt"
    kill -0 "$SERVER_PID" 2>/dev/null || die "server died during ${LABELS[$k]}"
done

{
    echo "AuditPulse transactions benchmark, $(date -u +%FT%TZ), $(nproc) CPUs, SQLite, $ROWS events, LOG_LEVEL=warn"
    echo "seed: $SEED_LINE"
    echo
    for k in "${KEYS[@]}"; do
        done_n=$(awk '/requests in/ { print $1 }' "$OUT/$k.txt")
        errors=$(wrk_socket_errors "$OUT/$k.txt")
        line="$(wrk_rps "$OUT/$k.txt") req/s ($done_n requests), p50 $(wrk_pct "$OUT/$k.txt" 50) ms, p90 $(wrk_pct "$OUT/$k.txt" 90) ms, p99 $(wrk_pct "$OUT/$k.txt" 99) ms, $(cat "$OUT/$k.items") events/page, non-2xx $(wrk_non2xx "$OUT/$k.txt")${errors:+, socket errors: $errors}"
        if [[ $k == b || $k == b1 ]]; then
            # No completed request, or one that timed out, is a failure, whatever the percentiles say.
            ok=FAIL
            if [[ -z $errors ]] && ((${done_n:-0} > 0)) && lt "$(wrk_pct "$OUT/$k.txt" 99)" "$TARGET_FILTERED_P99_MS"; then ok=PASS; fi
            line+="  [target p99 < ${TARGET_FILTERED_P99_MS} ms: $ok]"
        fi
        printf '%-50s %s\n' "${LABELS[$k]}" "$line"
    done
} >"$OUT/summary.txt"
cat "$OUT/summary.txt"
{
    cat "$OUT/summary.txt"
    for k in "${KEYS[@]}"; do echo; echo "--- ${LABELS[$k]}: ${URLS[$k]}"; cat "$OUT/$k.txt"; done
} >"$RESULT_FILE"
head -n 1000 "$OUT/server.log" >"${RESULT_FILE%.txt}-server.log"
log "saved $RESULT_FILE (server log: ${RESULT_FILE%.txt}-server.log)"
