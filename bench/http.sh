#!/usr/bin/env bash
# bench/http.sh: HTTP benchmarks of the release `auditpulse` binary, all traffic on 127.0.0.1.
#
# Measures:
#   - idle RSS of a freshly started server (SQLite in a temp dir, LOG_LEVEL=warn or $BENCH_LOG_LEVEL)
#   - A: /healthz throughput and latency (wrk -t2 -c64 -d10s --latency)
#   - B: a fixed-size flood (100,000 requests) of GET /api/v1/tenants, each request from a fresh
#        random X-Forwarded-For IPv4 address (401 expected: nearly every request is a new client),
#        while a second wrk measures /healthz latency alongside it and the server's RSS is sampled
#        every 0.2 s: memory under ~100k distinct clients of the per-IP rate limiter
#   - C: the same flood, 1 s later, from a fixed pool of 100 addresses (~1,000 requests each), so the
#        per-IP limiter refuses (429) and blocks them: the refusal path and its security events
#   - peak RSS over the whole run (VmHWM), and the server log's WARN "security event" lines
# and prints a summary with PASS/FAIL against the targets, also saved to bench/results/http-<date>.txt.
# Exits 0 when the measurements completed (whatever PASS/FAIL says), non-zero when something broke.
#
# Usage: bash bench/http.sh
# Environment (all optional):
#   CARGO_TARGET_DIR  build directory (default /work/target-bench, apart from /work/target)
#   BENCH_PORT        first port to try (default 18080; the next free one up to +100 is used)
#   FLOOD_REQUESTS    size of each flood (default 100000)
#   FLOOD_POOL        addresses in flood C's pool (default 100)
#   BENCH_LOG_LEVEL   the server's LOG_LEVEL (default warn; info adds one access log line per request)
#   BUILD_RETRIES     retries, 60 s apart, when the build fails (default 0)
# Installs wrk from Debian (apt-get) when it is missing.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-bench}
BIN=$CARGO_TARGET_DIR/release/auditpulse
BENCH_PORT=${BENCH_PORT:-18080}
FLOOD_REQUESTS=${FLOOD_REQUESTS:-100000}
FLOOD_POOL=${FLOOD_POOL:-100}
BUILD_RETRIES=${BUILD_RETRIES:-0}
FLOOD_THREADS=1
FLOOD_CONNS=64
FLOOD_MAX_SECS=60 # upper bound only: the flood stops itself after FLOOD_REQUESTS responses
LOG_LEVEL_USED=${BENCH_LOG_LEVEL:-warn}
[[ $FLOOD_REQUESTS =~ ^[1-9][0-9]*$ ]] || { echo "FLOOD_REQUESTS must be a positive integer" >&2; exit 2; }
[[ $FLOOD_POOL =~ ^[1-9][0-9]*$ ]] || { echo "FLOOD_POOL must be a positive integer (flood C uses a pool)" >&2; exit 2; }

# Targets.
TARGET_IDLE_RSS_MIB=30
TARGET_HEALTHZ_RPS=20000
TARGET_FLOOD_HEALTHZ_P99_MS=20
TARGET_FLOOD_RSS_MIB=100

# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. tools and 2. build -------------------------------------------------------------------

ensure_tools
build_release

# --- 3. server -------------------------------------------------------------------------------

pick_port "$BENCH_PORT"

STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS_DIR=$BENCH_DIR/results
mkdir -p "$RESULTS_DIR"
RESULT_FILE=$RESULTS_DIR/http-$STAMP.txt

WORK_DIR=$(mktemp -d -t auditpulse-bench.XXXXXX)
OUT=$WORK_DIR/out
mkdir -p "$OUT"
cd "$WORK_DIR" # ./data (SQLite, generated development secrets) goes here; no .env here either

log "starting $BIN serve on $BASE in $WORK_DIR (LOG_LEVEL=$LOG_LEVEL_USED)"
start_server "$OUT/server.log" LOG_LEVEL="$LOG_LEVEL_USED" AUDITPULSE_TRUSTED_PROXIES=127.0.0.1

sleep 2
kill -0 "$SERVER_PID" 2>/dev/null || die "server exited after becoming ready"
IDLE_RSS_KB=$(proc_kb "$SERVER_PID" VmRSS)
log "idle RSS: $(mib "$IDLE_RSS_KB") MiB"

probe=$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' --max-time 2 -H 'X-Forwarded-For: 198.51.100.7' "$BASE/api/v1/tenants" || true)
log "probe: GET /api/v1/tenants without credentials -> $probe"
[[ $probe == 401 || $probe == 429 ]] || log "WARNING: expected 401 from /api/v1/tenants, got '$probe'"

# --- A. /healthz throughput ------------------------------------------------------------------

log "benchmark A: wrk -t2 -c64 -d10s --latency $BASE/healthz"
wrk -t2 -c64 -d10s --latency "$BASE/healthz" >"$OUT/a.txt"
cat "$OUT/a.txt" >&2
A_RPS=$(wrk_rps "$OUT/a.txt")
A_P50=$(wrk_pct "$OUT/a.txt" 50)
A_P90=$(wrk_pct "$OUT/a.txt" 90)
A_P99=$(wrk_pct "$OUT/a.txt" 99)
A_NON2XX=$(wrk_non2xx "$OUT/a.txt")
A_SOCKERR=$(wrk_socket_errors "$OUT/a.txt")
[[ -n $A_RPS && -n $A_P99 ]] || die "could not parse wrk output of benchmark A"
kill -0 "$SERVER_PID" 2>/dev/null || die "server died during benchmark A"

# --- B and C. floods + /healthz alongside ---------------------------------------------------

# sec_events [PATTERN]: WARN lines of the server log that are security events (and match PATTERN).
sec_events() {
    grep ' WARN ' "$OUT/server.log" | grep 'security event' | grep -c -- "${1:-.}" || true
}

# run_flood TAG LABEL ADDRESSES: FLOOD_REQUESTS x GET /api/v1/tenants (flood.lua with ADDRESSES,
# see there), with /healthz latency measured alongside and the server's RSS sampled every 0.2 s.
# Raw output goes to $OUT/TAG-flood.txt, TAG-healthz.txt, TAG-rss.txt; the figures to variables
# TAG_REQ, TAG_401, ..., TAG_HZ_P99, TAG_MAX_RSS_KB, TAG_SEC_EVENTS, TAG_SEC_BLOCKS.
run_flood() {
    local tag=$1 label=$2 addresses=$3
    local flood_out=$OUT/$tag-flood.txt health_out=$OUT/$tag-healthz.txt rss_out=$OUT/$tag-rss.txt
    local n flood_pid health_pid sampler_pid flood_rc health_rc start end line
    local ev0 blk0
    ev0=$(sec_events)
    blk0=$(sec_events rate_limit.block)

    log "benchmark $tag ($label): $FLOOD_REQUESTS x GET /api/v1/tenants, X-Forwarded-For addresses=$addresses (wrk -t$FLOOD_THREADS -c$FLOOD_CONNS), /healthz measured alongside"
    start=$(date +%s.%N)
    wrk -t"$FLOOD_THREADS" -c"$FLOOD_CONNS" -d"${FLOOD_MAX_SECS}s" --timeout 5s --latency \
        -s "$BENCH_DIR/flood.lua" "$BASE/api/v1/tenants" -- "$FLOOD_REQUESTS" "$FLOOD_THREADS" "$addresses" >"$flood_out" 2>&1 &
    flood_pid=$!
    BG_PIDS+=("$flood_pid")

    # RSS sampler: every 0.2 s while the flood runs (bounded by the flood's own upper bound).
    (
        for ((n = 0; n < (FLOOD_MAX_SECS + 10) * 5; n++)); do
            alive "$flood_pid" || break
            proc_kb "$SERVER_PID" VmRSS 2>/dev/null || true
            sleep 0.2
        done
    ) >"$rss_out" &
    sampler_pid=$!
    BG_PIDS+=("$sampler_pid")

    sleep 0.5
    alive "$flood_pid" || log "WARNING: flood $tag ended within 0.5 s; /healthz latency below is not under load"
    # The /healthz probe runs until the flood ends: a generous -d, then SIGINT, on which wrk stops
    # and prints its statistics, so both runs overlap for the flood's whole duration.
    wrk -t1 -c8 -d"${FLOOD_MAX_SECS}s" --latency "$BASE/healthz" >"$health_out" 2>&1 &
    health_pid=$!
    BG_PIDS+=("$health_pid")

    # Wait until every flood thread has its share (or wrk ends on its own at -d), then SIGINT wrk:
    # its threads are already stopped, but its main thread would otherwise sleep out the whole -d.
    for ((n = 0; n < (FLOOD_MAX_SECS + 10) * 20; n++)); do
        alive "$flood_pid" || break
        (($(grep -c '^FLOOD_THREAD_DONE' "$flood_out" || true) >= FLOOD_THREADS)) && break
        sleep 0.05
    done
    end=$(date +%s.%N)
    kill -INT "$flood_pid" 2>/dev/null || true
    flood_rc=0
    wait_pid_bounded "$flood_pid" 10 || flood_rc=$?
    kill -INT "$health_pid" 2>/dev/null || true
    health_rc=0
    wait_pid_bounded "$health_pid" 10 || health_rc=$?
    wait_pid_bounded "$sampler_pid" 5 || true
    BG_PIDS=()

    cat "$flood_out" >&2
    cat "$health_out" >&2
    ((flood_rc == 0)) || die "flood $tag: wrk exited with status $flood_rc"
    ((health_rc == 0)) || die "flood $tag: /healthz wrk alongside exited with status $health_rc"
    kill -0 "$SERVER_PID" 2>/dev/null || die "server died during flood $tag"

    line=$(grep -m1 '^FLOOD ' "$flood_out" || true)
    [[ -n $line ]] || die "flood $tag: summary line missing (see wrk output above)"
    kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
    printf -v "${tag}_REQ" '%s' "$(kv requests)"
    printf -v "${tag}_401" '%s' "$(kv s401)"
    printf -v "${tag}_429" '%s' "$(kv s429)"
    printf -v "${tag}_2XX" '%s' "$(kv s2xx)"
    printf -v "${tag}_OTHER" '%s' "$(kv other)"
    printf -v "${tag}_OTHER_CODES" '%s' "$(kv other_codes)"
    printf -v "${tag}_SECS" '%s' "$(kv duration_s)"
    printf -v "${tag}_RPS" '%s' "$(kv rps)"
    printf -v "${tag}_ADDRS" '%s' "$addresses"
    printf -v "${tag}_LABEL" '%s' "$label"
    printf -v "${tag}_WALL" '%s' "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')"
    printf -v "${tag}_SOCKERR" '%s' "$(wrk_socket_errors "$flood_out")"

    printf -v "${tag}_HZ_RPS" '%s' "$(wrk_rps "$health_out")"
    printf -v "${tag}_HZ_P50" '%s' "$(wrk_pct "$health_out" 50)"
    printf -v "${tag}_HZ_P90" '%s' "$(wrk_pct "$health_out" 90)"
    printf -v "${tag}_HZ_P99" '%s' "$(wrk_pct "$health_out" 99)"
    printf -v "${tag}_HZ_NON2XX" '%s' "$(wrk_non2xx "$health_out")"
    printf -v "${tag}_HZ_SOCKERR" '%s' "$(wrk_socket_errors "$health_out")"
    local hz_rps_var=${tag}_HZ_RPS hz_p99_var=${tag}_HZ_P99
    [[ -n ${!hz_rps_var} && -n ${!hz_p99_var} ]] || die "could not parse wrk output of the /healthz probe during flood $tag"

    printf -v "${tag}_RSS_SAMPLES" '%s' "$(grep -c . "$rss_out" || true)"
    printf -v "${tag}_MAX_RSS_KB" '%s' "$(awk 'BEGIN { m = 0 } $1 > m { m = $1 } END { print m }' "$rss_out")"
    printf -v "${tag}_END_RSS_KB" '%s' "$(proc_kb "$SERVER_PID" VmRSS)"
    # Security events logged from the start of this flood until now (the log is written
    # synchronously, and the flood's connections are closed by now).
    printf -v "${tag}_SEC_EVENTS" '%s' "$(($(sec_events) - ev0))"
    printf -v "${tag}_SEC_BLOCKS" '%s' "$(($(sec_events rate_limit.block) - blk0))"
}

run_flood B "unique addresses" 0
sleep 1
run_flood C "$FLOOD_POOL addresses" "$FLOOD_POOL"

HWM_KB=$(proc_kb "$SERVER_PID" VmHWM)

# --- server log ------------------------------------------------------------------------------

LOG_LINES=$(grep -c . "$OUT/server.log" || true)
LOG_PROBLEMS=$(grep -ciE 'error|panic' "$OUT/server.log" || true)
SEC_EVENTS=$(sec_events)
SEC_BLOCKS=$(sec_events rate_limit.block)
head -n 1000 "$OUT/server.log" >"$RESULTS_DIR/http-$STAMP-server.log"
{ grep ' WARN ' "$OUT/server.log" | grep 'security event' || true; } | head -n 1000 >"$RESULTS_DIR/http-$STAMP-security.log"

# --- summary ---------------------------------------------------------------------------------

# val NAME: the value of the variable called NAME (run_flood's TAG_* results).
val() { printf '%s' "${!1}"; }

# flood_lines TAG: the summary lines of one flood.
flood_lines() {
    local t=$1 other
    other=$(val "${t}_OTHER")
    echo "$t. flood, $(val "${t}_LABEL") (wrk -t$FLOOD_THREADS -c$FLOOD_CONNS, flood.lua ADDRESSES=$(val "${t}_ADDRS")): $(val "${t}_REQ") requests (401: $(val "${t}_401"), 429: $(val "${t}_429"), 2xx: $(val "${t}_2XX"), other: $other$( ((other > 0)) && echo " [$(val "${t}_OTHER_CODES")]")) in $(val "${t}_SECS") s (wall $(val "${t}_WALL") s), $(val "${t}_RPS") req/s$( [[ -n $(val "${t}_SOCKERR") ]] && echo "; socket errors: $(val "${t}_SOCKERR")")"
    echo "   /healthz during $t (wrk -t1 -c8): $(val "${t}_HZ_RPS") req/s, p50 $(val "${t}_HZ_P50") ms, p90 $(val "${t}_HZ_P90") ms, p99 $(val "${t}_HZ_P99") ms; non-2xx: $(val "${t}_HZ_NON2XX")$( [[ -n $(val "${t}_HZ_SOCKERR") ]] && echo "; socket errors: $(val "${t}_HZ_SOCKERR")")"
    echo "   RSS during $t: max $(mib "$(val "${t}_MAX_RSS_KB")") MiB over $(val "${t}_RSS_SAMPLES") samples (every 0.2 s); $(mib "$(val "${t}_END_RSS_KB")") MiB after it"
    echo "   security events logged during $t: $(val "${t}_SEC_EVENTS") ($(val "${t}_SEC_BLOCKS") of them blocks)"
}

V_IDLE=$(verdict lt "$(mib "$IDLE_RSS_KB")" "$TARGET_IDLE_RSS_MIB")
V_RPS=$(verdict ge "$A_RPS" "$TARGET_HEALTHZ_RPS")
V_B_P99=$(verdict lt "$B_HZ_P99" "$TARGET_FLOOD_HEALTHZ_P99_MS")
V_C_P99=$(verdict lt "$C_HZ_P99" "$TARGET_FLOOD_HEALTHZ_P99_MS")
# VmHWM is the peak of the whole run as the kernel last recorded it, which can lag behind (a 0.2 s
# sample has been seen above it), so the check takes the largest of VmHWM and the sampled maxima.
PEAK_RSS_KB=$(printf '%s\n' "$HWM_KB" "$B_MAX_RSS_KB" "$C_MAX_RSS_KB" | awk '$1 > m { m = $1 } END { print m + 0 }')
V_FRSS=$(verdict lt "$(mib "$PEAK_RSS_KB")" "$TARGET_FLOOD_RSS_MIB")

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo " (working tree has uncommitted changes)" || true)

{
    echo "AuditPulse HTTP benchmark  $(date -Is)"
    echo "commit $COMMIT$DIRTY; $(nproc) CPUs, server and wrk share them; $(wrk --version 2>&1 | head -n1 | cut -d' ' -f1,2)"
    echo "server: auditpulse serve, SQLite in a temp dir, LOG_LEVEL=$LOG_LEVEL_USED, AUDITPULSE_TRUSTED_PROXIES=127.0.0.1, $BASE"
    echo
    echo "idle RSS: $(mib "$IDLE_RSS_KB") MiB"
    echo "A. /healthz (wrk -t2 -c64 -d10s): $A_RPS req/s, p50 $A_P50 ms, p90 $A_P90 ms, p99 $A_P99 ms; non-2xx: $A_NON2XX${A_SOCKERR:+; socket errors: $A_SOCKERR}"
    flood_lines B
    flood_lines C
    echo "peak RSS (VmHWM, whole run): $(mib "$HWM_KB") MiB"
    echo "server log: $LOG_LINES lines, $LOG_PROBLEMS mentioning error/panic; $SEC_EVENTS WARN 'security event' lines ($SEC_BLOCKS of them blocks) (first 1000 lines: bench/results/http-$STAMP-server.log; security events: bench/results/http-$STAMP-security.log)"
    echo
    echo "targets (MiB = 1024 kB):"
    echo "  $V_IDLE  idle RSS < $TARGET_IDLE_RSS_MIB MiB ($(mib "$IDLE_RSS_KB"))"
    echo "  $V_RPS  /healthz >= $TARGET_HEALTHZ_RPS req/s ($A_RPS)"
    echo "  $V_B_P99  /healthz p99 during flood B ($B_LABEL) < $TARGET_FLOOD_HEALTHZ_P99_MS ms ($B_HZ_P99)"
    echo "  $V_C_P99  /healthz p99 during flood C ($C_LABEL) < $TARGET_FLOOD_HEALTHZ_P99_MS ms ($C_HZ_P99)"
    echo "  $V_FRSS  RSS < $TARGET_FLOOD_RSS_MIB MiB for the whole run ($(mib "$PEAK_RSS_KB"): the largest of VmHWM $(mib "$HWM_KB"), sampled max B $(mib "$B_MAX_RSS_KB"), C $(mib "$C_MAX_RSS_KB"))"
    if ((C_429 == 0)); then
        echo "WARNING: flood C got no 429 at all, so it did not exercise the refusal path: at $C_RPS req/s its"
        echo "         $FLOOD_POOL addresses stayed within the per-IP limit (burst + refill over the flood); try a smaller FLOOD_POOL"
    fi
} >"$OUT/summary.txt"

{
    cat "$OUT/summary.txt"
    echo
    echo "===== raw: wrk A (/healthz) ====="
    cat "$OUT/a.txt"
    for t in B C; do
        echo "===== raw: wrk flood $t ($(val "${t}_LABEL")) ====="
        cat "$OUT/$t-flood.txt"
        echo "===== raw: wrk /healthz during flood $t ====="
        cat "$OUT/$t-healthz.txt"
        echo "===== raw: RSS samples during flood $t (kB) ====="
        tr '\n' ' ' <"$OUT/$t-rss.txt"
        echo
    done
} >"$RESULT_FILE"

echo
echo "==================== summary ===================="
cat "$OUT/summary.txt"
echo "================================================="
echo "saved: $RESULT_FILE"
