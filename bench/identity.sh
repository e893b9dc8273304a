#!/usr/bin/env bash
# bench/identity.sh: login and authentication benchmarks of the release `auditpulse` binary, all
# traffic on 127.0.0.1.
#
# Measures:
#   - L: logins per second (wrk -t2 -c4 -d10s POST /api/v1/auth/login with the right password;
#        each login is a full Argon2id verification, m=19 MiB, t=2, p=1)
#   - F: /healthz p99 while 200 concurrent clients hammer login (wrk -t1 -c200 on login, and
#        wrk -t1 -c8 --latency on /healthz alongside, from 2 s after the flood starts)
#   - R: an authenticated request end to end (GET /api/v1/me with a bearer token:
#        JWT verification, session check, one database read), wrk -t2 -c16 -d10s --latency
# The cost of authentication alone (JWT verify + session check, in process) is measured by
# `cargo bench --bench auth`. The rate limits are switched off for this run
# (AUDITPULSE_RATE_LIMIT_{AUTH,API}_{IP,PRINCIPAL}=off) so every request does the whole login or
# the whole authenticated request; with the defaults an address gets 5 logins a minute and a user
# 100 requests a second.
# Prints a summary with PASS/FAIL against the targets, also saved to bench/results/identity-<date>.txt.
#
# Usage: bash bench/identity.sh
# Environment (all optional): CARGO_TARGET_DIR (default /work/target-bench), BENCH_PORT (first
# port to try, default 18180), BUILD_RETRIES (default 0).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-bench}
BIN=$CARGO_TARGET_DIR/release/auditpulse
BENCH_PORT=${BENCH_PORT:-18180}
BUILD_RETRIES=${BUILD_RETRIES:-0}

TARGET_FLOOD_HEALTHZ_P99_MS=50

# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_tools
build_release
pick_port "$BENCH_PORT"

STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS_DIR=$BENCH_DIR/results
mkdir -p "$RESULTS_DIR"
RESULT_FILE=$RESULTS_DIR/identity-$STAMP.txt
WORK_DIR=$(mktemp -d -t auditpulse-bench.XXXXXX)
OUT=$WORK_DIR/out
mkdir -p "$OUT"
cd "$WORK_DIR"

log "starting $BIN serve on $BASE in $WORK_DIR"
start_server "$OUT/server.log" LOG_LEVEL=warn \
    AUDITPULSE_RATE_LIMIT_AUTH_IP=off AUDITPULSE_RATE_LIMIT_AUTH_PRINCIPAL=off \
    AUDITPULSE_RATE_LIMIT_API_IP=off AUDITPULSE_RATE_LIMIT_API_PRINCIPAL=off

# --- first-run setup: the one-time URL the server printed makes the first admin ----------------

TOKEN=$(grep -o 'setup?token=[A-Za-z0-9_-]*' "$OUT/server.log" | head -n1 | cut -d= -f2)
[[ -n $TOKEN ]] || die "the server printed no setup URL"
EMAIL=bench-admin@example.com
PASSWORD="correct horse battery staple $RANDOM$RANDOM"
code=$(curl --noproxy '*' -s -o "$OUT/setup.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"token\":\"$TOKEN\",\"tenant_name\":\"Bench\",\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" \
    "$BASE/api/v1/setup")
[[ $code == 201 ]] || die "setup answered $code: $(cat "$OUT/setup.json")"

login_token() {
    curl --noproxy '*' -s -H 'Content-Type: application/json' \
        -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login" |
        sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}
ACCESS=$(login_token)
[[ -n $ACCESS ]] || die "could not log in as the setup user"

login_line() { grep '^LOGIN ' "$1" | tail -n1; }
field() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<"$1"; }

# --- L. logins per second ------------------------------------------------------------------------

log "benchmark L: wrk -t2 -c4 -d10s login"
wrk -t2 -c4 -d10s --latency -s "$BENCH_DIR/login.lua" "$BASE/api/v1/auth/login" -- "$EMAIL" "$PASSWORD" >"$OUT/l.txt"
cat "$OUT/l.txt" >&2
L_LINE=$(login_line "$OUT/l.txt")
L_OK=$(field "$L_LINE" s200)
L_RPS=$(awk -v n="$L_OK" 'BEGIN { printf "%.1f", n / 10 }')
L_P50=$(wrk_pct "$OUT/l.txt" 50)
L_P99=$(wrk_pct "$OUT/l.txt" 99)

# --- F. /healthz while 200 clients hammer login --------------------------------------------------

log "benchmark F: 200 concurrent logins for 15 s, /healthz latency alongside"
wrk -t1 -c200 -d15s --timeout 30s -s "$BENCH_DIR/login.lua" "$BASE/api/v1/auth/login" -- "$EMAIL" "$PASSWORD" >"$OUT/f-login.txt" &
flood_pid=$!
BG_PIDS+=("$flood_pid")
sleep 2
wrk -t1 -c8 -d10s --latency "$BASE/healthz" >"$OUT/f-healthz.txt"
wait "$flood_pid" || die "the login flood failed"
cat "$OUT/f-login.txt" "$OUT/f-healthz.txt" >&2
F_LINE=$(login_line "$OUT/f-login.txt")
F_LOGINS=$(field "$F_LINE" s200)
F_OTHER=$(($(field "$F_LINE" s401) + $(field "$F_LINE" s429) + $(field "$F_LINE" other)))
F_HZ_RPS=$(wrk_rps "$OUT/f-healthz.txt")
F_HZ_P50=$(wrk_pct "$OUT/f-healthz.txt" 50)
F_HZ_P99=$(wrk_pct "$OUT/f-healthz.txt" 99)
kill -0 "$SERVER_PID" 2>/dev/null || die "server died during the login flood"

# --- R. an authenticated request ---------------------------------------------------------------

ACCESS=$(login_token)
log "benchmark R: wrk -t2 -c16 -d10s GET /api/v1/me with a bearer token"
wrk -t2 -c16 -d10s --latency -H "Authorization: Bearer $ACCESS" "$BASE/api/v1/me" >"$OUT/r.txt"
cat "$OUT/r.txt" >&2
R_RPS=$(wrk_rps "$OUT/r.txt")
R_P50=$(wrk_pct "$OUT/r.txt" 50)
R_P99=$(wrk_pct "$OUT/r.txt" 99)
R_NON2XX=$(wrk_non2xx "$OUT/r.txt")

{
    echo "AuditPulse identity benchmark, $(date -u +%FT%TZ), $(nproc) CPUs, SQLite, LOG_LEVEL=warn"
    echo
    printf '%-58s %s\n' "L logins/s (4 clients, right password)" "$L_RPS  (p50 ${L_P50} ms, p99 ${L_P99} ms)"
    printf '%-58s %s\n' "F logins during the 200-client flood (15 s)" "$F_LOGINS ok, $F_OTHER not ok"
    printf '%-58s %s\n' "F /healthz during the flood" "$F_HZ_RPS req/s, p50 ${F_HZ_P50} ms, p99 ${F_HZ_P99} ms  [target p99 < ${TARGET_FLOOD_HEALTHZ_P99_MS} ms: $(verdict lt "$F_HZ_P99" "$TARGET_FLOOD_HEALTHZ_P99_MS")]"
    printf '%-58s %s\n' "R authenticated GET /api/v1/me" "$R_RPS req/s, p50 ${R_P50} ms, p99 ${R_P99} ms, non-2xx $R_NON2XX"
} >"$OUT/summary.txt"
cat "$OUT/summary.txt"
{
    cat "$OUT/summary.txt"
    for f in l f-login f-healthz r; do echo; echo "--- $f"; cat "$OUT/$f.txt"; done
} >"$RESULT_FILE"
head -n 1000 "$OUT/server.log" >"${RESULT_FILE%.txt}-server.log"
log "saved $RESULT_FILE (server log: ${RESULT_FILE%.txt}-server.log)"
