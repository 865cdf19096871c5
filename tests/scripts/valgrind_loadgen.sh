#!/usr/bin/env bash
# loadgen under valgrind memcheck against a real slowapi: keep-alive and
# new-connection runs, the report writer, connect errors against a closed
# port, slow clients; then --grpc against grpc-async (on that slowapi) and
# against a closed port, with slow clients too. Fails on any invalid access or definite/indirect leak.
# Exit: 0 clean, 77 skipped (no valgrind), 1 otherwise. Waits are on the
# ready pipe with a limit, never a sleep.
set -euo pipefail
cd "$(dirname "$0")/../.."

READY_TIMEOUT_S=30
RUN_TIMEOUT_S=300

if ! command -v valgrind >/dev/null; then
    echo "valgrind loadgen: SKIPPED (valgrind not installed)"
    exit 77
fi
# valgrind cannot run an ASan binary: always the plain build.
make -s BUILD=build build/bin/slowapi build/bin/loadgen build/bin/grpc-async

tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "valgrind loadgen: FAILED: $*" >&2
    [ -s "$tmp/valgrind.log" ] && tail -n 40 "$tmp/valgrind.log" >&2
    exit 1
}

# shellcheck source=run/ready.sh
. run/ready.sh
# start NAME PROGRAM ARGS...: build/bin/PROGRAM by lab_start; sets $port.
start() {
    LAB_READY_TIMEOUT_S=$READY_TIMEOUT_S lab_start "$1" "$tmp" "build/bin/$2" "${@:3}" ||
        fail "$1 gave no port"
    pids+=("$started_pid")
}

start slowapi slowapi
slowapi_port=$port

# memcheck ARGS...: one loadgen run under valgrind; loadgen's own exit
# status must be 0 (failed requests are data) and valgrind must be clean.
memcheck() {
    local rc=0
    timeout "$RUN_TIMEOUT_S" valgrind --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
        --log-file="$tmp/valgrind.log" build/bin/loadgen "$@" >"$tmp/out.txt" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || fail "loadgen $* exited $rc ($(tail -n 3 "$tmp/out.txt"))"
    grep -q "ERROR SUMMARY: 0 errors" "$tmp/valgrind.log" || fail "loadgen $*: valgrind errors"
    echo "  loadgen $*: $(grep -m1 -o "Buckets:.*" "$tmp/out.txt" || echo "no summary")"
}

port=$slowapi_port
memcheck -c 4 -t 2 -d 1 --out "$tmp/reports" --delay 0.01 "http://127.0.0.1:$port/?delay=0.01"
[ "$(find "$tmp/reports" -name '*.json' | wc -l)" -eq 1 ] || fail "no JSON report"
memcheck -c 3 -n 20 --no-keepalive --json "$tmp/r.json" "http://127.0.0.1:$port/healthz"
memcheck -c 2 -n 5 --timeout 0.05 "http://127.0.0.1:$port/?delay=1"
# A closed port: connect errors, retried with a backoff, accounted.
memcheck -c 2 -d 0.3 --drain 0 "http://127.0.0.1:1/"
# The open loop: steps, more than two connections can carry (late ones),
# the samples file, a ramp against a closed port and a check on it.
memcheck -c 2 --rate 50,400 --step 0.5 --samples "$tmp/s.csv.gz" --json "$tmp/o.json" \
    "http://127.0.0.1:$port/?delay=0.01"
jq -e '.summary.late > 0 and .summary.issued + .summary.late == .summary.planned' "$tmp/o.json" \
    >/dev/null || fail "--rate: no late requests, or the plan does not add up"
memcheck -c 2 --rate 10:100:0.5s -d 1 --drain 0 --check 'failures>0,ok=0' "http://127.0.0.1:1/"
# Slow clients beside the load: held, trickling, /healthz probed; against
# a closed port, their connects fail and are retried.
memcheck -c 2 -d 1 --slow-clients 20 --slow-interval 0.05 --json "$tmp/sl.json" \
    "http://127.0.0.1:$port/?delay=0.01"
jq -e '.slow_clients.held_at_end == 20 and .slow_clients.healthz_probe.probes >= 1' \
    "$tmp/sl.json" >/dev/null || fail "--slow-clients: not held, or /healthz never probed"
memcheck -c 2 -d 0.5 --drain 0 --slow-clients 5 "http://127.0.0.1:1/"

# gRPC: ok calls, deadlines, and a closed port.
start grpc-async grpc-async --slow-api-url "http://127.0.0.1:$slowapi_port/?delay=0.01"
memcheck --grpc -c 4 -t 2 -n 40 --json "$tmp/g.json" "http://127.0.0.1:$port/io"
# Under valgrind the first call of each client can fail UNAVAILABLE (the
# slowed client misses gRPC's connect deadline: 4 of 40 here, none without
# valgrind); most must be ok, or the run did not exercise the replies.
ok=$(jq '.summary.ok' "$tmp/g.json")
[ "$ok" -ge 20 ] || fail "--grpc: only $ok of 40 calls ok"
memcheck --grpc -c 2 -n 4 --timeout 0.001 "http://127.0.0.1:$port/io"
# The open loop over gRPC: every planned call issued or late.
memcheck --grpc -c 2 --rate 40 -d 1 --json "$tmp/go.json" "http://127.0.0.1:$port/io"
jq -e '.summary.planned == 40 and .summary.issued + .summary.late == 40' "$tmp/go.json" \
    >/dev/null || fail "--grpc --rate: the plan does not add up"
memcheck --grpc -c 2 -d 0.3 --drain 0 "http://127.0.0.1:1/io"
# Slow clients against a gRPC server: the HTTP/2 preface a byte at a time.
memcheck --grpc -c 2 -n 10 --slow-clients 5 --slow-interval 0.02 "http://127.0.0.1:$port/io"
echo "valgrind loadgen: clean"
