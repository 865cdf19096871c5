#!/usr/bin/env bash
# How precisely does slowapi keep its delay with 10,000 requests waiting at
# once? Starts slowapi on 127.0.0.1 (backlog 16384), runs loadgen
# -c 10000 on /?delay=1 and prints two figures of lateness (answer - delay):
#   client-side  loadgen's latency - 1000 ms: p50 p99 p99.9 max
#   server-side  slowapi's GET /stats: write issued - (parse + delay), over
#                the same window (reset when loadgen's warm-up ends)
# with PASS or FAIL for each (p99 <= 5 ms, no failed requests). Exit 0 when
# both pass, 1 otherwise, 2 on bad usage.
#
# usage: bench/slowapi_accuracy.sh [-c CONNECTIONS] [-d SECONDS] [-t THREADS]
#                                  [-r RAMP_S] [-w WARMUP_S] [-n NICE]
# Defaults: -c 10000 -d 12 -r 2 -w 3 -n 0 (about 20 s in all). -d counts the
# warm-up. The warm-up must cover the ramp. BUILD (default build) names the
# build directory. -n runs slowapi at that nice value (below 0: root only):
# on a machine whose CPUs are busy (loadgen shares them), a slowapi that is
# preempted answers late by a scheduler time slice, and a higher priority
# for the instrument takes that out. As root, net.core.somaxconn is raised
# to 16384 for the run and put back after. Needs jq and curl.
set -euo pipefail

connections=10000
duration=12
drain=3
ramp=2
warmup=3
threads=$(nproc)
delay_s=1
limit_ms=5
backlog=16384
niceness=0
usage() { sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; } # the header comment
while getopts "c:d:t:w:r:n:h" opt; do
    case $opt in
    c) connections=$OPTARG ;;
    d) duration=$OPTARG ;;
    t) threads=$OPTARG ;;
    w) warmup=$OPTARG ;;
    r) ramp=$OPTARG ;;
    n) niceness=$OPTARG ;;
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
[[ $niceness =~ ^-?[0-9]+$ ]] || { echo "slowapi_accuracy: -n takes an integer" >&2; exit 2; }
if ((warmup < ramp || warmup >= duration)); then
    echo "slowapi_accuracy: need -r <= -w < -d (the warm-up covers the ramp)" >&2
    exit 2
fi

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
slowapi=$root/$build/bin/slowapi
loadgen=$root/$build/bin/loadgen
for bin in "$slowapi" "$loadgen"; do
    [[ -x $bin ]] || { echo "slowapi_accuracy: $bin missing (run make)" >&2; exit 1; }
done
for tool in jq curl; do
    command -v "$tool" >/dev/null || { echo "slowapi_accuracy: $tool not installed (make deps)" >&2; exit 1; }
done

# Each process needs a descriptor per connection (loadgen c client
# sockets, slowapi c server sockets: separate limits): raise the soft
# limit as far as the hard one allows.
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
loadgen_pid=
old_somaxconn=
cleanup() {
    for pid in $loadgen_pid $server_pid; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n $old_somaxconn ]]; then
        sysctl -q -w net.core.somaxconn="$old_somaxconn" ||
            echo "slowapi_accuracy: could not restore net.core.somaxconn=$old_somaxconn" >&2
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# listen(2) silently caps the backlog at somaxconn (4096 by default). With
# more clients connecting than that within a moment, the rest lose their
# SYN and retry after 1 s, which would be measured as lateness.
somaxconn=$(sysctl -n net.core.somaxconn)
if ((somaxconn < backlog)); then
    if ((EUID == 0)); then
        old_somaxconn=$somaxconn
        sysctl -q -w net.core.somaxconn=$backlog
    else
        echo "note: net.core.somaxconn is $somaxconn (not root: left as is); the ramp keeps" \
            "connects well below it"
    fi
fi

mkfifo "$tmp/ready"
LOG_LEVEL=warn nice -n "$niceness" "$slowapi" --host 127.0.0.1 --port 0 --backlog "$backlog" --ready-fd 3 \
    3>"$tmp/ready" 2>"$tmp/slowapi.log" &
server_pid=$!
port=
read -r -t 10 port <"$tmp/ready" || true
if [[ ! $port =~ ^[0-9]+$ ]]; then
    echo "slowapi_accuracy: slowapi did not report a port:" >&2
    cat "$tmp/slowapi.log" >&2
    exit 1
fi
base=http://127.0.0.1:$port
echo "slowapi on 127.0.0.1:$port (backlog $backlog, somaxconn $(sysctl -n net.core.somaxconn));" \
    "loadgen -c $connections -t $threads -d $duration --ramp $ramp --warmup $warmup" \
    "--drain $drain on /?delay=$delay_s"
echo "slowapi at nice $niceness; ulimit -n $(ulimit -n), $(nproc) CPUs shared by both, load average $(cut -d' ' -f1 /proc/loadavg)"
echo "arrivals are spread: connections start evenly over ${ramp} s and the closed loop keeps" \
    "that spacing, so about $((connections / delay_s / 1000)) answers fall due per ms. Started" \
    "all at once, the $connections requests would stay in lockstep and fall due in the same" \
    "millisecond every round: that measures a burst of $connections writes, not the delay's" \
    "precision. The first ${warmup} s (connection set-up, the ramp) are left out on both sides."

"$loadgen" -c "$connections" -t "$threads" -d "$duration" --drain "$drain" --warmup "$warmup" \
    --ramp "$ramp" --json "$tmp/report.json" "$base/?delay=$delay_s" \
    >"$tmp/summary.txt" 2>"$tmp/loadgen.err" &
loadgen_pid=$!
# The server's window starts when loadgen's warm-up ends (to within the
# few ms loadgen takes to start).
sleep "$warmup"
curl -sS --max-time 5 -o "$tmp/stats_warmup.json" "$base/stats?reset=1" || {
    echo "slowapi_accuracy: GET /stats?reset=1 failed" >&2
    exit 1
}
loadgen_rc=0
wait "$loadgen_pid" || loadgen_rc=$?
loadgen_pid=
if ((loadgen_rc != 0)); then
    echo "slowapi_accuracy: loadgen failed (exit $loadgen_rc):" >&2
    cat "$tmp/loadgen.err" >&2
    exit 1
fi
curl -sS --max-time 5 -o "$tmp/stats.json" "$base/stats" || {
    echo "slowapi_accuracy: GET /stats failed" >&2
    exit 1
}

jq -r '.summary | "client: issued \(.issued), ok \(.ok), failures \(.failures), unfinished \(.unfinished), rps \(.rps), over \(.duration_s) s"' \
    "$tmp/report.json"
verdict=0
if [[ $(jq '.percentiles_ms == null' "$tmp/report.json") == true ]]; then
    echo "FAIL client-side: no responses"
    verdict=1
else
    read -r c50 c99 c999 cmax < <(jq -r --argjson d "$((delay_s * 1000))" \
        '.percentiles_ms | "\(."50" - $d) \(."99" - $d) \(."99.9" - $d) \(."100" - $d)"' "$tmp/report.json")
    failures=$(jq '.summary.failures' "$tmp/report.json")
    printf 'client-side  latency - %d ms:  p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms\n' \
        "$((delay_s * 1000))" "$c50" "$c99" "$c999" "$cmax"
    if awk -v p="$c99" -v l="$limit_ms" 'BEGIN { exit !(p <= l) }' && ((failures == 0)); then
        echo "PASS client-side: p99 $(printf '%.3f' "$c99") ms <= $limit_ms ms, no failures"
    else
        echo "FAIL client-side: p99 $(printf '%.3f' "$c99") ms (limit $limit_ms ms), $failures failures"
        verdict=1
    fi
fi

read -r answered s50 s99 s999 smax peak < <(jq -r \
    '"\(.answered) \(.lateness_us.p50) \(.lateness_us.p99) \(.lateness_us.p999) \(.lateness_us.max) \(.peak_connections)"' \
    "$tmp/stats.json")
warm_peak=$(jq '.peak_connections' "$tmp/stats_warmup.json")
printf 'server-side  write - (parse + delay):  p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms' \
    "$(jq -n "$s50/1000")" "$(jq -n "$s99/1000")" "$(jq -n "$s999/1000")" "$(jq -n "$smax/1000")"
echo " ($answered answers; peak connections $warm_peak in the warm-up, $peak after)"
if ((answered > 0 && s99 <= limit_ms * 1000)); then
    echo "PASS server-side: p99 $(jq -n "$s99/1000") ms <= $limit_ms ms"
else
    echo "FAIL server-side: p99 $(jq -n "$s99/1000") ms (limit $limit_ms ms), $answered answers"
    verdict=1
fi
exit "$verdict"
