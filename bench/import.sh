#!/usr/bin/env bash
# bench/import.sh: end-to-end import of 1,000,000-row bank files (CSV and OFX) into a fresh SQLite
# ledger with the bench-profile `auditpulse` binary, all traffic on 127.0.0.1.
#
# 1. builds `cargo build --locked --profile bench --bin auditpulse` (release without LTO);
# 2. generates the files once (bench/gen_import.py, deterministic: same rows, same bytes) under
#    $IMPORT_BENCH_DIR (default $TMPDIR/auditpulse-import-e2e);
# 3. sets up a template instance with each binary (its own schema): `migrate`, `tenant create Acme
#    --slug acme`, an admin from `user create`, then with `serve` running: login,
#    `POST /api/v1/accounts` (USD checking) and `POST /api/v1/import-mappings` (mapping `m`); the
#    server is stopped (SQLite: one writer);
# 4. for each format, on a fresh copy of that binary's template data dir:
#    CLI:    `/usr/bin/time -v auditpulse import FILE --tenant acme --account ID [--mapping m]`,
#            then the same again, which must import 0 (every row already in the ledger);
#    HTTP:   `auditpulse serve`, `curl -F file=@FILE POST /api/v1/imports` (rows/s from curl's
#            time_total, the server's VmHWM from /proc; the answer's file_sha256 must be the file's),
#            then the same upload again (0 imported).
# Prints a table (rows/s, wall seconds, CPU seconds of the CLI process, peak RSS) with PASS/FAIL against 30,000 rows/s, also saved to
# bench/results/import-<date>.txt. Exit status 0 when every measurement completed, whatever the
# figures; non-zero when something broke (build, setup, an import refused, a re-import adding rows).
#
# Side by side: COMPARE_BIN=/path/to/other/auditpulse runs every measurement with that binary too,
# alternating (this one, then the other, BENCH_RUNS times), so both see the same machine noise.
#
# Environment (all optional): CARGO_TARGET_DIR (default /work/target-bench), IMPORT_BENCH_ROWS
# (default 1000000), IMPORT_BENCH_DIR, BENCH_RUNS (default 1), BENCH_FORMATS (default "csv ofx"),
# BENCH_PATHS (default "cli http"), BENCH_BIN (skip the build, use this binary), COMPARE_BIN,
# BENCH_PORT (first port tried, default 18380).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-bench}
BIN=${BENCH_BIN:-$CARGO_TARGET_DIR/release/auditpulse}
ROWS=${IMPORT_BENCH_ROWS:-1000000}
FILES=${IMPORT_BENCH_DIR:-${TMPDIR:-/tmp}/auditpulse-import-e2e}
RUNS=${BENCH_RUNS:-1}
FORMATS=${BENCH_FORMATS:-csv ofx}
PATHS_=${BENCH_PATHS:-cli http}
TARGET_RPS=30000

# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in curl awk python3 base64 /usr/bin/time; do command -v "$tool" >/dev/null || die "$tool not found"; done
if [[ -z ${BENCH_BIN:-} ]]; then
    log "building: cargo build --locked --profile bench --bin auditpulse (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
    (cd "$ROOT" && cargo build --locked --profile bench --bin auditpulse) || die "cargo build failed"
fi
[[ -x $BIN ]] || die "no binary at $BIN"
BINS=("$BIN")
LABELS=(this)
if [[ -n ${COMPARE_BIN:-} ]]; then
    [[ -x $COMPARE_BIN ]] || die "COMPARE_BIN=$COMPARE_BIN is not executable"
    BINS+=("$COMPARE_BIN")
    LABELS+=(compare)
fi
pick_port "${BENCH_PORT:-18380}"

# --- the files -----------------------------------------------------------------------------------

mkdir -p "$FILES"
CSV=$FILES/import-$ROWS.csv
OFX=$FILES/import-$ROWS.ofx
if [[ ! -s $CSV || ! -s $OFX ]]; then
    log "generating $ROWS rows: $CSV, $OFX"
    python3 "$BENCH_DIR/gen_import.py" "$ROWS" "$CSV.tmp" "$OFX.tmp" || die "generating the files failed"
    mv "$CSV.tmp" "$CSV" && mv "$OFX.tmp" "$OFX"
fi
file_of() { if [[ $1 == csv ]]; then echo "$CSV"; else echo "$OFX"; fi; }
declare -A SHA=([csv]=$(sha256sum "$CSV" | cut -d' ' -f1) [ofx]=$(sha256sum "$OFX" | cut -d' ' -f1))
sha_of() { echo "${SHA[$1]}"; }

STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS_DIR=$BENCH_DIR/results
mkdir -p "$RESULTS_DIR"
RESULT_FILE=$RESULTS_DIR/import-$STAMP.txt
WORK_DIR=$(mktemp -d -t auditpulse-import.XXXXXX)
OUT=$WORK_DIR/out
mkdir -p "$OUT"
KEY="k1:$(head -c 32 /dev/urandom | base64 -w0)"
EMAIL=a@acme.example
PASSWORD="Correct-Horse-Battery-$RANDOM$RANDOM"
# Everything an instance needs; DATA is set per run. The request timeout covers a 1M-row upload.
instance_env() {
    echo AUDITPULSE_DATA_DIR="$1" AUDITPULSE_MASTER_KEYS="$KEY" LOG_LEVEL=warn AUDITPULSE_METRICS_LISTEN=off \
        AUDITPULSE_IMPORT_MAX_BYTES=500000000 AUDITPULSE_IMPORT_MAX_ROWS=2000000 \
        AUDITPULSE_REQUEST_TIMEOUT_SECS=1800
}
# run_ap DATA BIN ARGS...: the binary with a clean environment for the instance at DATA.
run_ap() {
    local data=$1 bin=$2
    shift 2
    # shellcheck disable=SC2046 # instance_env's words are VAR=VALUE pairs without spaces
    env -i PATH="$PATH" HOME="${HOME:-/root}" $(instance_env "$data") "$bin" "$@"
}
# serve DATA BIN: starts the server on that instance (BIN is what start_server runs).
serve() {
    local saved=$BIN
    BIN=$2
    # shellcheck disable=SC2046
    start_server "$OUT/server-$(date +%s%N).log" $(instance_env "$1")
    BIN=$saved
}
stop_server() {
    kill -TERM "$SERVER_PID"
    wait_pid_bounded "$SERVER_PID" 30 || true
    SERVER_PID=
}
login() {
    curl --noproxy '*' -sf -H 'Content-Type: application/json' \
        -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login" |
        sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}

# --- the template instances ----------------------------------------------------------------------

# One template per binary, each set up by that binary: a data dir migrated by one build has that
# build's schema (an older binary refuses a database migrated past what it knows, and a shared
# template would measure both builds on one build's indexes). TEMPLATES[i] and ACCOUNTS[i] belong
# to BINS[i].
TEMPLATES=()
ACCOUNTS=()
cd "$WORK_DIR"
api_post() {
    curl --noproxy '*' -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$2" "$BASE$1"
}
MAPPING='{"name":"m","mapping":{"date":"Date","date_format":"%d/%m/%Y","amount":{"single":"Amount"},"description":"Details","counterparty":"Payee"}}'
# setup_template I: the template instance of BINS[I].
setup_template() {
    local i=$1 bin=${BINS[$1]} dir=$WORK_DIR/template-$1 account code
    mkdir -p "$dir"
    log "setting up the template instance of ${LABELS[$i]} ($bin) in $dir"
    run_ap "$dir" "$bin" migrate >"$OUT/setup-$i.txt" 2>&1 || die "migrate failed: $(cat "$OUT/setup-$i.txt")"
    run_ap "$dir" "$bin" tenant create Acme --slug acme >>"$OUT/setup-$i.txt" 2>&1 ||
        die "tenant create failed: $(cat "$OUT/setup-$i.txt")"
    printf '%s\n' "$PASSWORD" | run_ap "$dir" "$bin" user create --email "$EMAIL" --tenant acme \
        --role admin >>"$OUT/setup-$i.txt" 2>&1 || die "user create failed: $(cat "$OUT/setup-$i.txt")"
    serve "$dir" "$bin"
    TOKEN=$(login)
    [[ -n $TOKEN ]] || die "could not log in as $EMAIL"
    account=$(api_post /api/v1/accounts '{"name":"Operating","kind":"checking","currency":"USD"}' |
        grep -o '"id":"[0-9a-f-]*"' | head -n1 | cut -d'"' -f4)
    [[ -n $account ]] || die "could not create the account"
    code=$(curl --noproxy '*' -s -o "$OUT/mapping-$i.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' -d "$MAPPING" "$BASE/api/v1/import-mappings")
    [[ $code == 201 ]] || die "could not save the mapping ($code): $(cat "$OUT/mapping-$i.json")"
    stop_server
    TEMPLATES[i]=$dir
    ACCOUNTS[i]=$account
    log "template of ${LABELS[$i]} ready: tenant acme, account $account, mapping m"
}
for i in "${!BINS[@]}"; do setup_template "$i"; done

# --- measurements --------------------------------------------------------------------------------

# fresh I: a copy of BINS[I]'s template data dir, for one measurement.
fresh() {
    local dir
    dir=$(mktemp -d -p "$WORK_DIR" run.XXXXXX)
    cp -a "${TEMPLATES[$1]}/." "$dir/"
    echo "$dir"
}
elapsed_s() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1"; }
cpu_s() { awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$1"; }
maxrss_kb() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }
rps() { awk -v r="$ROWS" -v s="$1" 'BEGIN { printf "%.0f", r / s }'; }
RESULTS=()
result() { RESULTS+=("$(printf '%-8s %-5s %-5s %-6s %8s %8s %7s %9s  %s' "$@")"); }

# cli FORMAT I: a CLI import by BINS[I] into a fresh instance, then the same file again.
cli() {
    local format=$1 bin=${BINS[$2]} label=${LABELS[$2]} file data args t s r
    file=$(file_of "$format")
    data=$(fresh "$2")
    args=(import "$file" --tenant acme --account "${ACCOUNTS[$2]}")
    [[ $format == csv ]] && args+=(--mapping m)
    for pass in first again; do
        t=$OUT/cli-$format-$label-$pass-$(date +%s%N)
        log "cli $format ($label, $pass): auditpulse ${args[*]}"
        # shellcheck disable=SC2046
        env -i PATH="$PATH" HOME="${HOME:-/root}" $(instance_env "$data") /usr/bin/time -v \
            "$bin" "${args[@]}" >"$t.out" 2>"$t.time" || die "import failed: $(tail -n 5 "$t.out" "$t.time")"
        check_imported "$pass" "$(cat "$t.out")"
        s=$(elapsed_s "$t.time")
        r=$(rps "$s")
        result "$label" "$format" "cli" "$pass" "$r" "$s" "$(cpu_s "$t.time")" "$(mib "$(maxrss_kb "$t.time")")" "$(verdict_for "$pass" "$r")"
        log "  $(cat "$t.out") -- $s s ($(cpu_s "$t.time") s CPU), $r rows/s, peak RSS $(mib "$(maxrss_kb "$t.time")") MiB"
    done
    rm -rf "$data"
}

# http FORMAT I: POST /api/v1/imports on a fresh instance's server (BINS[I]), then the same again.
http() {
    local format=$1 bin=${BINS[$2]} label=${LABELS[$2]} file data t s r body fields
    file=$(file_of "$format")
    data=$(fresh "$2")
    serve "$data" "$bin"
    TOKEN=$(login)
    [[ -n $TOKEN ]] || die "could not log in"
    fields=(-F "account=${ACCOUNTS[$2]}" -F "file=@$file;type=application/octet-stream")
    [[ $format == csv ]] && fields+=(-F mapping=m)
    for pass in first again; do
        t=$OUT/http-$format-$label-$pass-$(date +%s%N)
        log "http $format ($label, $pass): POST /api/v1/imports"
        s=$(curl --noproxy '*' -s -o "$t.json" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $TOKEN" \
            "${fields[@]}" "$BASE/api/v1/imports")
        [[ ${s%% *} == 201 ]] || die "upload answered ${s%% *}: $(head -c 500 "$t.json")"
        s=${s#* }
        body=$(cat "$t.json")
        check_imported "$pass" "imported $(json_n imported "$body") of $(json_n rows "$body")"
        [[ $body == *"\"file_sha256\":\"$(sha_of "$format")\""* ]] || die "the import's file_sha256 is not the file's: $body"
        r=$(rps "$s")
        result "$label" "$format" "http" "$pass" "$r" "$s" "-" "$(mib "$(proc_kb "$SERVER_PID" VmHWM)")" "$(verdict_for "$pass" "$r")"
        log "  imported $(json_n imported "$body"), duplicates $(json_n duplicates "$body") -- $s s, $r rows/s, server VmHWM $(mib "$(proc_kb "$SERVER_PID" VmHWM)") MiB"
    done
    stop_server
    rm -rf "$data"
}
json_n() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$2"; }

# check_imported PASS LINE: the first import stores every row, the second none.
check_imported() {
    local want
    if [[ $1 == first ]]; then want="imported $ROWS of $ROWS"; else want="imported 0 of $ROWS"; fi
    [[ $2 == *"$want"* ]] || die "expected '$want', got: $2"
}
verdict_for() {
    if [[ $1 == first ]]; then echo "$(verdict ge "$2" "$TARGET_RPS") (target >= $TARGET_RPS rows/s)"; else echo "re-import added nothing"; fi
}

for format in $FORMATS; do
    for path in $PATHS_; do
        for ((run = 1; run <= RUNS; run++)); do
            for i in "${!BINS[@]}"; do
                "$path" "$format" "$i"
            done
        done
    done
done

{
    echo "AuditPulse import benchmark, $(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), SQLite, $ROWS rows"
    echo "this: $BIN${COMPARE_BIN:+; compare: $COMPARE_BIN}"
    echo "CSV $(stat -c %s "$CSV") bytes, OFX $(stat -c %s "$OFX") bytes"
    echo
    printf '%-8s %-5s %-5s %-6s %8s %8s %7s %9s  %s\n' binary file path import rows/s seconds "CPU s" "peak MiB" verdict
    printf '%s\n' "${RESULTS[@]}"
} >"$OUT/summary.txt"
cat "$OUT/summary.txt"
cp "$OUT/summary.txt" "$RESULT_FILE"
log "saved $RESULT_FILE"
