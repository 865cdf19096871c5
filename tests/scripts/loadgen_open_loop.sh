#!/usr/bin/env bash
# loadgen's open loop (--rate) against real processes: slowapi and the
# event-loop server, natively on 127.0.0.1.
#   - A server that stalls for 1 s (SIGSTOP, then SIGCONT) in the middle of
#     a run: the open loop's corrected p99 shows the stall, its uncorrected
#     p99 and the closed loop at about the same rate stay near the delay
#     (coordinated omission: the closed loop stops sending while it waits).
#   - issued + late = planned; the per-second series adds up to the totals;
#     a rate above what -c connections can carry leaves late requests.
#   - steps are reported apart; --check passes (0), fails (3) and refuses a
#     bad expression (2) before any load; --samples round-trips into the
#     same percentiles (labreport samples).
#   tests/scripts/loadgen_open_loop.sh    PASS/FAIL lines; exit 0 when all pass
# The programs are awaited on their readiness pipes; the stall starts when
# loadgen's progress file says 4 s of load have passed.
set -euo pipefail
cd "$(dirname "$0")"
while [ ! -f Makefile ] && [ "$PWD" != / ]; do cd ..; done
. tests/harness/checks.sh
. run/ready.sh

make -s build/bin/loadgen build/bin/slowapi build/bin/event-loop build/bin/labreport
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

delay=0.05
LOG_LEVEL=error lab_start slowapi "$tmp" build/bin/slowapi || exit 1
pids+=("$started_pid")
slow_port=$port
LOG_LEVEL=error lab_start server "$tmp" build/bin/event-loop --fanout 2 \
    --slow-api-url "http://127.0.0.1:$slow_port/?delay=$delay" || exit 1
server_pid=$started_pid
pids+=("$server_pid")
url="http://127.0.0.1:$port/io"

# stall_at S: wait until loadgen's progress file says S s have passed, then
# stop the server for 1 s. The file is polled (it is replaced every second).
stall_at() {
    local file=$1 at=$2 tries=0
    while :; do
        local e
        e=$(jq -r '.elapsed_s // 0' "$file" 2>/dev/null || echo 0)
        awk -v e="$e" -v at="$at" 'BEGIN { exit !(e >= at) }' && break
        tries=$((tries + 1))
        [ "$tries" -lt 400 ] || { echo "no progress in $file" >&2; return 1; }
        sleep 0.05
    done
    kill -STOP "$server_pid"
    sleep 1 # the stall itself: the scenario, not a wait for anything
    kill -CONT "$server_pid"
}

# run_stalled NAME ARGS...: loadgen for 16 s with a 1 s stall at 4 s.
run_stalled() {
    local name=$1
    shift
    build/bin/loadgen -d 16 --delay "$delay" --progress-file "$tmp/$name.progress" \
        --json "$tmp/$name.json" "$@" "$url" >"$tmp/$name.out" 2>&1 &
    local lg=$!
    stall_at "$tmp/$name.progress" 4 || true
    wait "$lg" || { echo "loadgen $name failed:"; show_log "$tmp/$name.out"; return 1; }
}

# The closed loop: one connection, about 19 req/s at 50 ms.
run_stalled closed -c 1
closed_rps=$(jq '.summary.rps' "$tmp/closed.json")
# The open loop at that rate, two connections (room for the normal load).
rate=$(awk -v r="$closed_rps" 'BEGIN { printf "%d", r }')
run_stalled open -c 2 --rate "$rate"
jq -c '{closed_p99: .percentiles_ms["99"]}' "$tmp/closed.json"
jq -c '{p99: .percentiles_ms["99"], p99_uncorrected: .percentiles_uncorrected_ms["99"],
        max: .summary.max_ms, planned: .summary.planned, issued: .summary.issued,
        late: .summary.late}' "$tmp/open.json"
check "stall: open loop's corrected p99 >= 0.8 s and max >= 1 s" \
    jq_true '.percentiles_ms["99"] >= 800 and .summary.max_ms >= 1000' "$tmp/open.json"
check "stall: open loop's uncorrected p99 stays near the delay (< 200 ms)" \
    jq_true '.percentiles_uncorrected_ms["99"] < 200' "$tmp/open.json"
check "stall: the closed loop's p99 under-reports it (< 200 ms)" \
    jq_true '.percentiles_ms["99"] < 200 and .config.load == "closed"' "$tmp/closed.json"
check "stall: the closed loop's p99 is below the open loop's corrected one by 4x" \
    jq_true --slurpfile o "$tmp/open.json" '.percentiles_ms["99"] * 4 < $o[0].percentiles_ms["99"]' \
    "$tmp/closed.json"

# series_adds_up FILE SECONDS: each column of the series sums to the
# summary's total, over at least SECONDS points.
series_adds_up() {
    jq_true '. as $r | .series.points as $p |
        ([$p[].ok] | add) == $r.summary.ok and
        ([$p[].issued] | add) == $r.summary.issued and
        ([$p[].timeouts] | add) == $r.summary.timeouts and
        ([$p[].http_errors] | add) == ([$r.summary.http_errors[]] | add // 0) and
        ([$p[].unfinished] | add) == $r.summary.unfinished and
        ([$p[].late] | add) == ($r.summary.late // 0) and
        ([$p[].errors.connect] | add) == $r.summary.errors.connect and
        ($p | length) >= '"$2" "$1"
}
accounted() {
    jq_true '.summary.issued + .summary.late == .summary.planned and .summary.planned > 0' "$1"
}
check "open: issued + late = planned" accounted "$tmp/open.json"
check "open: the series adds up to the totals" series_adds_up "$tmp/open.json" 16
check "closed: the series adds up to the totals" series_adds_up "$tmp/closed.json" 16

# More than two connections can carry: 200 req/s at 50 ms needs 10.
build/bin/loadgen -c 2 -d 3 --rate 200 --delay "$delay" --json "$tmp/over.json" "$url" \
    >"$tmp/over.out" 2>&1 || fail "over: loadgen failed"
check "over the connections: late requests, issued + late = planned" \
    jq_true '.summary.late > 100 and .summary.issued + .summary.late == .summary.planned' \
    "$tmp/over.json"
check "over the connections: the series adds up" series_adds_up "$tmp/over.json" 3

# Steps, with --check and --samples.
status=0
build/bin/loadgen -c 20 --rate 20,40 --step 2 --delay "$delay" --json "$tmp/steps.json" \
    --samples "$tmp/steps.csv.gz" --check 'p99<1000ms,failures=0,late=0' "$url" \
    >"$tmp/steps.out" 2>&1 || status=$?
check "steps: --check passing exits 0" test "$status" -eq 0
check "steps: two steps at 20 and 40 req/s, each accounted" \
    jq_true '(.steps | length) == 2 and .steps[0].rate == 20 and .steps[1].rate == 40 and
             ([.steps[].planned] | add) == .summary.planned and
             .steps[1].planned >= 79 and .steps[1].planned <= 80 and .config.rate.schedule == "steps"' \
    "$tmp/steps.json"
check "steps: the checks are in the report" \
    jq_true '(.checks | length) == 3 and all(.checks[]; .pass)' "$tmp/steps.json"
# A step's expected rps is min(its rate, the ceiling at -c), not the
# plan's mean: two connections at 50 ms carry 40/s; steps of 10 and 60
# average 35.
build/bin/loadgen -c 2 --rate 10,60 --step 1 --delay "$delay" --json "$tmp/expected.json" "$url" \
    >"$tmp/expected.out" 2>&1 || fail "expected: loadgen failed"
check "steps: each step expects min(its rate, the ceiling at -c): 10 and 40" \
    jq_true '[.steps[].expected_rps] == [10, 40] and .ceiling.rps == 35' "$tmp/expected.json"
build/bin/labreport samples --json "$tmp/steps.csv.gz" >"$tmp/merged.json" 2>"$tmp/merged.err" ||
    fail "labreport samples failed: $(cat "$tmp/merged.err")"
check "samples: the file round-trips into the same percentiles" \
    jq_true --slurpfile r "$tmp/steps.json" \
    '.percentiles_ms == $r[0].percentiles_ms and
     .percentiles_uncorrected_ms == $r[0].percentiles_uncorrected_ms' "$tmp/merged.json"

status=0
build/bin/loadgen -c 5 --rate 20 -d 1 --check 'p99<1ms,failures=0' "$url" >"$tmp/fail.out" 2>&1 ||
    status=$?
check "--check failing exits 3, after the report" \
    bash -c "[ $status -eq 3 ] && grep -q FAIL '$tmp/fail.out'"
for bad in 'p99<' 'p98<10ms' 'rps>>5' 'failures=0ms' 'p99<10ms,,rps>1'; do
    status=0
    start=$(date +%s%N)
    build/bin/loadgen -c 5 --rate 20 -d 30 --check "$bad" "$url" >"$tmp/bad.out" 2>&1 || status=$?
    took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    check "--check '$bad' exits 2 before any load" \
        bash -c "[ $status -eq 2 ] && [ $took_ms -lt 2000 ] && grep -q -- '--check' '$tmp/bad.out'"
done
status=0
build/bin/loadgen -c 5 --rate 20 -d 1 --samples "$tmp/steps.csv.gz" "$url" >"$tmp/exists.out" 2>&1 ||
    status=$?
check "--samples never replaces a file (exit 2 before the load)" test "$status" -eq 2

echo "loadgen open loop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
