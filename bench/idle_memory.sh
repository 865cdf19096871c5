#!/usr/bin/env bash
# The memory cost of idle connections in a running server: the server's
# VmRSS, RssAnon and VmPTE (page tables, not in RSS) from /proc before and
# after COUNT connections are opened and left idle, per connection. For
# the coroutine variant this is the cost of an idle coroutine as the
# server really holds it (stack pages touched, coroutine, handles), which
# bench/coro_memory.sh estimates with a model of the frame. Two states,
# each on a fresh server:
#   connected   connected, nothing sent: parked in its first read
#   after-io    one GET /io answered (upstream delay 0), then idle in
#               keep-alive: parked in its read after the deepest frames
#               (fan-out start, answer) have been used once
# The requests go one at a time, so the server holds one fan-out at most
# (its upstream connections are in the baseline, made by a warm-up /io).
#
# usage: bench/idle_memory.sh [-n COUNT] [PROGRAM [FLAGS...]]
# Default: -n 1000, coroutine --connections COUNT+16. Any server program
# of build/bin works (event-loop, say, for comparison); BUILD (default
# build) names the build directory. slowapi and the server run natively on
# 127.0.0.1; bench/idle_clients.c is built with CC into a temporary
# directory.
set -euo pipefail

count=1000
usage() { sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; } # the header comment
while getopts "n:h" opt; do
    case $opt in
    n) count=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[[ $count =~ ^[1-9][0-9]*$ ]] || { echo "idle_memory: -n takes a positive integer" >&2; exit 2; }
program=${1:-coroutine}
shift || true
flags=("$@")
if [[ $# -eq 0 && $program == coroutine ]]; then
    flags=(--connections $((count + 16)))
fi

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
for bin in slowapi "$program"; do
    [[ -x $root/$build/bin/$bin ]] ||
        { echo "idle_memory: $build/bin/$bin missing (run make)" >&2; exit 1; }
done
hard=$(ulimit -Hn)
[[ $hard == unlimited ]] && hard=1048576
ulimit -n "$hard" 2>/dev/null || true
if (($(ulimit -n) < count + 64)); then
    echo "idle_memory: -n $count needs ulimit -n >= $((count + 64))" >&2
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/idle_memory.XXXXXX")
pids=()
cleanup() {
    exec 7>&- || true
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${CC:-cc}" -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$root/lib" \
    -o "$tmp/idle_clients" "$root/bench/idle_clients.c" "$root/lib/parse.c"

# shellcheck source=run/ready.sh
. "$root/run/ready.sh"
# start NAME CMD...: lab_start; sets $port and $last_pid.
start() {
    lab_start "$1" "$tmp" env LOG_LEVEL=warn "${@:2}" || exit 1
    pids+=("$started_pid")
    last_pid=$started_pid
}

# status_kib PID FIELD: a field of /proc/PID/status, in KiB.
status_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

start slowapi "$root/$build/bin/slowapi"
upstream=http://127.0.0.1:$port/?delay=0

echo "== $count idle connections: $program ${flags[*]}" \
    "($(uname -r), $(getconf PAGESIZE)-byte pages)"
printf '%-10s %13s %13s %14s %15s %14s\n' state "VmRSS KiB" "RssAnon KiB" "KiB/conn RSS" \
    "KiB/conn anon" "KiB/conn PTE"
for state in connected after-io; do
    start "$program-$state" "$root/$build/bin/$program" "${flags[@]}" --slow-api-url "$upstream"
    server=$last_pid
    # The baseline holds what one request leaves behind: upstream
    # connections, curl's handles, a pooled coroutine stack.
    "$tmp/idle_clients" "$port" 1 /io </dev/null >/dev/null
    rss0=$(status_kib "$server" VmRSS)
    anon0=$(status_kib "$server" RssAnon)
    pte0=$(status_kib "$server" VmPTE)
    path=-
    [[ $state == after-io ]] && path=/io
    mkfifo "$tmp/clients.in" "$tmp/clients.out"
    "$tmp/idle_clients" "$port" "$count" "$path" <"$tmp/clients.in" >"$tmp/clients.out" &
    clients=$!
    pids+=("$clients")
    exec 7>"$tmp/clients.in" # held open: the clients hold their connections until it closes
    # "ready" once every connection is accepted (and answered, after-io).
    line=
    read -r -t 120 line <"$tmp/clients.out" || true
    [[ $line == ready ]] || { echo "idle_memory: the clients failed" >&2; exit 1; }
    rss1=$(status_kib "$server" VmRSS)
    anon1=$(status_kib "$server" RssAnon)
    pte1=$(status_kib "$server" VmPTE)
    awk -v s="$state" -v r0="$rss0" -v r1="$rss1" -v a0="$anon0" -v a1="$anon1" -v p0="$pte0" \
        -v p1="$pte1" -v n="$count" \
        'BEGIN { printf "%-10s %6d->%-6d %6d->%-6d %14.2f %15.2f %14.2f\n", s, r0, r1, a0, a1,
                 (r1 - r0) / n, (a1 - a0) / n, (p1 - p0) / n }'
    exec 7>&- # the clients' stdin closes: they exit, closing their connections
    wait "$clients" || { echo "idle_memory: the clients failed" >&2; exit 1; }
    rm -f "$tmp/clients.in" "$tmp/clients.out"
    kill "$server"
    wait "$server" || { echo "idle_memory: the server did not stop cleanly" >&2; exit 1; }
    pids=("${pids[0]}")
done
