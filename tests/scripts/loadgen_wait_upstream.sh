#!/usr/bin/env bash
# loadgen --wait with --upstream awaits the upstream's /healthz too, as it
# awaits the server's: Compose starts slowapi, the server and loadgen at
# once, with no health check to order them (docker-compose.yml). An
# upstream that never answers ends loadgen with exit 1 and its name, before
# any load; one that answers lets the run verify its calls.
#   tests/scripts/loadgen_wait_upstream.sh   prints "...: ok" on success
# Exit: 0 ok, 1 otherwise. The programs are awaited on their readiness pipes.
set -euo pipefail
cd "$(dirname "$0")"
while [ ! -f Makefile ] && [ "$PWD" != / ]; do cd ..; done

make -s build/bin/loadgen build/bin/event-loop build/bin/slowapi
tmp=$(mktemp -d)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "loadgen wait upstream: FAILED: $*" >&2; exit 1; }

# start NAME PROGRAM ARG...: PROGRAM on a free port of 127.0.0.1; sets port.
start() {
    local name=$1
    shift
    mkfifo "$tmp/$name.ready"
    LOG_LEVEL=error "$@" --host 127.0.0.1 --port 0 --ready-fd 3 3>"$tmp/$name.ready" &
    pids+=($!)
    port=
    read -r -t 10 port <"$tmp/$name.ready" || true
    [[ $port =~ ^[0-9]+$ ]] || fail "$name did not report its port"
}

start slowapi build/bin/slowapi
slowapi_port=$port
start server build/bin/event-loop --slow-api-url "http://127.0.0.1:$slowapi_port/?delay=0.05"
server_port=$port

# Port 1: nothing listens there, each attempt is refused at once.
status=0
build/bin/loadgen --wait 2 --upstream http://127.0.0.1:1 -c 1 -n 2 \
    "http://127.0.0.1:$server_port/io" >"$tmp/out" 2>"$tmp/err" || status=$?
[ "$status" -eq 1 ] || fail "an upstream that never answers: exit status $status, want 1"
grep -q -- "--upstream http://127.0.0.1:1 not healthy after 2 s; last attempt: connect" "$tmp/err" ||
    fail "no message naming the upstream: $(cat "$tmp/err")"
[ ! -s "$tmp/out" ] || fail "a report was written without the upstream: $(head -n 3 "$tmp/out")"

build/bin/loadgen --wait 10 --upstream "http://127.0.0.1:$slowapi_port" -c 2 -n 10 --fanout 10 \
    --delay 0.05 --json "$tmp/report.json" "http://127.0.0.1:$server_port/io" >"$tmp/out" 2>&1 ||
    fail "loadgen with a live upstream failed: $(tail -n 5 "$tmp/out")"
grep -q '"verdict": *"ok"' "$tmp/report.json" || fail "the calls were not verified: $(grep -o '"verify":[^}]*' "$tmp/report.json")"
echo "loadgen wait upstream: ok"
