#!/usr/bin/env bash
# Resident memory per idle pool thread: starts the threadpool server with
# 1, 50, 200 and 1000 threads (no load), reads VmRSS once it is ready, and
# prints the cost of each thread beyond the first (its stack pages, its
# fan-out client's curl handles, its connection buffers).
#
# usage: bench/thread_memory.sh   (after make; about 2 s)
set -euo pipefail
usage() { sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; } # the header comment
case ${1:-} in
-h | --help) usage; exit 0 ;;
"") ;;
*) echo "thread_memory: unexpected argument '$1' (see --help)" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
bin=${BUILD:-build}/bin/threadpool
[ -x "$bin" ] || { echo "thread_memory: $bin missing: run make" >&2; exit 1; }

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# rss_with THREADS: the server's VmRSS (KiB) once it reports its port.
rss_with() {
    local fifo port pid rss
    fifo=$(mktemp -u "${TMPDIR:-/tmp}/thread-memory.XXXXXX")
    mkfifo "$fifo"
    LOG_LEVEL=error "$bin" --threads "$1" --host 127.0.0.1 --port 0 --ready-fd 3 3>"$fifo" &
    pid=$!
    read -r -t 10 port <"$fifo" || true
    rm -f "$fifo"
    [[ $port =~ ^[0-9]+$ ]] || { kill "$pid" 2>/dev/null; echo "thread_memory: no start" >&2; exit 1; }
    # The port comes once every thread is set up (thread_pool_start).
    rss=$(rss_kib "$pid")
    kill "$pid"
    wait "$pid" || true
    echo "$rss"
}

base=$(rss_with 1)
printf '%-8s %10s %16s\n' threads "VmRSS KiB" "KiB per thread"
printf '%-8s %10s %16s\n' 1 "$base" -
for n in 50 200 1000; do
    rss=$(rss_with "$n")
    printf '%-8s %10s %16.1f\n' "$n" "$rss" "$(echo "($rss - $base) / ($n - 1)" | bc -l)"
done
