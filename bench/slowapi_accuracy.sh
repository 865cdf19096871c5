#!/usr/bin/env bash
# How exactly do slowapi and loadgen together keep a 1 s delay under many
# connections? Starts slowapi on 127.0.0.1, runs loadgen -c 10000 -d 20
# --drain 5 on /?delay=1 and prints p50, p99 and max of (latency - 1000 ms),
# with PASS when p99 - 1000 ms <= 5 ms (exit 0) and FAIL otherwise (exit 1).
# loadgen and slowapi share the machine's CPUs: the figure includes both.
#
# usage: bench/slowapi_accuracy.sh [-c CONNECTIONS] [-d SECONDS] [-t THREADS]
#                                  [-w WARMUP_S] [-r RAMP_S]
# -r spreads the connections' first requests over RAMP_S seconds instead of
# one burst of c requests that the closed loop then repeats every second;
# pair it with -w. BUILD (default build) names the build directory. Needs jq.
set -euo pipefail

connections=10000
duration=20
drain=5
warmup=0
ramp=0
threads=$(nproc)
limit_ms=5
usage() { sed -n '2,14s/^# \{0,1\}//p' "$0"; }
while getopts "c:d:t:w:r:h" opt; do
    case $opt in
    c) connections=$OPTARG ;;
    d) duration=$OPTARG ;;
    t) threads=$OPTARG ;;
    w) warmup=$OPTARG ;;
    r) ramp=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
for v in "$connections" "$duration" "$threads"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "slowapi_accuracy: -c -d -t take positive integers" >&2; exit 2; }
done
for v in "$warmup" "$ramp"; do
    [[ $v =~ ^[0-9]+$ ]] || { echo "slowapi_accuracy: -w -r take whole seconds" >&2; exit 2; }
done

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
slowapi=$root/$build/bin/slowapi
loadgen=$root/$build/bin/loadgen
for bin in "$slowapi" "$loadgen"; do
    [[ -x $bin ]] || { echo "slowapi_accuracy: $bin missing (run make)" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "slowapi_accuracy: jq not installed (make deps)" >&2; exit 1; }

# Both processes need a descriptor per connection (and some): raise the
# soft limit as far as the hard one allows; loadgen checks it again.
hard=$(ulimit -Hn)
if [[ $hard == unlimited ]]; then hard=1048576; fi
ulimit -n "$hard" 2>/dev/null || true
need=$((connections + 64))
if (($(ulimit -n) < need)); then
    echo "slowapi_accuracy: -c $connections needs ulimit -n >= $need, the hard limit is $hard" >&2
    exit 1
fi

tmp=$(mktemp -d)
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

mkfifo "$tmp/ready"
LOG_LEVEL=warn "$slowapi" --host 127.0.0.1 --port 0 --ready-fd 3 3>"$tmp/ready" 2>"$tmp/slowapi.log" &
server_pid=$!
port=
read -r -t 10 port <"$tmp/ready" || true
if [[ ! $port =~ ^[0-9]+$ ]]; then
    echo "slowapi_accuracy: slowapi did not report a port:" >&2
    cat "$tmp/slowapi.log" >&2
    exit 1
fi
url="http://127.0.0.1:$port/?delay=1"
echo "slowapi on 127.0.0.1:$port; loadgen -c $connections -t $threads -d $duration --drain $drain" \
    "--warmup $warmup --ramp $ramp on /?delay=1 (ulimit -n $(ulimit -n), $(nproc) CPUs shared," \
    "load average $(cut -d' ' -f1 /proc/loadavg))"

"$loadgen" -c "$connections" -t "$threads" -d "$duration" --drain "$drain" --warmup "$warmup" \
    --ramp "$ramp" --json "$tmp/report.json" "$url" >"$tmp/summary.txt" 2>"$tmp/loadgen.err" || {
    echo "slowapi_accuracy: loadgen failed:" >&2
    cat "$tmp/loadgen.err" >&2
    exit 1
}
cat "$tmp/summary.txt"

jq -r '.summary | "issued \(.issued), ok \(.ok), failures \(.failures), unfinished \(.unfinished), rps \(.rps), over \(.duration_s) s"' \
    "$tmp/report.json"
if [[ $(jq '.percentiles_ms == null' "$tmp/report.json") == true ]]; then
    echo "FAIL: no responses"
    exit 1
fi
read -r p50 p99 max < <(jq -r '.percentiles_ms | "\(."50" - 1000) \(."99" - 1000) \(."100" - 1000)"' "$tmp/report.json")
printf 'latency - 1000 ms:  p50 %.3f ms  p99 %.3f ms  max %.3f ms\n' "$p50" "$p99" "$max"
if awk -v p="$p99" -v l="$limit_ms" 'BEGIN { exit !(p <= l) }' &&
    [[ $(jq '.summary.failures' "$tmp/report.json") == 0 ]]; then
    echo "PASS: p99 - 1000 ms = $(printf '%.3f' "$p99") ms <= $limit_ms ms, no failures"
    exit 0
fi
echo "FAIL: p99 - 1000 ms = $(printf '%.3f' "$p99") ms (limit $limit_ms ms) or failures"
exit 1
