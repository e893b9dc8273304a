#!/usr/bin/env bash
# bench/budget_gateway.sh: the gateway's added latency with budget enforcement off and on, side by
# side: bench/gateway.sh run BENCH_ROUNDS times (default 2) for each, alternating off, on, off,
# on, with the same release binaries, rates and modes (default "1000 2000" requests/s, plain).
# With enforcement on, a tenant-wide budget with a swap threshold and a hard limit (never reached)
# makes every call read the budgets, reserve its worst case under the counter's row lock before it
# is sent and settle it when recorded. Prints each run's added p50/p99 per rate and mode, and
# saves the table to bench/results/budget-gateway-<date>.txt.
#
# Environment: as bench/gateway.sh (CARGO_TARGET_DIR, BENCH_RATES, BENCH_MODES, BENCH_SECONDS,
# BENCH_WARMUP, BENCH_BIN, BENCH_TOOL, ...), plus BENCH_ROUNDS.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-bench}
export BENCH_RATES=${BENCH_RATES:-1000 2000}
export BENCH_MODES=${BENCH_MODES:-plain}
ROUNDS=${BENCH_ROUNDS:-2}
if [[ -z ${BENCH_BIN:-} || -z ${BENCH_TOOL:-} ]]; then
    (cd "$ROOT" && cargo build --release --locked --bin auditpulse --example gateway_bench) >&2
    export BENCH_BIN=$CARGO_TARGET_DIR/release/auditpulse
    export BENCH_TOOL=$CARGO_TARGET_DIR/release/examples/gateway_bench
fi
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=$BENCH_DIR/results/budget-gateway-$STAMP.txt
mkdir -p "$BENCH_DIR/results"
{
    echo "AuditPulse gateway added latency, budget enforcement off vs on, $(date -u +%FT%TZ), $(nproc) CPUs"
    echo "each run: bench/gateway.sh, rates $BENCH_RATES, modes $BENCH_MODES, ${BENCH_SECONDS:-10}s measured"
    printf '%-5s %-4s %-6s %-6s %10s %10s %10s\n' run budget rate mode "added p50" "added p99" "gw errors"
} >"$OUT"
for round in $(seq "$ROUNDS"); do
    for budget in off on; do
        log_file=$(mktemp)
        BENCH_BUDGET=$budget bash "$BENCH_DIR/gateway.sh" >"$log_file" 2>&1 || { cat "$log_file" >&2; exit 1; }
        for rate in $BENCH_RATES; do
            for mode in $BENCH_MODES; do
                added=$(grep -E "^$rate +$mode +added " "$log_file" | head -n 1)
                p50=$(sed -n 's/.*added p50 \([0-9.]*\) ms.*/\1/p' <<<"$added")
                p99=$(sed -n 's/.*p99 \([0-9.]*\) ms;.*/\1/p' <<<"$added")
                errors=$(grep -E "^$rate +$mode +gateway " "$log_file" | awk '{print $(NF-1)}' | head -n 1)
                printf '%-5s %-4s %-6s %-6s %7s ms %7s ms %10s\n' "$round" "$budget" "$rate" "$mode" "$p50" "$p99" "$errors" >>"$OUT"
            done
        done
        rm -f "$log_file"
    done
done
cat "$OUT"
echo "saved $OUT" >&2
