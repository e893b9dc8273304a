#!/usr/bin/env bash
# bench/lib.sh: shell helpers shared by the benchmark scripts (sourced, not run). They expect the
# caller to set BENCH_DIR, ROOT, CARGO_TARGET_DIR and BIN, and keep SERVER_PID, WORK_DIR and
# BG_PIDS for `cleanup`, which stops the server and background jobs and removes WORK_DIR on exit.

SERVER_PID=
WORK_DIR=
BG_PIDS=()

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

cleanup() {
    local rc=$?
    set +e
    for pid in ${BG_PIDS[@]+"${BG_PIDS[@]}"}; do kill "$pid" 2>/dev/null; done
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    [[ -n $WORK_DIR && -d $WORK_DIR ]] && rm -rf "$WORK_DIR"
    exit "$rc"
}
# --- helpers ---------------------------------------------------------------------------------

# proc_kb PID FIELD: a /proc/PID/status field (VmRSS, VmHWM) in kB.
proc_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

# wrk_pct FILE PCT: a latency percentile (50, 75, 90, 99) from `wrk --latency` output, in ms.
wrk_pct() {
    awk -v p="$2%" '
        function to_ms(v,   n, u) {
            n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
            if (u == "us") return n / 1000
            if (u == "ms") return n
            if (u == "s")  return n * 1000
            if (u == "m")  return n * 60000
            if (u == "h")  return n * 3600000
            return "?"
        }
        $1 == p { v = to_ms($2); if (v == "?") print "?"; else printf "%.3f\n", v; exit }' "$1"
}
wrk_rps() { awk '$1 == "Requests/sec:" { printf "%.0f\n", $2 }' "$1"; }
wrk_non2xx() { awk '/Non-2xx or 3xx responses:/ { print $NF; found = 1 } END { if (!found) print 0 }' "$1"; }
wrk_socket_errors() { sed -n 's/^ *Socket errors: *//p' "$1"; }

# lt A B: A < B (decimals).
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
verdict() { if "$@"; then echo PASS; else echo FAIL; fi; }

# alive PID: the process exists and is not a zombie.
alive() {
    local state
    state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ -n $state && $state != Z ]]
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_pid_bounded PID SECS: wait for a child of ours to exit, killing it after SECS.
wait_pid_bounded() {
    local pid=$1 secs=$2 i
    for ((i = 0; i < secs * 10; i++)); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && { log "process $pid still running after ${secs}s; killing it"; kill -KILL "$pid" 2>/dev/null || true; }
    local rc=0
    wait "$pid" 2>/dev/null || rc=$?
    return "$rc"
}

# ensure_tools: installs wrk from Debian when missing; checks the other tools.
ensure_tools() {
    if ! command -v wrk >/dev/null; then
        log "installing wrk (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq wrk >/dev/null
    fi
    for tool in wrk curl awk cargo; do command -v "$tool" >/dev/null || die "$tool not found"; done
}

# build_release: cargo build --release --locked, retried BUILD_RETRIES times 60 s apart.
build_release() {
    log "building: cargo build --release --locked (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
    local attempt=0
    until (cd "$ROOT" && cargo build --release --locked); do
        ((attempt++ < ${BUILD_RETRIES:-0})) || die "cargo build failed"
        log "build failed; retrying in 60 s (retry $attempt of $BUILD_RETRIES)"
        sleep 60
    done
    [[ -x $BIN ]] || die "no binary at $BIN"
}

# pick_port FIRST: sets PORT to the first free port in FIRST..FIRST+100 and BASE to its URL.
pick_port() {
    PORT=
    local p
    for ((p = $1; p <= $1 + 100; p++)); do
        if ! port_in_use "$p"; then PORT=$p; break; fi
    done
    [[ -n $PORT ]] || die "no free port in $1..$(($1 + 100))"
    BASE=http://127.0.0.1:$PORT
}

# start_server LOG [VAR=VALUE...]: starts `auditpulse serve` in the current directory with a clean
# environment (no AUDITPULSE_*/DATABASE_URL of the caller), AUDITPULSE_LISTEN on $PORT and the
# given variables, its output to LOG; waits (at most 30 s) for /healthz to answer 200.
start_server() {
    local server_log=$1
    shift
    env -i PATH="$PATH" HOME="${HOME:-/root}" AUDITPULSE_LISTEN="127.0.0.1:$PORT" "$@" \
        "$BIN" serve >"$server_log" 2>&1 &
    SERVER_PID=$!
    local i code=
    for ((i = 0; i < 150; i++)); do # 150 x 0.2 s = 30 s
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            tail -n 20 "$server_log" >&2
            die "server exited before becoming ready"
        fi
        code=$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' --max-time 1 "$BASE/healthz" || true)
        if [[ $code == 200 ]]; then
            log "server ready (pid $SERVER_PID) after ~$((i * 2 / 10)) s"
            return 0
        fi
        sleep 0.2
    done
    die "server not ready after 30 s (last /healthz status: ${code:-none})"
}
