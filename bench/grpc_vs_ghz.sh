#!/usr/bin/env bash
# loadgen --grpc against an independent gRPC load generator, ghz
# (github.com/bojand/ghz, Go), on the same gRPC variant and slowapi on
# 127.0.0.1, alternately: ghz, loadgen, ghz, loadgen, ... Both run a closed
# loop of -c concurrent unary calls to bench.Bench/Io over 2 HTTP/2
# connections. Prints each run's rps and p50, the means and the ratios
# loadgen/ghz (the lab wants both within 5%), and writes
# bench/out/grpc_vs_ghz_<UTC>.json. Exit 0 when both ratios are within
# 5%, 1 otherwise.
#
# The rps compared is the same estimator on each tool's own samples:
# loadgen's (docs/REPORT.md: each ok call counts for its share of time
# inside the load's window) computed from ghz's per-call records (end time
# and latency). ghz's own figure (its report's "rps", calls over its own
# idea of the run's length) is printed too, for reference; it differs at
# the run's edges (98.9 and 99.3 against 99.3 and 99.5 in two 10 s runs,
# 2026-11-27).
#
# usage: bench/grpc_vs_ghz.sh [-v VARIANT] [-c CONCURRENCY] [-d SECONDS] [-D DELAY] [-r ROUNDS]
#   (grpc-async, 100, 10, 1, 2). The server runs on CPU 1, slowapi and the
#   clients on CPU 0 (SERVER_CPUS, CLIENT_CPUS), as run.sh does.
# ghz: GHZ (default: ghz on PATH, else ~/go/bin/ghz); to install it from the
# Go module proxy: go install github.com/bojand/ghz/cmd/ghz@v0.93.0
# BUILD (default build) names the build directory. Needs jq.
set -euo pipefail

variant=grpc-async
concurrency=100
duration=10
delay=1
rounds=2
usage() { sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; } # the header comment
while getopts "v:c:d:D:r:h" opt; do
    case $opt in
    v) variant=$OPTARG ;;
    c) concurrency=$OPTARG ;;
    d) duration=$OPTARG ;;
    D) delay=$OPTARG ;;
    r) rounds=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
for v in "$concurrency" "$duration" "$rounds"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "grpc_vs_ghz: -c, -d and -r take positive integers" >&2; exit 2; }
done
[[ $delay =~ ^[0-9]*\.?[0-9]+$ ]] || { echo "grpc_vs_ghz: -D takes seconds" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
slowapi=$root/$build/bin/slowapi
loadgen=$root/$build/bin/loadgen
server=$root/$build/bin/$variant
for bin in "$slowapi" "$loadgen" "$server"; do
    [[ -x $bin ]] || { echo "grpc_vs_ghz: $bin missing (run make)" >&2; exit 1; }
done
ghz=${GHZ:-$(command -v ghz || echo "$HOME/go/bin/ghz")}
if [[ ! -x $ghz ]]; then
    echo "grpc_vs_ghz: ghz not found; install it with" >&2
    echo "  go install github.com/bojand/ghz/cmd/ghz@v0.93.0" >&2
    exit 1
fi
command -v jq >/dev/null || { echo "grpc_vs_ghz: jq not installed (make deps)" >&2; exit 1; }
server_cpus=${SERVER_CPUS:-1}
client_cpus=${CLIENT_CPUS:-0}
pin() { if command -v taskset >/dev/null; then echo taskset -c "$1"; fi; }

tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck source=run/ready.sh
. "$root/run/ready.sh"
# start NAME CMD...: lab_start, the newest first in the clean-up.
start() {
    lab_start "$1" "$tmp" env LOG_LEVEL=warn "${@:2}" || exit 1
    pids=("$started_pid" "${pids[@]}")
}

start slowapi $(pin "$client_cpus") "$slowapi"
slow_port=$port
export SLOW_API_URL="http://127.0.0.1:$slow_port/?delay=$delay"
start server $(pin "$server_cpus") "$server"
target=127.0.0.1:$port
echo "$variant on $target (upstream delay ${delay} s); $rounds rounds of ghz and loadgen," \
    "c=$concurrency, ${duration} s, 2 connections"

ghz_rps=() ghz_p50=() ghz_own=() lg_rps=() lg_p50=()
for ((i = 1; i <= rounds; i++)); do
    # Calls in flight at the end finish (--duration-stop wait), as in
    # loadgen's drain; the window then takes their share.
    $(pin "$client_cpus") "$ghz" --insecure --proto "$root/proto/bench.proto" \
        --call bench.Bench.Io -c "$concurrency" --connections 2 -z "${duration}s" \
        --duration-stop wait --timeout 30s -O json "$target" >"$tmp/ghz.json" 2>"$tmp/ghz.err" ||
        { cat "$tmp/ghz.err" >&2; exit 1; }
    own=$(jq '.rps' "$tmp/ghz.json")
    rps=$(jq --argjson d "$duration" -f /dev/stdin "$tmp/ghz.json" <<'JQ'
# A record's timestamp is when the call ended (RFC 3339, ns); latency in ns.
def ended: (.timestamp | capture("^(?<s>[^.Z]+)(\\.(?<f>[0-9]+))?Z$")) as $c
    | ($c.s + "Z" | fromdateiso8601) + ("0." + ($c.f // "0") | tonumber);
[.details[] | {end: ended, lat: (.latency / 1e9), ok: (.status == "OK")}] as $r
| ($r | map(.end - .lat) | min) as $from
| ($from + $d) as $to
| ([$r[] | select(.ok and .lat > 0)
     | ((([.end, $to] | min) - ([.end - .lat, $from] | max)) / .lat)
     | if . > 0 then . else 0 end] | add // 0) / $d
JQ
)
    p50=$(jq '[.latencyDistribution[] | select(.percentage == 50) | .latency][0] / 1e6' "$tmp/ghz.json")
    errs=$(jq -c '.statusCodeDistribution // {} | del(.OK)' "$tmp/ghz.json")
    printf 'round %d  ghz      %9.2f rps  p50 %8.1f ms  (ghz own rps %.2f)%s\n' "$i" "$rps" \
        "$p50" "$own" "$([[ $errs != '{}' ]] && echo "  (errors $errs)")"
    ghz_rps+=("$rps") ghz_p50+=("$p50") ghz_own+=("$own")

    # --drain 30: calls in flight at the end finish, as ghz waits for them.
    $(pin "$client_cpus") "$loadgen" --grpc -t 2 -c "$concurrency" -d "$duration" --timeout 30 --drain 30 \
        --json "$tmp/loadgen.json" "http://$target/io" >/dev/null 2>"$tmp/loadgen.err" ||
        { cat "$tmp/loadgen.err" >&2; exit 1; }
    rps=$(jq '.summary.rps' "$tmp/loadgen.json")
    p50=$(jq '.percentiles_ms["50"]' "$tmp/loadgen.json")
    fails=$(jq '.summary.failures' "$tmp/loadgen.json")
    printf 'round %d  loadgen  %9.2f rps  p50 %8.1f ms%s\n' "$i" "$rps" "$p50" \
        "$([[ $fails != 0 ]] && echo "  ($fails failures)")"
    lg_rps+=("$rps") lg_p50+=("$p50")
done

mean() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.3f", s / NR }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", (b > 0 ? a / b : 0) }'; }
ghz_rps_mean=$(mean "${ghz_rps[@]}") lg_rps_mean=$(mean "${lg_rps[@]}")
ghz_p50_mean=$(mean "${ghz_p50[@]}") lg_p50_mean=$(mean "${lg_p50[@]}")
rps_ratio=$(ratio "$lg_rps_mean" "$ghz_rps_mean")
p50_ratio=$(ratio "$lg_p50_mean" "$ghz_p50_mean")
agree=$(awk -v a="$rps_ratio" -v b="$p50_ratio" \
    'BEGIN { print (a >= 0.95 && a <= 1.05 && b >= 0.95 && b <= 1.05) ? "true" : "false" }')
echo "mean  rps: ghz $ghz_rps_mean, loadgen $lg_rps_mean (loadgen/ghz $rps_ratio)"
echo "mean  p50: ghz $ghz_p50_mean ms, loadgen $lg_p50_mean ms (loadgen/ghz $p50_ratio)"
echo "within 5%: $agree"

mkdir -p "$root/bench/out"
out=$root/bench/out/grpc_vs_ghz_$(date -u +%Y%m%dT%H%M%SZ).json
jq -n --arg variant "$variant" --argjson c "$concurrency" --argjson d "$duration" \
    --argjson delay "$delay" --arg ghz "$("$ghz" --version 2>&1 | head -1)" \
    --argjson ghz_rps "$(printf '%s\n' "${ghz_rps[@]}" | jq -s .)" \
    --argjson lg_rps "$(printf '%s\n' "${lg_rps[@]}" | jq -s .)" \
    --argjson ghz_own "$(printf '%s\n' "${ghz_own[@]}" | jq -s .)" \
    --argjson ghz_p50 "$(printf '%s\n' "${ghz_p50[@]}" | jq -s .)" \
    --argjson lg_p50 "$(printf '%s\n' "${lg_p50[@]}" | jq -s .)" \
    --argjson rps_ratio "$rps_ratio" --argjson p50_ratio "$p50_ratio" --argjson agree "$agree" \
    '{variant: $variant, concurrency: $c, duration_s: $d, delay_s: $delay, connections: 2,
      ghz_version: $ghz, ghz_rps: $ghz_rps, ghz_own_rps: $ghz_own, loadgen_rps: $lg_rps,
      ghz_p50_ms: $ghz_p50,
      loadgen_p50_ms: $lg_p50, rps_loadgen_over_ghz: $rps_ratio,
      p50_loadgen_over_ghz: $p50_ratio, within_5_percent: $agree}' >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
[[ $agree == true ]]
