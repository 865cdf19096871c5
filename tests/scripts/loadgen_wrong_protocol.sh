#!/usr/bin/env bash
# loadgen without --grpc against a gRPC server: it must not wait out its
# --wait (60 s in Compose) on a server that will never speak HTTP/1.1, but
# exit 1 at once, naming the cause. And with --grpc it runs.
#   tests/scripts/loadgen_wrong_protocol.sh   prints "...: ok" on success
# Exit: 0 ok, 1 otherwise. The server is awaited on its readiness pipe.
set -euo pipefail
cd "$(dirname "$0")"
while [ ! -f Makefile ] && [ "$PWD" != / ]; do cd ..; done

make -s build/bin/loadgen build/bin/grpc-async
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "loadgen wrong protocol: FAILED: $*" >&2; exit 1; }

mkfifo "$tmp/ready"
# The upstream is refused (port 1): the calls fail fast, which is fine here.
LOG_LEVEL=error build/bin/grpc-async --host 127.0.0.1 --port 0 --ready-fd 3 \
    --slow-api-url "http://127.0.0.1:1/" 3>"$tmp/ready" &
pid=$!
port=
read -r -t 10 port <"$tmp/ready" || true
[[ $port =~ ^[0-9]+$ ]] || fail "grpc-async did not report its port"

start=$(date +%s%N)
status=0
build/bin/loadgen --wait 30 -c 1 -d 1 "http://127.0.0.1:$port/io" >"$tmp/out" 2>&1 || status=$?
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$status" -eq 1 ] || fail "exit status $status, want 1"
grep -q -- "--grpc" "$tmp/out" || fail "no hint at --grpc in: $(cat "$tmp/out")"
[ "$took_ms" -lt 5000 ] || fail "took $took_ms ms: it waited instead of stopping"

build/bin/loadgen --grpc --wait 10 -c 1 -n 2 "http://127.0.0.1:$port/io" >"$tmp/out" 2>&1 ||
    fail "loadgen --grpc failed: $(tail -n 5 "$tmp/out")"
echo "loadgen wrong protocol: ok (stopped in $took_ms ms)"
