#!/usr/bin/env bash
# bench/detect_forest.sh: AuditPulse's isolation forest against scikit-learn's IsolationForest on
# the same 1,000,000 synthetic payments (same features, 100 trees, 256 samples, contamination
# 0.05), both pinned to one core (taskset -c 0). Prints each side's training and scoring times,
# ROC-AUC on the injected anomalies, the speed ratio and the AUC difference.
#
#   bench/detect_forest.sh            # VENV (default /work/wt-venv/forest) is created if missing
#   DETECT_FOREST_ROWS=100000 bench/detect_forest.sh
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
VENV=${VENV:-/work/wt-venv/forest}
CORE=${CORE:-0}
WORK_DIR=$(mktemp -d)
trap 'rm -rf "$WORK_DIR"' EXIT
export DETECT_FOREST_CSV=$WORK_DIR/features.csv

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

if [[ ! -x $VENV/bin/python ]]; then
    log "creating $VENV with numpy and scikit-learn"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet numpy scikit-learn
fi

cd "$ROOT"
log "building the benchmark"
cargo bench --bench detect_forest --no-run --quiet
log "AuditPulse (core $CORE)"
taskset -c "$CORE" cargo bench --bench detect_forest --quiet | tee "$WORK_DIR/rust.txt"
log "scikit-learn (core $CORE)"
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c "$CORE" \
    "$VENV/bin/python" "$BENCH_DIR/forest_vs_sklearn.py" bench "$DETECT_FOREST_CSV" | tee "$WORK_DIR/sklearn.txt"

field() { grep "^$1 " "$WORK_DIR/$1.txt" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'; }
awk -v rt="$(field rust train_s)" -v rs="$(field rust score_s)" -v ra="$(field rust auc)" \
    -v st="$(field sklearn train_s)" -v ss="$(field sklearn score_s)" -v sa="$(field sklearn auc)" '
BEGIN {
    printf "\n%-14s %10s %10s %10s %8s\n", "", "train s", "score s", "total s", "ROC-AUC"
    printf "%-14s %10.3f %10.3f %10.3f %8.4f\n", "AuditPulse", rt, rs, rt + rs, ra
    printf "%-14s %10.3f %10.3f %10.3f %8.4f\n", "scikit-learn", st, ss, st + ss, sa
    printf "\nspeed-up: train %.1fx, score %.1fx, total %.1fx; AUC difference %+.4f\n",
        st / rt, ss / rs, (st + ss) / (rt + rs), ra - sa
}'
