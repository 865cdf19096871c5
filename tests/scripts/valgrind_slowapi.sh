#!/usr/bin/env bash
# slowapi under valgrind memcheck: start it with a readiness pipe, send a few
# requests of every kind (answered at once, delayed, refused, malformed,
# abandoned while waiting, still waiting at the stop), over HTTP/1.1 and
# over h2c (prior knowledge: curl, and raw frames for resets, garbage and
# clients that leave; and by HTTP/1.1 Upgrade: curl --http2, refused
# upgrades, one still waiting at the stop), SIGTERM it, and fail on any
# invalid access or definite/indirect leak.
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

# A plain build: valgrind cannot run an ASan binary, so BUILD (default
# build) must not name build/san.
build=${BUILD:-build}
make -s BUILD="$build" "$build/bin/slowapi"
bin=$build/bin/slowapi

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
case $body in '{"status":"ok","cpu_model":"'*'"}') ;; *) fail "healthz body: $body" ;; esac
# The shared calls_total (its mmap'd counter): the one delayed answer so
# far, and still after a reset.
for path in '/stats?reset=1' /stats; do
    body=$(curl -sS --max-time "$IO_TIMEOUT_S" "$base$path") || fail "GET $path: curl failed"
    [[ "$body" == *'"calls_total":1,'* ]] || fail "GET $path: $body, want calls_total 1"
done

# h2c with prior knowledge, the same answers; several streams at once.
expect_h2() {
    local want=$1 path=$2 got
    got=$(curl -sS --http2-prior-knowledge -o /dev/null -w '%{http_code} %{http_version}' \
        --max-time "$IO_TIMEOUT_S" "$base$path") || fail "h2c GET $path: curl failed"
    [ "$got" = "$want 2" ] || fail "h2c GET $path: got '$got', want '$want 2'"
}
expect_h2 200 /healthz
expect_h2 200 '/?delay=0.05'
expect_h2 200 '/?delay=0'
expect_h2 400 '/?delay=-1'
expect_h2 404 /nope
# Injected faults (after the calls_total checks above): an error, a reset
# and a hang that its client leaves, over HTTP/1.1 and h2c.
expect 500 '/?delay=0.01&error=100'
expect_h2 500 '/?delay=0.01&error=100'
expect 400 '/?error=101'
curl -sS -o /dev/null --max-time "$IO_TIMEOUT_S" "$base/?delay=0.01&reset=100" 2>/dev/null &&
    fail "reset=100: curl got an answer"
curl -sS -o /dev/null --http2-prior-knowledge --max-time "$IO_TIMEOUT_S" \
    "$base/?delay=0.01&reset=100" 2>/dev/null && fail "h2c reset=100: curl got an answer"
curl -sS -o /dev/null --max-time 0.3 "$base/?delay=0.01&hang=100" 2>/dev/null &&
    fail "hang=100: curl got an answer"
curl -sS -o /dev/null --http2-prior-knowledge --max-time 0.3 "$base/?delay=0.01&hang=100" \
    2>/dev/null && fail "h2c hang=100: curl got an answer"
expect 200 '/?delay=0.01&jitter=50'
codes=$(curl --no-progress-meter -S --http2-prior-knowledge -Z --parallel-immediate \
    -o /dev/null -o /dev/null -o /dev/null -w '%{http_code}\n' --max-time "$IO_TIMEOUT_S" \
    "$base/?delay=0.1" "$base/?delay=0.1" "$base/?delay=0.1") || fail "h2c parallel: curl failed"
[ "$(echo $codes)" = "200 200 200" ] || fail "h2c parallel: got $codes"

# h2c by an HTTP/1.1 Upgrade (curl --http2 on http://): the request is
# stream 1; in parallel, the others wait for that connection and join it.
expect_upgrade() {
    local want=$1 path=$2 got
    got=$(curl -sS --http2 -o /dev/null -w '%{http_code} %{http_version}' \
        --max-time "$IO_TIMEOUT_S" "$base$path") || fail "h2c upgrade GET $path: curl failed"
    [ "$got" = "$want 2" ] || fail "h2c upgrade GET $path: got '$got', want '$want 2'"
}
expect_upgrade 200 /healthz
expect_upgrade 200 '/?delay=0.05'
expect_upgrade 400 '/?delay=-1'
expect_upgrade 404 /nope
codes=$(curl --no-progress-meter -S --http2 -Z -o /dev/null -o /dev/null -o /dev/null \
    -w '%{http_code} %{http_version}\n' --max-time "$IO_TIMEOUT_S" \
    "$base/?delay=0.1" "$base/?delay=0.1" "$base/?delay=0.1") || fail "h2c upgrade parallel: curl failed"
[ "$(echo $codes)" = "200 2 200 2 200 2" ] || fail "h2c upgrade parallel: got $codes"
# Refused (HTTP2-Settings not base64url; a body): plain HTTP/1.1 answers.
upgrade_headers='Host: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n'
for extra in 'HTTP2-Settings: !!\r\n\r\n' \
    'HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nContent-Length: 2\r\n\r\n{}'; do
    exec {sock}<>"/dev/tcp/127.0.0.1/$port"
    printf "GET /healthz HTTP/1.1\\r\\n$upgrade_headers$extra" >&"$sock"
    read -r -t "$IO_TIMEOUT_S" -u "$sock" status_line || fail "refused upgrade: no answer"
    exec {sock}>&-
    [[ "$status_line" == "HTTP/1.1 200 "* ]] || fail "refused upgrade: got $status_line"
done

# Raw h2c frames. h2_get ID PATH: a HEADERS frame (END_STREAM|END_HEADERS)
# for GET PATH on stream ID (< 256); HPACK with static-table names and
# literal values. The preface comes with an empty SETTINGS frame.
h2_preface='PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00'
h2_get() {
    local id=$1 path=$2
    printf '\\x00\\x00\\x%02x\\x01\\x05\\x00\\x00\\x00\\x%02x' $((15 + ${#path})) "$id"
    printf '\\x82\\x86\\x04\\x%02x%s\\x01\\x09127.0.0.1' "${#path}" "$path"
}
# Wait until the server has written at least N bytes on fd (so it has read
# what came before the request that made them).
h2_await() {
    timeout "$IO_TIMEOUT_S" head -c "$2" <&"$1" >/dev/null || fail "h2c: no answer"
}
# The server's SETTINGS (15 bytes) and SETTINGS ACK (9) come first; a
# /healthz answer's HEADERS and DATA (> 40 bytes) after them.
H2_HEALTHZ_ANSWERED_BYTES=64

# A client that leaves while three streams wait, one stream reset while it
# waits: their deadlines must be dropped.
exec {sock}<>"/dev/tcp/127.0.0.1/$port"
printf "$h2_preface$(h2_get 1 '/?delay=5')$(h2_get 3 '/?delay=5')$(h2_get 5 '/?delay=5')"\
"\\x00\\x00\\x04\\x03\\x00\\x00\\x00\\x00\\x03\\x00\\x00\\x00\\x08$(h2_get 7 /healthz)" >&"$sock"
h2_await "$sock" "$H2_HEALTHZ_ANSWERED_BYTES"
exec {sock}>&-

# Garbage after the preface: GOAWAY, then the server closes (cat sees EOF).
exec {sock}<>"/dev/tcp/127.0.0.1/$port"
printf "${h2_preface}this is not an HTTP/2 frame\r\n" >&"$sock"
timeout "$IO_TIMEOUT_S" cat <&"$sock" >/dev/null || fail "h2c garbage: no close"
exec {sock}>&-
expect_h2 200 /healthz

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
# And an h2c connection with two streams waiting.
exec {h2waiting}<>"/dev/tcp/127.0.0.1/$port"
printf "$h2_preface$(h2_get 1 '/?delay=30')$(h2_get 3 '/?delay=30')$(h2_get 5 /healthz)" \
    >&"$h2waiting"
h2_await "$h2waiting" "$H2_HEALTHZ_ANSWERED_BYTES"
# And an upgraded one: its stream 1 waiting, the preface and a /healthz on
# stream 3 sent right behind the request; the 101 (71 bytes) comes first.
exec {upwaiting}<>"/dev/tcp/127.0.0.1/$port"
printf "GET /?delay=30 HTTP/1.1\\r\\n${upgrade_headers}HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\\r\\n\\r\\n"\
"$h2_preface$(h2_get 3 /healthz)" >&"$upwaiting"
h2_await "$upwaiting" $((71 + H2_HEALTHZ_ANSWERED_BYTES))

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
exec {waiting}>&- {idle}>&- {h2waiting}>&- {upwaiting}>&-

case $rc in
0) ;;
99) fail "valgrind found errors" ;;
124 | 137) fail "slowapi did not stop within the time limit" ;;
*) fail "exit status $rc" ;;
esac
grep -q "ERROR SUMMARY: 0 errors" "$tmp/valgrind.log" || fail "valgrind reported errors"
echo "valgrind slowapi: clean"
