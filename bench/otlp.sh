#!/usr/bin/env bash
# bench/otlp.sh: OTLP trace ingest throughput, all on 127.0.0.1: concurrent exporters sending
# protobuf batches of GenAI spans to POST /v1/traces of a release `auditpulse`, on SQLite and (when
# BENCH_POSTGRES_URL is set) PostgreSQL, each on a fresh database.
#
# 1. builds `cargo build --release --locked --bin auditpulse --example otlp_bench` into
#    CARGO_TARGET_DIR (default /work/target-bench), unless BENCH_BIN and BENCH_TOOL name binaries;
# 2. per backend: `migrate`, `tenant create`, `user create` (admin), `serve` (clean environment,
#    LOG_LEVEL=warn, the gateway group's per-IP rate limit off so it does not refuse the load), a
#    login and `POST /api/v1/api-keys` (scope ingest:write);
# 3. per BENCH_EXPORTERS value: `otlp_bench` (examples/otlp_bench.rs): that many exporters, each
#    sending batches of BENCH_BATCH spans back to back, BENCH_WARMUP seconds not counted, then
#    BENCH_SECONDS measured; a span counts only when its request was answered 200 with no
#    partial_success; then checks through GET /api/v1/llm/usage that the calls are stored priced;
# 4. prints a table (also saved to bench/results/otlp-<date>.txt) with PASS/FAIL against the
#    target: at least 50,000 spans/s on SQLite.
# Exits 0 when every step ran (whatever the verdicts), non-zero when something broke.
#
# Environment (all optional): CARGO_TARGET_DIR, BENCH_EXPORTERS (default "1 4 8"), BENCH_BATCH
# (default 512), BENCH_SECONDS (default 10), BENCH_WARMUP (default 2), BENCH_POSTGRES_URL (a
# server URL such as postgres://postgres@127.0.0.1:5432/postgres; a database is created and
# dropped), BENCH_BACKENDS (default "sqlite", plus "postgres" with BENCH_POSTGRES_URL), BENCH_BIN / BENCH_TOOL (skip the build), BENCH_PORT (first port tried, default 18580).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-bench}
BIN=${BENCH_BIN:-$CARGO_TARGET_DIR/release/auditpulse}
TOOL=${BENCH_TOOL:-$CARGO_TARGET_DIR/release/examples/otlp_bench}
EXPORTERS=${BENCH_EXPORTERS:-1 4 8}
BATCH=${BENCH_BATCH:-512}
SECONDS_=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
TARGET_SPANS_PER_S=50000

# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in curl awk base64; do command -v "$tool" >/dev/null || die "$tool not found"; done
if [[ -z ${BENCH_BIN:-} || -z ${BENCH_TOOL:-} ]]; then
    log "building: cargo build --release --locked --bin auditpulse --example otlp_bench (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
    (cd "$ROOT" && cargo build --release --locked --bin auditpulse --example otlp_bench) || die "cargo build failed"
fi
[[ -x $BIN ]] || die "no binary at $BIN"
[[ -x $TOOL ]] || die "no binary at $TOOL"

STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS_DIR=$BENCH_DIR/results
mkdir -p "$RESULTS_DIR"
RESULT_FILE=$RESULTS_DIR/otlp-$STAMP.txt
WORK_DIR=$(mktemp -d -t auditpulse-otlp.XXXXXX)
OUT=$WORK_DIR/out
mkdir -p "$OUT"
cd "$WORK_DIR"
pick_port "${BENCH_PORT:-18580}"

if [[ -n ${BENCH_BACKENDS:-} ]]; then
    read -r -a BACKENDS <<<"$BENCH_BACKENDS"
else
    BACKENDS=(sqlite)
    [[ -n ${BENCH_POSTGRES_URL:-} ]] && BACKENDS+=(postgres)
fi
PG_DB=ap_bench_otlp_$$
drop_pg() {
    [[ -n ${BENCH_POSTGRES_URL:-} ]] || return 0
    psql "$BENCH_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap 'drop_pg; cleanup' EXIT

ROWS=()
# run_backend NAME: a fresh instance on NAME, every exporter count measured against it.
run_backend() {
    local backend=$1 data=$WORK_DIR/data-$1
    mkdir -p "$data"
    local key email password
    key="k1:$(head -c 32 /dev/urandom | base64 -w0)"
    email=admin@acme.example
    password="Correct-Horse-Battery-$RANDOM$RANDOM"
    INSTANCE_ENV=(AUDITPULSE_DATA_DIR="$data" AUDITPULSE_MASTER_KEYS="$key" LOG_LEVEL=warn
        AUDITPULSE_METRICS_LISTEN=off AUDITPULSE_RATE_LIMIT_GATEWAY_IP=off
        AUDITPULSE_RATE_LIMIT_API_IP=off AUDITPULSE_RATE_LIMIT_API_PRINCIPAL=off)
    if [[ $backend == postgres ]]; then
        drop_pg
        psql "$BENCH_POSTGRES_URL" -qc "CREATE DATABASE $PG_DB" || die "cannot create $PG_DB"
        INSTANCE_ENV+=(DATABASE_URL="${BENCH_POSTGRES_URL%/*}/$PG_DB")
    fi
    run_ap() { env -i PATH="$PATH" HOME="${HOME:-/root}" "${INSTANCE_ENV[@]}" "$BIN" "$@"; }
    run_ap migrate >"$OUT/setup-$backend.txt" 2>&1 || die "migrate failed: $(cat "$OUT/setup-$backend.txt")"
    run_ap tenant create Acme --slug acme >>"$OUT/setup-$backend.txt" 2>&1 || die "tenant create failed"
    printf '%s\n' "$password" | run_ap user create --email "$email" --tenant acme --role admin \
        >>"$OUT/setup-$backend.txt" 2>&1 || die "user create failed: $(cat "$OUT/setup-$backend.txt")"
    start_server "$OUT/server-$backend.log" "${INSTANCE_ENV[@]}"
    local token api_key code
    token=$(curl --noproxy '*' -sf -H 'Content-Type: application/json' \
        -d "{\"email\":\"$email\",\"password\":\"$password\"}" "$BASE/api/v1/auth/login" |
        sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
    [[ -n $token ]] || die "could not log in as $email"
    code=$(curl --noproxy '*' -s -o "$OUT/api-key.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/json' -d '{"name":"bench","scopes":["ingest:write"]}' "$BASE/api/v1/api-keys")
    [[ $code == 2* ]] || die "POST /api/v1/api-keys answered $code: $(cat "$OUT/api-key.json")"
    api_key=$(sed -n 's/.*"key":"\(ap_[^"]*\)".*/\1/p' "$OUT/api-key.json")
    rm -f "$OUT/api-key.json"
    [[ -n $api_key ]] || die "no key in the answer of POST /api/v1/api-keys"
    local run=0 n line stored
    for n in $EXPORTERS; do
        run=$((run + 1))
        log "$backend: $n exporter(s), batches of $BATCH spans, ${WARMUP}s warm-up + ${SECONDS_}s"
        BENCH_INGEST_KEY=$api_key "$TOOL" --target "$BASE" --exporters "$n" --batch "$BATCH" \
            --seconds "$SECONDS_" --warmup "$WARMUP" --run "$run" >"$OUT/load-$backend-$n.txt" 2>&1 ||
            die "otlp_bench failed: $(cat "$OUT/load-$backend-$n.txt")"
        line=$(grep '^RESULT' "$OUT/load-$backend-$n.txt") || die "no RESULT line: $(cat "$OUT/load-$backend-$n.txt")"
        log "$line"
        ROWS+=("$backend $n $line")
    done
    stored=$(curl --noproxy '*' -sf -H "Authorization: Bearer $token" "$BASE/api/v1/llm/usage" |
        sed -n 's/.*"totals":{"calls":\([0-9]*\),"cost":"\([0-9.]*\)".*/\1 calls, $\2/p')
    log "$backend: stored $stored"
    ROWS+=("$backend stored $stored")
    kill -TERM "$SERVER_PID" && wait_pid_bounded "$SERVER_PID" 30 || true
    SERVER_PID=
}

for backend in "${BACKENDS[@]}"; do run_backend "$backend"; done

field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }
{
    echo "OTLP ingest, $(date -u +%FT%TZ), $(nproc) cores, batch $BATCH, ${SECONDS_}s measured per step"
    printf '%-9s %9s %12s %9s %10s %10s  %s\n' backend exporters spans/s requests p50_ms p99_ms errors
    best=0
    for row in "${ROWS[@]}"; do
        read -r backend n rest <<<"$row"
        if [[ $n == stored ]]; then
            echo "$backend: stored $rest"
            continue
        fi
        rate=$(field "$rest" spans_per_s)
        printf '%-9s %9s %12s %9s %10.1f %10.1f  %s\n' "$backend" "$n" "$rate" "$(field "$rest" requests)" \
            "$(awk -v u="$(field "$rest" p50_us)" 'BEGIN { print u / 1000 }')" \
            "$(awk -v u="$(field "$rest" p99_us)" 'BEGIN { print u / 1000 }')" "$(field "$rest" errors)"
        [[ $backend == sqlite ]] && ge "$rate" "$best" && best=$rate
    done
    echo "target: >= $TARGET_SPANS_PER_S spans/s on SQLite (best step): $best -> $(verdict ge "$best" "$TARGET_SPANS_PER_S")"
} | tee "$RESULT_FILE"
