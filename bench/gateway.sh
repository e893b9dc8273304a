#!/usr/bin/env bash
# bench/gateway.sh: the LLM gateway's added latency, DIRECT and GATEWAY side by side, all on
# 127.0.0.1.
#
# 1. builds `cargo build --release --locked --bin auditpulse --example gateway_bench` into
#    CARGO_TARGET_DIR (default /work/target-bench), unless BENCH_BIN and BENCH_TOOL name binaries;
# 2. starts the mock upstream (`gateway_bench mock`, examples/gateway_bench/mock.rs: a fixed chat
#    completion with usage, or a few `data:` chunks, the usage chunk and `data: [DONE]`, at once);
# 3. sets up a release `auditpulse` on SQLite in a temporary data dir (clean environment, a fresh
#    AUDITPULSE_MASTER_KEYS, LOG_LEVEL=warn, AUDITPULSE_ALLOW_PRIVATE_OUTBOUND=true for the
#    loopback mock, AUDITPULSE_RATE_LIMIT_API_{IP,PRINCIPAL}=off so the limiter does not refuse the
#    load): `migrate`, `tenant create`, `user create` (admin); then with `serve` running, a login,
#    `POST /api/v1/providers` (openai, base_url the mock) and `POST /api/v1/api-keys`
#    (scope gateway:use);
# 4. for each rate in BENCH_RATES and each mode (plain, stream): `gateway_bench load`, open loop,
#    RATE requests/s to EACH of DIRECT (client to mock) and GATEWAY (client to AuditPulse to mock),
#    alternating, BENCH_WARMUP seconds not counted, then BENCH_SECONDS measured; latency to the
#    last byte (and for streams to the first body byte), errors by kind;
# 5. samples the server's VmRSS every 0.2 s and reads VmHWM at the end;
# 6. prints a table (also saved to bench/results/gateway-<date>.txt) with PASS/FAIL against the
#    targets: added p99 (GATEWAY p99 - DIRECT p99) < 1 ms at 2,000 requests/s, no GATEWAY error at
#    5,000 requests/s, peak RSS < 100 MiB.
# Exits 0 when every step ran (whatever the verdicts), non-zero when something broke.
#
# Environment (all optional): CARGO_TARGET_DIR, BENCH_RATES (default "1000 2000 5000"),
# BENCH_MODES (default "plain stream"), BENCH_SECONDS (default 10), BENCH_WARMUP (default 3),
# BENCH_LOAD_THREADS (generator workers, default 2), BENCH_MOCK_THREADS (default 1),
# BENCH_BIN / BENCH_TOOL (skip the build), BENCH_PORT (first port tried, default 18480),
# BENCH_LOG_LEVEL (the server's LOG_LEVEL, default warn), BENCH_BUDGET=on (a tenant-wide budget
# with a swap threshold and a hard limit, never reached, so every call goes through the budget
# check and its reservation; bench/budget_gateway.sh compares off and on), BENCH_PERF="RATE MODE" (e.g. "2000 plain":
# `perf record` the server during that step's measured seconds; reports by thread and by symbol
# next to the results).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-bench}
BIN=${BENCH_BIN:-$CARGO_TARGET_DIR/release/auditpulse}
TOOL=${BENCH_TOOL:-$CARGO_TARGET_DIR/release/examples/gateway_bench}
RATES=${BENCH_RATES:-1000 2000 5000}
MODES=${BENCH_MODES:-plain stream}
SECONDS_=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-3}
LOAD_THREADS=${BENCH_LOAD_THREADS:-2}
MOCK_THREADS=${BENCH_MOCK_THREADS:-1}
LOG_LEVEL_USED=${BENCH_LOG_LEVEL:-warn}
TARGET_ADDED_P99_US=1000
TARGET_ADDED_AT_RPS=2000
TARGET_NO_ERRORS_AT_RPS=5000
TARGET_RSS_MIB=100

# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in curl awk base64; do command -v "$tool" >/dev/null || die "$tool not found"; done
if [[ -z ${BENCH_BIN:-} || -z ${BENCH_TOOL:-} ]]; then
    log "building: cargo build --release --locked --bin auditpulse --example gateway_bench (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
    (cd "$ROOT" && cargo build --release --locked --bin auditpulse --example gateway_bench) || die "cargo build failed"
fi
[[ -x $BIN ]] || die "no binary at $BIN"
[[ -x $TOOL ]] || die "no binary at $TOOL"

STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS_DIR=$BENCH_DIR/results
mkdir -p "$RESULTS_DIR"
RESULT_FILE=$RESULTS_DIR/gateway-$STAMP.txt
WORK_DIR=$(mktemp -d -t auditpulse-gateway.XXXXXX)
OUT=$WORK_DIR/out
DATA=$WORK_DIR/data
mkdir -p "$OUT" "$DATA"
cd "$WORK_DIR"

# --- the mock upstream ---------------------------------------------------------------------------

PROVIDER_KEY="sk-bench-$(head -c 12 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9')"
pick_port "${BENCH_PORT:-18480}"
MOCK_PORT=$PORT
MOCK_LLM_KEY=$PROVIDER_KEY "$TOOL" mock --listen "127.0.0.1:$MOCK_PORT" --threads "$MOCK_THREADS" >"$OUT/mock.log" 2>&1 &
MOCK_PID=$!
BG_PIDS+=("$MOCK_PID")
for _ in $(seq 100); do grep -q '^listening' "$OUT/mock.log" && break; alive "$MOCK_PID" || break; sleep 0.1; done
grep -q '^listening' "$OUT/mock.log" || die "the mock did not start: $(cat "$OUT/mock.log")"
MOCK=http://127.0.0.1:$MOCK_PORT
log "mock upstream on $MOCK (pid $MOCK_PID, $MOCK_THREADS thread(s))"

# --- the server ----------------------------------------------------------------------------------

pick_port $((MOCK_PORT + 1))
KEY="k1:$(head -c 32 /dev/urandom | base64 -w0)"
EMAIL=admin@acme.example
PASSWORD="Correct-Horse-Battery-$RANDOM$RANDOM"
INSTANCE_ENV=(AUDITPULSE_DATA_DIR="$DATA" AUDITPULSE_MASTER_KEYS="$KEY" LOG_LEVEL="$LOG_LEVEL_USED"
    AUDITPULSE_METRICS_LISTEN=off AUDITPULSE_ALLOW_PRIVATE_OUTBOUND=true
    AUDITPULSE_RATE_LIMIT_API_IP=off AUDITPULSE_RATE_LIMIT_API_PRINCIPAL=off)
run_ap() { env -i PATH="$PATH" HOME="${HOME:-/root}" "${INSTANCE_ENV[@]}" "$BIN" "$@"; }
run_ap migrate >"$OUT/setup.txt" 2>&1 || die "migrate failed: $(cat "$OUT/setup.txt")"
run_ap tenant create Acme --slug acme >>"$OUT/setup.txt" 2>&1 || die "tenant create failed: $(cat "$OUT/setup.txt")"
printf '%s\n' "$PASSWORD" | run_ap user create --email "$EMAIL" --tenant acme --role admin >>"$OUT/setup.txt" 2>&1 ||
    die "user create failed: $(cat "$OUT/setup.txt")"
log "starting $BIN serve on $BASE (SQLite in $DATA, LOG_LEVEL=$LOG_LEVEL_USED)"
start_server "$OUT/server.log" "${INSTANCE_ENV[@]}"
GATEWAY=$BASE

TOKEN=$(curl --noproxy '*' -sf -H 'Content-Type: application/json' \
    -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login" |
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[[ -n $TOKEN ]] || die "could not log in as $EMAIL"
# api_post PATH JSON FILE: POSTs as the admin; the status code, the body in FILE.
api_post() {
    curl --noproxy '*' -s -o "$3" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' -d "$2" "$BASE$1"
}
code=$(api_post /api/v1/providers "{\"provider\":\"openai\",\"api_key\":\"$PROVIDER_KEY\",\"base_url\":\"$MOCK/v1\",\"label\":\"bench\"}" "$OUT/provider.json")
[[ $code == 2* ]] || die "POST /api/v1/providers answered $code: $(cat "$OUT/provider.json")"
code=$(api_post /api/v1/api-keys '{"name":"bench","scopes":["gateway:use"]}' "$OUT/api-key.json")
[[ $code == 2* ]] || die "POST /api/v1/api-keys answered $code: $(cat "$OUT/api-key.json")"
API_KEY=$(sed -n 's/.*"key":"\(ap_[^"]*\)".*/\1/p' "$OUT/api-key.json")
[[ -n $API_KEY ]] || die "no key in the answer of POST /api/v1/api-keys"
rm -f "$OUT/api-key.json"
BUDGET=${BENCH_BUDGET:-off}
if [[ $BUDGET == on ]]; then
    code=$(api_post /api/v1/budgets '{"name":"bench cap","scope":{"kind":"tenant"},"spend":"llm","period":"month","amount":"1000000.00","currency":"USD","swap_threshold":0.99,"model_chain":["gpt-4o","gpt-4o-mini"],"hard_limit":true}' "$OUT/budget.json")
    [[ $code == 2* ]] || die "POST /api/v1/budgets answered $code: $(cat "$OUT/budget.json")"
    log "budget enforcement on: a tenant-wide hard limit and swap threshold, never reached"
fi
check=$(curl --noproxy '*' -s -o "$OUT/check.json" -w '%{http_code}' -H "Authorization: Bearer $API_KEY" \
    -H 'Content-Type: application/json' -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}' \
    "$GATEWAY/v1/chat/completions")
[[ $check == 200 ]] || die "a call through the gateway answered $check: $(cat "$OUT/check.json")"
log "tenant acme, provider openai -> $MOCK, an API key with gateway:use; one call through the gateway: 200"
IDLE_RSS_KB=$(proc_kb "$SERVER_PID" VmRSS)

# --- RSS sampling --------------------------------------------------------------------------------

(
    while kill -0 "$SERVER_PID" 2>/dev/null; do
        proc_kb "$SERVER_PID" VmRSS 2>/dev/null || true
        sleep 0.2
    done
) >"$OUT/rss.txt" &
BG_PIDS+=($!)

# cpu_ticks PID: user + system CPU time of a process, in clock ticks.
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# per_request TICKS0 TICKS1 REQUESTS: microseconds of CPU per request.
per_request() { awk -v a="$1" -v b="$2" -v n="$3" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", (b - a) * 1e6 / hz / n }'; }

# --- the steps -----------------------------------------------------------------------------------

: >"$OUT/results.txt"
for rate in $RATES; do
    for mode in $MODES; do
        args=(load --direct "$MOCK" --gateway "$GATEWAY" --rate "$rate" --seconds "$SECONDS_"
            --warmup "$WARMUP" --threads "$LOAD_THREADS")
        [[ $mode == stream ]] && args+=(--stream)
        log "step: $rate requests/s to each of direct and gateway, $mode, ${WARMUP}s warm-up + ${SECONDS_}s"
        PERF_PID=
        if [[ ${BENCH_PERF:-} == "$rate $mode" ]]; then
            command -v perf >/dev/null || die "BENCH_PERF is set but perf is not installed"
            PERF_DATA=$RESULTS_DIR/gateway-$STAMP-$rate-$mode.perf.data
            (sleep "$WARMUP" && exec perf record -q -F 999 -g -p "$SERVER_PID" -o "$PERF_DATA" -- sleep "$SECONDS_") \
                >"$OUT/perf.log" 2>&1 &
            PERF_PID=$!
            BG_PIDS+=("$PERF_PID")
        fi
        BENCH_PROVIDER_KEY=$PROVIDER_KEY BENCH_GATEWAY_KEY=$API_KEY "$TOOL" "${args[@]}" \
            >"$OUT/step-$rate-$mode.txt" 2>&1 &
        LOAD_PID=$!
        server_cpu0=$(cpu_ticks "$SERVER_PID") mock_cpu0=$(cpu_ticks "$MOCK_PID")
        wait "$LOAD_PID" || die "the load step failed: $(tail -n 5 "$OUT/step-$rate-$mode.txt")"
        # CPU per request: the server's and the mock's CPU time over the whole step (warm-up
        # included) divided by the requests each served in it.
        total_requests=$(awk -v r="$rate" -v s="$SECONDS_" -v w="$WARMUP" 'BEGIN { printf "%d", r * (s + w) }')
        echo "CPU mode=$mode rate=$rate server_us_per_request=$(per_request "$server_cpu0" "$(cpu_ticks "$SERVER_PID")" "$total_requests") mock_us_per_request=$(per_request "$mock_cpu0" "$(cpu_ticks "$MOCK_PID")" $((total_requests * 2)))" \
            >>"$OUT/step-$rate-$mode.txt"
        if [[ -n $PERF_PID ]]; then
            wait "$PERF_PID" || log "perf record failed: $(cat "$OUT/perf.log")"
            perf report -i "$PERF_DATA" --no-children --sort comm --stdio -g none 2>/dev/null | grep -v '^#' | grep . | head -n 15 \
                >"$RESULTS_DIR/gateway-$STAMP-$rate-$mode.perf-threads.txt" || true
            perf report -i "$PERF_DATA" --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep -v '^#' | grep . | head -n 60 \
                >"$RESULTS_DIR/gateway-$STAMP-$rate-$mode.perf-symbols.txt" || true
            log "perf profile of the server during this step: $RESULTS_DIR/gateway-$STAMP-$rate-$mode.perf-*.txt"
        fi
        alive "$SERVER_PID" || die "the server died during the $rate/$mode step"
        echo "RSS mode=$mode rate=$rate vmrss_kb=$(proc_kb "$SERVER_PID" VmRSS)" >>"$OUT/step-$rate-$mode.txt"
        grep -E '^(RESULT|ADDED|ERROR|RSS|CPU) ' "$OUT/step-$rate-$mode.txt" | tee -a "$OUT/results.txt" >&2
    done
done
HWM_KB=$(proc_kb "$SERVER_PID" VmHWM)
MAX_SAMPLED_KB=$(sort -n "$OUT/rss.txt" | tail -n 1)
PEAK_KB=$(awk -v a="$HWM_KB" -v b="${MAX_SAMPLED_KB:-0}" 'BEGIN { print (a > b ? a : b) }')

# --- the table -----------------------------------------------------------------------------------

# field LINE KEY: the value of KEY=... in LINE.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
ms() { awk -v us="$1" 'BEGIN { printf "%.3f", us / 1000 }'; }
line_of() { { grep -E "^$1 mode=$2 rate=$3( |$)" "$OUT/results.txt" | grep -E "${4:-.}" | head -n 1; } || true; }
row() { printf '%-6s %-6s %-8s %7s %8s %8s %8s %8s %8s %8s %7s %6s\n' "$@"; }
{
    echo "AuditPulse gateway latency, $(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), SQLite, LOG_LEVEL=$LOG_LEVEL_USED, budget enforcement $BUDGET"
    echo "open loop, each rate to EACH of direct and gateway, interleaved; ${WARMUP}s warm-up + ${SECONDS_}s measured per step; generator $LOAD_THREADS threads, mock $MOCK_THREADS"
    echo "latency = send to last byte; ttfb = send to first body byte; ms; lag p99 = how late the generator sent (schedule health)"
    echo
    row rate mode target "rps" p50 p90 p99 max "ttfb p50" "ttfb p99" errors "lag99"
    for rate in $RATES; do
        for mode in $MODES; do
            for target in direct gateway; do
                l=$(line_of RESULT "$mode" "$rate" "target=$target ")
                [[ -n $l ]] || continue
                row "$rate" "$mode" "$target" "$(field "$l" achieved_rps)" "$(ms "$(field "$l" p50_us)")" \
                    "$(ms "$(field "$l" p90_us)")" "$(ms "$(field "$l" p99_us)")" "$(ms "$(field "$l" max_us)")" \
                    "$(ms "$(field "$l" ttfb_p50_us)")" "$(ms "$(field "$l" ttfb_p99_us)")" \
                    "$(field "$l" errors)" "$(ms "$(field "$l" lag_p99_us)")"
            done
            a=$(line_of ADDED "$mode" "$rate")
            r=$(line_of RSS "$mode" "$rate")
            c=$(line_of CPU "$mode" "$rate")
            printf '%-6s %-6s %-8s added p50 %s ms, p90 %s ms, p99 %s ms; server VmRSS after the step %s MiB; CPU per request: server %s us, mock %s us\n' \
                "$rate" "$mode" "added" "$(ms "$(field "$a" p50_us)")" "$(ms "$(field "$a" p90_us)")" \
                "$(ms "$(field "$a" p99_us)")" "$(mib "$(field "$r" vmrss_kb)")" \
                "$(field "$c" server_us_per_request)" "$(field "$c" mock_us_per_request)"
        done
    done
    echo
    grep '^ERROR ' "$OUT/results.txt" || echo "no errors"
    echo
    echo "server RSS: idle after setup $(mib "$IDLE_RSS_KB") MiB, VmHWM $(mib "$HWM_KB") MiB, largest 0.2 s sample $(mib "${MAX_SAMPLED_KB:-0}") MiB"
    echo
    for mode in $MODES; do
        a=$(line_of ADDED "$mode" "$TARGET_ADDED_AT_RPS")
        [[ -n $a ]] && echo "$(verdict lt "$(field "$a" p99_us)" "$TARGET_ADDED_P99_US") added p99 $mode at $TARGET_ADDED_AT_RPS/s: $(ms "$(field "$a" p99_us)") ms (target < $(ms $TARGET_ADDED_P99_US) ms)"
        g=$(line_of RESULT "$mode" "$TARGET_NO_ERRORS_AT_RPS" "target=gateway ")
        [[ -n $g ]] && echo "$(verdict lt "$(field "$g" errors)" 1) gateway errors $mode at $TARGET_NO_ERRORS_AT_RPS/s: $(field "$g" errors) of $(field "$g" sent) (target 0)"
    done
    echo "$(verdict lt "$(mib "$PEAK_KB")" "$TARGET_RSS_MIB") peak server RSS $(mib "$PEAK_KB") MiB (target < $TARGET_RSS_MIB MiB)"
    echo "server log: $(grep -c 'WARN\|ERROR' "$OUT/server.log" || true) WARN/ERROR lines"
} >"$OUT/summary.txt"
cat "$OUT/summary.txt"
{ cat "$OUT/summary.txt"; echo; echo "--- raw"; cat "$OUT/results.txt"; } >"$RESULT_FILE"
head -n 1000 "$OUT/server.log" >"$RESULTS_DIR/gateway-$STAMP-server.log"
log "saved $RESULT_FILE"
