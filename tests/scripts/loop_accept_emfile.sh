#!/usr/bin/env bash
# The loop models' shared accept path (services/core/loop_accept.c) out of
# descriptors, with real processes on 127.0.0.1: event-loop and coroutine
# each run natively with a low open-file limit (soft and hard, so that it
# cannot raise its own) and get more idle client connections than that
# limit lets it hold. Each must
#   - say so once (accept: Too many open files), not once per try;
#   - close none of them: those it could not take wait in the listen queue
#     (libuv's own uv_accept took and closed them, its reserve-fd trick);
#   - not spin meanwhile: its CPU time over a window (/proc/PID/stat) stays
#     low, where a loop woken again and again by its readable socket would
#     use the whole window;
#   - once the clients leave, catch up (logged) and answer /healthz and
#     GET /io (its fan-out to a real slowapi) again, and stop on SIGTERM
#     with status 0.
#   tests/scripts/loop_accept_emfile.sh    PASS/FAIL lines; exit 0 when all pass
# Exit: 0 pass, 77 skipped (no curl, or bash without /dev/tcp), 1 otherwise.
# The programs are awaited on their readiness pipes, the log and the
# answers on conditions with limits; only the CPU window is a fixed time.
set -euo pipefail
cd "$(dirname "$0")"
while [ ! -f Makefile ] && [ "$PWD" != / ]; do cd ..; done
. tests/harness/checks.sh
. run/ready.sh

FD_LIMIT=64      # the server's open-file limit
CLIENTS=100      # idle client connections: more than FD_LIMIT
CPU_WINDOW_S=2   # how long the server's CPU time is watched while short
CPU_MAX_MS=200   # at most this much of it (the tries every 100 ms cost ~0)

if ! command -v curl >/dev/null; then
    echo "loop accept emfile: SKIPPED (curl not installed)"
    exit 77
fi
build=${BUILD:-build}
make -s BUILD="$build" "$build/bin/slowapi" "$build/bin/event-loop" "$build/bin/coroutine"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lab-emfile.XXXXXX")
pids=()
clients=()
cleanup() {
    close_clients
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

# with_fd_limit N CMD...: CMD with at most N open files (lab_start runs it
# in the background, so the limit stays in that subshell).
with_fd_limit() {
    local n=$1
    shift
    ulimit -n "$n" && exec "$@"
}

# wait_until SECONDS CMD...: CMD every 50 ms until it succeeds (0) or
# SECONDS have passed (1).
wait_until() {
    local end=$(($(date +%s%N) + $1 * 1000000000))
    shift
    until "$@"; do
        [ "$(date +%s%N)" -lt "$end" ] || return 1
        sleep 0.05
    done
}

# cpu_ms PID: user + system CPU time so far (fields 14 and 15 of stat,
# counted after the command's name, which may hold spaces).
hz=$(getconf CLK_TCK)
cpu_ms() {
    local rest
    rest=$(sed 's/.*) //' "/proc/$1/stat")
    awk -v hz="$hz" '{ print int(($12 + $13) * 1000 / hz) }' <<<"$rest"
}

# exited PID: the process is gone (bash reaps it on its own) or a zombie.
exited() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    [[ ${stat##*) } == Z* ]]
}

open_clients() {
    local port=$1 fd
    for ((i = 0; i < CLIENTS; i++)); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$port" || return 1
        clients+=("$fd")
    done
}

# none_closed: no client's connection reads as closed (or readable at all).
none_closed() {
    local fd
    for fd in "${clients[@]}"; do
        ! read -r -t 0 -u "$fd" || return 1
    done
}

close_clients() {
    local fd
    for fd in "${clients[@]}"; do exec {fd}<&-; done
    clients=()
}

# answers PORT PATH STATUS [BODY]: GET PATH answers STATUS (and has BODY).
answers() {
    local out
    out=$(curl -sS --max-time 5 -w '\n%{http_code}' "http://127.0.0.1:$1$2" 2>/dev/null) || return 1
    [ "${out##*$'\n'}" = "$3" ] && [[ ${out%$'\n'*} == *"${4:-}"* ]]
}

warnings() { grep -c 'accept: Too many open files' "$1" || true; }

LOG_LEVEL=error lab_start slowapi "$tmp" "$build/bin/slowapi" || exit 1
pids+=("$started_pid")
upstream="http://127.0.0.1:$port/?delay=0.05"
# bash may be built without /dev/tcp: try it on slowapi first.
if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "loop accept emfile: SKIPPED (this bash has no /dev/tcp connections)"
    exit 77
fi

# emfile_case VARIANT: one model through a shortage of descriptors.
emfile_case() {
    local v=$1 log=$tmp/$1.log pid used_ms status=0
    LOG_LEVEL=info lab_start "$v" "$tmp" with_fd_limit "$FD_LIMIT" "$build/bin/$v" \
        --slow-api-url "$upstream" || { fail "$v: started"; return; }
    pid=$started_pid
    pids+=("$pid")
    check "$v: /io answers before the shortage" answers "$port" /io 200 '"ok":10'

    check "$v: $CLIENTS idle clients connect (they wait in the listen queue)" \
        open_clients "$port"
    check "$v: says accept ran out of descriptors" \
        wait_until 10 grep -q 'accept: Too many open files' "$log"
    used_ms=$(cpu_ms "$pid")
    sleep "$CPU_WINDOW_S"
    used_ms=$(($(cpu_ms "$pid") - used_ms))
    check "$v: does not spin while short ($used_ms ms of CPU in $CPU_WINDOW_S s)" \
        test "$used_ms" -le "$CPU_MAX_MS"
    check "$v: is still running" kill -0 "$pid"
    check "$v: has closed no client" none_closed

    close_clients
    check "$v: /healthz answers once the clients left" wait_until 10 answers "$port" /healthz 200
    check "$v: GET /io answers 200, its 10 calls ok" answers "$port" /io 200 '"ok":10'
    check "$v: logs that it caught up" wait_until 5 grep -q 'accept: caught up' "$log"
    check "$v: one warning for the episode (got $(warnings "$log"))" test "$(warnings "$log")" -eq 1

    kill -TERM "$pid"
    check "$v: stops on SIGTERM" wait_until 10 exited "$pid"
    wait "$pid" || status=$?
    check "$v: exit status 0 (got $status)" test "$status" -eq 0
    [ "$failed" -eq 0 ] || show_log "$log"
}

emfile_case event-loop
emfile_case coroutine

echo "loop accept emfile: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
