#!/usr/bin/env bash
# loadgen against wrk on the same trivial endpoint (slowapi's /healthz on
# 127.0.0.1), alternately: wrk, loadgen, wrk, loadgen, ... Prints each run's
# requests per second, the means and the ratio loadgen/wrk (>= 1: loadgen is
# not the bottleneck), and writes bench/out/loadgen_vs_wrk_<UTC>.json.
#
# usage: bench/loadgen_vs_wrk.sh [-c CONNECTIONS] [-d SECONDS] [-t THREADS] [-r ROUNDS]
# BUILD (default build) names the build directory. Needs wrk and jq.
set -euo pipefail

connections=100
duration=10
threads=2
rounds=2
usage() { sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; } # the header comment
while getopts "c:d:t:r:h" opt; do
    case $opt in
    c) connections=$OPTARG ;;
    d) duration=$OPTARG ;;
    t) threads=$OPTARG ;;
    r) rounds=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
for v in "$connections" "$duration" "$threads" "$rounds"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "loadgen_vs_wrk: options take positive integers" >&2; exit 2; }
done

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
slowapi=$root/$build/bin/slowapi
loadgen=$root/$build/bin/loadgen
for bin in "$slowapi" "$loadgen"; do
    [[ -x $bin ]] || { echo "loadgen_vs_wrk: $bin missing (run make)" >&2; exit 1; }
done
for tool in wrk jq; do
    command -v "$tool" >/dev/null || { echo "loadgen_vs_wrk: $tool not installed (make deps)" >&2; exit 1; }
done

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

# slowapi on any free port; it writes the port to the fifo once listening.
mkfifo "$tmp/ready"
LOG_LEVEL=warn "$slowapi" --host 127.0.0.1 --port 0 --ready-fd 3 3>"$tmp/ready" 2>"$tmp/slowapi.log" &
server_pid=$!
port=
read -r -t 10 port <"$tmp/ready" || true
if [[ ! $port =~ ^[0-9]+$ ]]; then
    echo "loadgen_vs_wrk: slowapi did not report a port:" >&2
    cat "$tmp/slowapi.log" >&2
    exit 1
fi
url=http://127.0.0.1:$port/healthz
echo "slowapi on $url; $rounds rounds of wrk and loadgen, -t$threads -c$connections -d${duration}s"

wrk_rps=()
lg_rps=()
for ((i = 1; i <= rounds; i++)); do
    wrk -t"$threads" -c"$connections" -d"${duration}s" "$url" >"$tmp/wrk.txt"
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.txt")
    errs=$(grep -E 'Socket errors|Non-2xx' "$tmp/wrk.txt" | tr -s ' ' | paste -sd ';' || true)
    printf 'round %d  wrk      %12.1f rps%s\n' "$i" "$rps" "${errs:+  ($errs)}"
    wrk_rps+=("$rps")

    "$loadgen" -t"$threads" -c"$connections" -d"$duration" --json "$tmp/loadgen.json" "$url" \
        >/dev/null 2>"$tmp/loadgen.err"
    rps=$(jq '.summary.rps' "$tmp/loadgen.json")
    fails=$(jq '.summary.failures' "$tmp/loadgen.json")
    printf 'round %d  loadgen  %12.1f rps%s\n' "$i" "$rps" \
        "$([[ $fails != 0 ]] && echo "  ($fails failures)")"
    lg_rps+=("$rps")
done

mean() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.1f", s / NR }'; }
wrk_mean=$(mean "${wrk_rps[@]}")
lg_mean=$(mean "${lg_rps[@]}")
ratio=$(awk -v a="$lg_mean" -v b="$wrk_mean" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
echo "mean     wrk $wrk_mean rps, loadgen $lg_mean rps; loadgen/wrk = $ratio"

mkdir -p "$root/bench/out"
out=$root/bench/out/loadgen_vs_wrk_$(date -u +%Y%m%dT%H%M%SZ).json
jq -n --argjson c "$connections" --argjson t "$threads" --argjson d "$duration" \
    --arg url "$url" --arg wrk "$(wrk --version 2>&1 | head -1 || true)" \
    --argjson wrk_rps "$(printf '%s\n' "${wrk_rps[@]}" | jq -s .)" \
    --argjson lg_rps "$(printf '%s\n' "${lg_rps[@]}" | jq -s .)" \
    --argjson wrk_mean "$wrk_mean" --argjson lg_mean "$lg_mean" --argjson ratio "$ratio" \
    '{connections: $c, threads: $t, duration_s: $d, url: $url, wrk_version: $wrk,
      wrk_rps: $wrk_rps, loadgen_rps: $lg_rps, wrk_mean_rps: $wrk_mean,
      loadgen_mean_rps: $lg_mean, ratio_loadgen_over_wrk: $ratio}' >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
