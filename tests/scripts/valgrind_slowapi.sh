#!/usr/bin/env bash
# slowapi under valgrind memcheck: start it with a readiness pipe, send a few
# requests of every kind (answered at once, delayed, refused, malformed,
# abandoned while waiting, still waiting at the stop), SIGTERM it, and fail
# on any invalid access or definite/indirect leak.
#   tests/valgrind_slowapi.sh        prints "valgrind slowapi: clean" on success
# Exit: 0 clean, 77 skipped (no valgrind or curl), 1 otherwise. Nothing here
# sleeps: every wait is on the pipe, a socket or the process, with a limit.
set -euo pipefail
# The repository root, wherever this script sits below it.
cd "$(dirname "$0")"
while [ ! -f Makefile ] && [ "$PWD" != / ]; do cd ..; done

READY_TIMEOUT_S=${READY_TIMEOUT_S:-60}
# Whole run limit for valgrind, enforced by timeout(1); after SIGTERM it
# gets KILL_AFTER_S more to finish its leak check.
RUN_TIMEOUT_S=${RUN_TIMEOUT_S:-300}
KILL_AFTER_S=${KILL_AFTER_S:-60}
IO_TIMEOUT_S=10

for tool in valgrind curl timeout; do
    if ! command -v "$tool" >/dev/null; then
        echo "valgrind slowapi: SKIPPED ($tool not installed)"
        exit 77
    fi
done

# Always the plain build: valgrind cannot run an ASan binary.
make -s BUILD=build build/bin/slowapi
bin=build/bin/slowapi

tmp=$(mktemp -d)
pid=
fail() {
    echo "valgrind slowapi: FAILED: $*" >&2
    for log in "$tmp/valgrind.log" "$tmp/slowapi.log"; do
        [ -s "$log" ] && { echo "--- $log" >&2; tail -n 40 "$log" >&2; }
    done
    exit 1
}
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# The readiness pipe: a FIFO we hold open read-write, so neither side's
# open blocks and a server that dies early makes read time out, not hang.
mkfifo "$tmp/ready"
exec {ready}<>"$tmp/ready"

# timeout forwards our SIGTERM to valgrind (and so to slowapi), and bounds
# the whole run.
timeout --kill-after="$KILL_AFTER_S" "$RUN_TIMEOUT_S" \
    valgrind --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
    --log-file="$tmp/valgrind.log" \
    "$bin" --host 127.0.0.1 --port 0 --ready-fd 3 \
    3>"$tmp/ready" 2>"$tmp/slowapi.log" &
pid=$!

read -r -t "$READY_TIMEOUT_S" -u "$ready" port || fail "no port on the ready pipe"
exec {ready}<&-
[[ "$port" =~ ^[0-9]+$ ]] || fail "ready pipe said '$port'"
base=http://127.0.0.1:$port

# expect STATUS PATH: one request with curl, checking the status.
expect() {
    local want=$1 path=$2 got
    got=$(curl -sS -o /dev/null -w '%{http_code}' --max-time "$IO_TIMEOUT_S" "$base$path") ||
        fail "GET $path: curl failed"
    [ "$got" = "$want" ] || fail "GET $path: status $got, want $want"
}

expect 200 /healthz
expect 200 '/?delay=0.05'
expect 200 '/?delay=0'
expect 400 '/?delay=abc'
expect 400 '/?delay=-1'
expect 404 /nope
body=$(curl -sS --max-time "$IO_TIMEOUT_S" "$base/healthz")
[ "$body" = '{"status":"ok"}' ] || fail "healthz body: $body"

# Garbage: a 400, then the server closes (cat sees EOF).
exec {sock}<>"/dev/tcp/127.0.0.1/$port"
printf 'garbage\r\n\r\n' >&"$sock"
reply=$(timeout "$IO_TIMEOUT_S" cat <&"$sock") || fail "garbage: no close"
exec {sock}>&-
[[ "$reply" == "HTTP/1.1 400 "* ]] || fail "garbage: got '${reply%%$'\r'*}'"

# A client that leaves while its delay runs: its timer must be dropped.
exec {sock}<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /healthz HTTP/1.1\r\n\r\nGET /?delay=5 HTTP/1.1\r\n\r\n' >&"$sock"
read -r -t "$IO_TIMEOUT_S" -u "$sock" status_line || fail "abandoned: no answer to healthz"
exec {sock}>&-

# One still waiting at SIGTERM (pipelined behind a healthz whose answer
# shows the server has read both), and an idle keep-alive connection.
exec {waiting}<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /healthz HTTP/1.1\r\n\r\nGET /?delay=30 HTTP/1.1\r\n\r\n' >&"$waiting"
read -r -t "$IO_TIMEOUT_S" -u "$waiting" status_line || fail "waiting: no answer to healthz"
exec {idle}<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /healthz HTTP/1.1\r\n\r\n' >&"$idle"
read -r -t "$IO_TIMEOUT_S" -u "$idle" status_line || fail "idle: no answer"
[[ "$status_line" == "HTTP/1.1 200 "* ]] || fail "idle: got $status_line"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
exec {waiting}>&- {idle}>&-

case $rc in
0) ;;
99) fail "valgrind found errors" ;;
124 | 137) fail "slowapi did not stop within the time limit" ;;
*) fail "exit status $rc" ;;
esac
grep -q "ERROR SUMMARY: 0 errors" "$tmp/valgrind.log" || fail "valgrind reported errors"
echo "valgrind slowapi: clean"
