#!/usr/bin/env bash
# How far does each model scale on this machine? The loop models and the
# largest thread pool at c = 1,000 to 10,000, natively and in Docker: one
# matrix per mode (run.sh's --sweep c=...), each with rps, p50, p99,
# failures, server CPU per request and peak memory per point, and its
# charts (rps and p99 against c). The upstream is h2c by default: over
# HTTP/1.1, c=10,000 would need 110,000 sockets in the server, more than
# even event-loop-4's four processes may hold, which run.sh's limit check
# refuses with its figures (try -u 1.1 to see it), and at c=5,000 run.sh
# spreads the 50,000 upstream connections over 4 slowapi ports. The clients start
# evenly over the first second (run.sh --ramp 1, the delay): started all
# at once, a closed loop's rounds arrive as one burst each and queue behind
# it (README, "Closed loops in step"); the warm-up leaves that second out.
#
# usage: bench/scale.sh [-m native|docker|both] [-c LIST] [-d SECONDS]
#                       [-w WARMUP] [-o VARIANTS] [-u 1.1|2] [-n bridge|host]
# Defaults: -m both -c 1000,2000,5000,10000 -d 20 -w 4 -u 2 -n bridge
#           -o event-loop,event-loop-4,coroutine-1x2000,coroutine-4x2000,threadpool-200
# The matrices land in results/ (run.sh's <UTC>_matrix_io folders); the
# last lines name them. A point that cannot fit is skipped by run.sh with
# its reason, and the matrix goes on.
set -euo pipefail

modes=both
concurrency=1000,2000,5000,10000
duration=20
warmup=4
variants=event-loop,event-loop-4,coroutine-1x2000,coroutine-4x2000,threadpool-200
upstream=2
network=bridge
ramp=1
usage() { sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; }
while getopts "m:c:d:w:o:u:n:h" opt; do
    case $opt in
    m) modes=$OPTARG ;;
    c) concurrency=$OPTARG ;;
    d) duration=$OPTARG ;;
    w) warmup=$OPTARG ;;
    o) variants=$OPTARG ;;
    u) upstream=$OPTARG ;;
    n) network=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
case $modes in native | docker | both) ;; *)
    echo "scale.sh: -m takes native, docker or both, not '$modes'" >&2; exit 2 ;;
esac
[[ $concurrency =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] ||
    { echo "scale.sh: -c takes a comma-separated list of positive integers" >&2; exit 2; }
[[ $duration =~ ^[1-9][0-9]*$ && $warmup =~ ^[0-9]+$ ]] ||
    { echo "scale.sh: -d and -w take whole seconds" >&2; exit 2; }

cd "$(dirname "$0")/.."
run_mode() {
    local mode=$1 args=()
    [ "$mode" = native ] && args+=(--native) || args+=(--network "$network")
    echo "scale.sh: $mode: ${variants//,/ } at c=$concurrency, ${duration} s each (after ${warmup} s of warm-up)"
    ./run.sh all io "${args[@]}" --only "$variants" --sweep "c=$concurrency" \
        --upstream-http "$upstream" -d "$duration" --warmup "$warmup" --ramp "$ramp"
}
status=0
for mode in native docker; do
    [ "$modes" = both ] || [ "$modes" = "$mode" ] || continue
    run_mode "$mode" || status=$?
done
exit "$status"
