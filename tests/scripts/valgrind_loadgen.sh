#!/usr/bin/env bash
# loadgen under valgrind memcheck against a real slowapi: keep-alive and
# new-connection runs, the report writer, connect errors against a closed
# port. Fails on any invalid access or definite/indirect leak.
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
make -s BUILD=build build/bin/slowapi build/bin/loadgen

tmp=$(mktemp -d)
slowapi_pid=
cleanup() {
    [ -z "$slowapi_pid" ] || kill -TERM "$slowapi_pid" 2>/dev/null || true
    [ -z "$slowapi_pid" ] || wait "$slowapi_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "valgrind loadgen: FAILED: $*" >&2
    [ -s "$tmp/valgrind.log" ] && tail -n 40 "$tmp/valgrind.log" >&2
    exit 1
}

mkfifo "$tmp/ready"
exec {ready}<>"$tmp/ready"
build/bin/slowapi --host 127.0.0.1 --port 0 --ready-fd 3 3>"$tmp/ready" 2>"$tmp/slowapi.log" &
slowapi_pid=$!
read -r -t "$READY_TIMEOUT_S" -u "$ready" port || fail "slowapi gave no port"
exec {ready}<&-

# memcheck ARGS...: one loadgen run under valgrind; loadgen's own exit
# status must be 0 (failed requests are data) and valgrind must be clean.
memcheck() {
    local rc=0
    timeout "$RUN_TIMEOUT_S" valgrind --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
        --log-file="$tmp/valgrind.log" build/bin/loadgen "$@" >"$tmp/out.txt" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || fail "loadgen $* exited $rc ($(tail -n 3 "$tmp/out.txt"))"
    grep -q "ERROR SUMMARY: 0 errors" "$tmp/valgrind.log" || fail "loadgen $*: valgrind errors"
}

memcheck -c 4 -t 2 -d 1 --out "$tmp/reports" --delay 0.01 "http://127.0.0.1:$port/?delay=0.01"
[ "$(find "$tmp/reports" -name '*.json' | wc -l)" -eq 1 ] || fail "no JSON report"
memcheck -c 3 -n 20 --no-keepalive --json "$tmp/r.json" "http://127.0.0.1:$port/healthz"
memcheck -c 2 -n 5 --timeout 0.05 "http://127.0.0.1:$port/?delay=1"
# A closed port: connect errors, retried with a backoff, accounted.
memcheck -c 2 -d 0.3 --drain 0 "http://127.0.0.1:1/"
echo "valgrind loadgen: clean"
