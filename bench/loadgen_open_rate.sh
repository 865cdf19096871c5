#!/usr/bin/env bash
# Can loadgen's open loop hold a planned rate without becoming the
# bottleneck? Against slowapi's /healthz on 127.0.0.1 (the cheapest answer
# the lab has): the most wrk and loadgen's closed loop get with -c
# connections, then loadgen --rate R with the same connections: the rate it
# sent, how late its sends were against the plan (send_lag: p50, p99, max)
# and how many planned requests it could not send (late). Writes
# bench/out/loadgen_open_rate_<UTC>.json.
#
# usage: bench/loadgen_open_rate.sh [-r RATE] [-c CONNECTIONS] [-d SECONDS] [-t THREADS]
#                                   [-w SLOWAPI_WORKERS]
# Defaults: -r 50000 -c 200 -d 10 -t 2 -w 1. BUILD names the build folder.
# Needs jq; wrk when installed (make deps); wrk2 (github.com/giltene/wrk2,
# not packaged by Debian: build it apart) when WRK2 names its binary, which
# then runs at the same rate, -d at least 15 s (it calibrates for 10). CPU
# sets as run.sh's natively: LOADGEN_CPUS (0) and SLOWAPI_CPUS (1).
set -euo pipefail

rate=50000
connections=200
duration=10
threads=2
workers=1
usage() { sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; }
while getopts "r:c:d:t:w:h" opt; do
    case $opt in
    r) rate=$OPTARG ;;
    c) connections=$OPTARG ;;
    d) duration=$OPTARG ;;
    t) threads=$OPTARG ;;
    w) workers=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
for v in "$rate" "$connections" "$duration" "$threads" "$workers"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "loadgen_open_rate: options take positive integers" >&2; exit 2; }
done

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
loadgen=$root/$build/bin/loadgen
[[ -x $loadgen && -x $root/$build/bin/slowapi ]] ||
    { echo "loadgen_open_rate: $build/bin/loadgen or slowapi missing (run make)" >&2; exit 1; }
command -v jq >/dev/null || { echo "loadgen_open_rate: jq not installed (make deps)" >&2; exit 1; }
lg_cpus=${LOADGEN_CPUS:-0}
api_cpus=${SLOWAPI_CPUS:-1}

tmp=$(mktemp -d)
server_pid=
cleanup() {
    [[ -z $server_pid ]] || { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$root/run/ready.sh"
LOG_LEVEL=warn lab_start slowapi "$tmp" taskset -c "$api_cpus" "$root/$build/bin/slowapi" \
    --workers "$workers" || exit 1
server_pid=$started_pid
url=http://127.0.0.1:$port/healthz
echo "slowapi ($workers worker(s), CPU $api_cpus) on $url; loadgen on CPU $lg_cpus, -t$threads -c$connections -d${duration}s"

wrk_rps=null
if command -v wrk >/dev/null; then
    taskset -c "$lg_cpus" wrk -t"$threads" -c"$connections" -d"${duration}s" "$url" >"$tmp/wrk.txt"
    wrk_rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.txt")
    printf 'wrk (closed loop)        %10.1f req/s\n' "$wrk_rps"
fi
wrk2_rps=null
wrk2_p99=null
if [[ -n ${WRK2:-} ]]; then
    taskset -c "$lg_cpus" "$WRK2" -t"$threads" -c"$connections" -d"${duration}s" -R"$rate" \
        --latency "$url" >"$tmp/wrk2.txt"
    wrk2_rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk2.txt")
    wrk2_p99=$(awk '$1 == "99.000%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
                    print (u == "s" ? v * 1000 : u == "us" ? v / 1000 : v); exit}' "$tmp/wrk2.txt")
    printf 'wrk2 -R %-8d         %10.1f req/s, latency p99 %s ms\n' "$rate" "$wrk2_rps" "$wrk2_p99"
fi
taskset -c "$lg_cpus" "$loadgen" -t"$threads" -c"$connections" -d"$duration" \
    --json "$tmp/closed.json" "$url" >/dev/null 2>&1
closed_rps=$(jq '.summary.rps' "$tmp/closed.json")
printf 'loadgen closed loop      %10.1f req/s\n' "$closed_rps"
taskset -c "$lg_cpus" "$loadgen" -t"$threads" -c"$connections" -d"$duration" --rate "$rate" \
    --json "$tmp/open.json" "$url" >/dev/null 2>&1
jq -r --argjson rate "$rate" '"loadgen --rate \($rate)     \(.summary.issued / .config.duration_s | floor) req/s sent, \(.summary.late) late of \(.summary.planned); send lag ms p50 \(.summary.send_lag_ms["50"]), p99 \(.summary.send_lag_ms["99"]), max \(.summary.send_lag_ms["100"]); latency p99 \(.percentiles_ms["99"]) ms (uncorrected \(.percentiles_uncorrected_ms["99"]))"' \
    "$tmp/open.json"

mkdir -p "$root/bench/out"
out=$root/bench/out/loadgen_open_rate_$(date -u +%Y%m%dT%H%M%SZ).json
jq -n --argjson rate "$rate" --argjson c "$connections" --argjson t "$threads" \
    --argjson d "$duration" --argjson workers "$workers" --arg lg_cpus "$lg_cpus" \
    --arg api_cpus "$api_cpus" --argjson wrk "$wrk_rps" --argjson closed "$closed_rps" \
    --argjson wrk2_rps "$wrk2_rps" --argjson wrk2_p99 "$wrk2_p99" \
    --slurpfile open "$tmp/open.json" \
    '{rate: $rate, connections: $c, threads: $t, duration_s: $d, slowapi_workers: $workers,
      loadgen_cpus: $lg_cpus, slowapi_cpus: $api_cpus, wrk_closed_rps: $wrk,
      loadgen_closed_rps: $closed, wrk2_rps: $wrk2_rps, wrk2_p99_ms: $wrk2_p99,
      open: {sent_rps: ($open[0].summary.issued / $open[0].config.duration_s),
             planned: $open[0].summary.planned, issued: $open[0].summary.issued,
             late: $open[0].summary.late, send_lag_ms: $open[0].summary.send_lag_ms,
             percentiles_ms: $open[0].percentiles_ms,
             percentiles_uncorrected_ms: $open[0].percentiles_uncorrected_ms}}' >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
