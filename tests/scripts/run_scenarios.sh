#!/usr/bin/env bash
# run.sh --slow-clients and --kill-worker-every, natively, with a 0.1-0.2 s
# upstream and the small variants of tests/fixtures/scenario-variants.tsv:
# - 200 slow clients beside the load of an event loop: all held, the load
#   served without a failure, /healthz answered every time, p99 < 100 ms;
# - 10 slow clients against a pool of 5 threads: it starves (nothing
#   served, every /healthz probe unanswered) and the report says why;
# - a worker of prefork-2x3 killed every 2 s under load: the kills are in
#   server.json and on the chart, only the requests the killed worker held
#   fail (at most its 3 threads' per kill, as connection errors), the rest
#   are served; a one-process variant is refused before its load;
# - a matrix with faults and slow clients: its plan records them, each row
#   its failures by kind and the /healthz probe, report.md the table;
# - bad values exit 2; issued = the sum of the buckets in every run.
#
# run_scenarios.sh --docker: instead, one run in Docker (the docker suite's
# tests/docker_e2e.sh runs it after make images): prefork-4x50 with 50
# slow clients and a worker killed every 2 s, the kills found through the
# container's processes, at most 50 failures a kill (one per thread), the
# slow clients held, /healthz answered, no container left. Exits 77
# (skipped, saying why) without a Docker engine, Compose or the images.
set -uo pipefail
cd "$(dirname "$0")/../.."

mode=native
case ${1:-} in
"") ;;
--docker) mode=docker ;;
*) echo "usage: $0 [--docker]" >&2; exit 2 ;;
esac
for tool in jq gnuplot pgrep /usr/bin/python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is missing (make deps)"; exit 77; }
done

# shellcheck source=tests/harness/checks.sh
. tests/harness/checks.sh
jqe() { jq -e "$@" >/dev/null; }
[ "$mode" = native ] || need_docker lab/prefork-4x50 lab/slowapi lab/loadgen lab/labreport
make -s all >/dev/null 2>&1 || { echo "run_scenarios: make failed"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lab-scenarios.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# ---- in Docker (--docker) ---------------------------------------------------
if [ "$mode" = docker ]; then
    ./run.sh prefork-4x50 io -c 20 -d 6 --delay 0.2 --slow-clients 50 --kill-worker-every 2 \
        --no-build --out "$tmp/docker" >"$tmp/docker.log" 2>&1
    status=$?
    check "Docker: prefork-4x50 with slow clients and worker kills exits 0" test "$status" = 0
    [ "$status" = 0 ] || show_log "$tmp/docker.log"
    report=$(find "$tmp/docker" -maxdepth 1 -name '*_prefork-4x50_io.json' | head -n 1)
    report=${report:-/nonexistent}
    resources=${report%.json}.server.json
    jq -c '{kills: .worker_kills}' "$resources" 2>&1 | sed 's/^/    | /'
    jq -c '.summary | {issued, ok, errors, timeouts}' "$report" 2>&1 | sed 's/^/    | /'
    kills=$(jq '.worker_kills | length' "$resources" 2>/dev/null || echo 0)
    check "Docker: two kills or more, found through the container's processes" test "$kills" -ge 2
    check "Docker: at most 50 failures a kill, all connection errors; the rest served" \
        jqe --argjson k "$kills" '.mode == "docker" and .summary.failures <= 50 * $k
            and .summary.failures == ([.summary.errors[]] | add) and .summary.ok > 100' "$report"
    check "Docker: the slow clients held, /healthz answered beside them" \
        jqe '.slow_clients.count == 50 and .slow_clients.held_at_end == 50
             and .slow_clients.healthz_probe.failed == 0' "$report"
    check "Docker: issued = the sum of the buckets" \
        jqe '.summary.issued == .summary.ok + .summary.failures + .summary.unfinished' "$report"
    check_project_gone "$tmp/docker.log"
    check "Docker: every JSON validates against schemas/" \
        /usr/bin/python3 tests/scripts/validate_reports.py "$tmp/docker"
    echo "run_scenarios --docker: $passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
fi

# ---- natively -------------------------------------------------------------------
export LAB_VARIANTS_TABLE=$PWD/tests/fixtures/scenario-variants.tsv
short=(--native --timeout 10 --upstream-timeout 1)

# run NAME VARIANT ARGS...: a run into $tmp/NAME; sets $report, $status.
run() {
    local name=$1 variant=$2
    shift 2
    ./run.sh "$variant" io "${short[@]}" "$@" --out "$tmp/$name" >"$tmp/$name.log" 2>&1
    status=$?
    report=$(find "$tmp/$name" -maxdepth 1 -name "*_${variant}_io.json" 2>/dev/null | head -n 1)
    report=${report:-/nonexistent}
    [ "$status" = 0 ] || show_log "$tmp/$name.log"
}
balanced() {
    jqe '.summary.issued == .summary.ok + .summary.failures + .summary.unfinished' "$report"
}

# ---- bad values -------------------------------------------------------------
for bad in "--slow-clients 0" "--slow-clients x" "--kill-worker-every 0" "--kill-worker-every -2"; do
    # shellcheck disable=SC2086 # the words are meant to split
    ./run.sh event-loop io --native $bad --out "$tmp/bad" >"$tmp/bad.log" 2>&1
    check "$bad exits 2 with a message, nothing written" \
        bash -c "[ $? = 2 ] && grep -q '^run.sh: --' '$tmp/bad.log' && [ ! -e '$tmp/bad' ]"
done

# ---- slow clients beside an event loop ----------------------------------------
run loop event-loop -c 10 -d 3 --delay 0.1 --slow-clients 200
check "event-loop with 200 slow clients: run.sh exits 0" test "$status" = 0
jq -c '.slow_clients' "$report" 2>&1 | sed 's/^/    | /'
check "all 200 connected before the load and held to its end, none closed" \
    jqe '.slow_clients.count == 200 and .slow_clients.connected_at_start == 200
         and .slow_clients.held_at_end == 200 and .slow_clients.closed_by_server == 0' "$report"
check "the load beside them served without a failure" \
    jqe '.summary.ok > 100 and .summary.failures == 0' "$report"
check "/healthz answered every probe, p99 under 100 ms" \
    jqe '.slow_clients.healthz_probe.probes >= 5 and .slow_clients.healthz_probe.failed == 0
         and .slow_clients.healthz_probe.p99_ms < 100' "$report"
check "issued = the sum of the buckets" balanced
check "the Markdown states the scenario and what to expect of an unbounded model" \
    grep -q "^Slow clients: 200 beside the load.*Expected: no fixed number of places" "${report%.json}.md"

# ---- slow clients against a pool of 5 threads -----------------------------------
run pool threadpool-5 -c 2 -d 3 --delay 0.1 --slow-clients 10
check "threadpool-5 with 10 slow clients: run.sh exits 0 (a starved run is data)" test "$status" = 0
jq -c '{summary: .summary | {issued, ok, unfinished}, probe: .slow_clients.healthz_probe}' "$report" \
    2>&1 | sed 's/^/    | /'
check "it starves: nothing served, every /healthz probe unanswered" \
    jqe '.summary.ok == 0 and .slow_clients.healthz_probe.failed >= 1
         and .slow_clients.healthz_probe.ok == 0 and .slow_clients.held_at_end == 10' "$report"
check "issued = the sum of the buckets" balanced
check "the Markdown says it starves and why CLIENT_TIMEOUT does not help" \
    grep -q "so the model starves.*CLIENT_TIMEOUT (60 s) limits each read" "${report%.json}.md"

# ---- a worker killed under load -------------------------------------------------
run kill prefork-2x3 -c 6 -d 6 --delay 0.2 --kill-worker-every 2
check "prefork-2x3 --kill-worker-every 2: run.sh exits 0" test "$status" = 0
resources=${report%.json}.server.json
jq -c '{kills: .worker_kills}' "$resources" 2>&1 | sed 's/^/    | /'
jq -c '.summary | {issued, ok, errors, timeouts}' "$report" 2>&1 | sed 's/^/    | /'
check "server.json lists the kills, 2 s apart, each a different pid" \
    jqe '.kill_worker_every_s == 2 and (.worker_kills | length) >= 2
         and (.worker_kills | map(.pid) | unique | length) == (.worker_kills | length)
         and (.worker_kills[1].at_s - .worker_kills[0].at_s) > 1.5' "$resources"
kills=$(jq '.worker_kills | length' "$resources" 2>/dev/null || echo 0)
check "only the requests the killed worker held failed: 1 to 3 per kill, as connection errors" \
    jqe --argjson k "$kills" '.summary.failures >= 1 and .summary.failures <= 3 * $k
        and .summary.failures == ([.summary.errors[]] | add) and .summary.ok > 50' "$report"
check "issued = the sum of the buckets" balanced
check "the Markdown lists the kills and what to expect" \
    grep -q "^Worker kills: kill -9 of one worker every 2 s: $kills kills at .*at most one for each of its 3 threads" \
    "${report%.json}.md"
check "the chart marks them" grep -q "kill -9" "${report%.json}.latency.svg"

./run.sh event-loop io "${short[@]}" -c 2 -d 2 --delay 0.1 --kill-worker-every 1 \
    --out "$tmp/one" >"$tmp/one.log" 2>&1
check "a one-process variant is refused before its load (exit 1, saying why)" \
    bash -c "[ $? = 1 ] && grep -q 'runs as one process, with no master' '$tmp/one.log' &&
             [ -z \"\$(find '$tmp/one' -name '*.json' 2>/dev/null)\" ]"

# ---- a matrix of scenarios ---------------------------------------------------------
./run.sh all io --native --timeout 10 --upstream-timeout 0.5 -c 4 -d 2 --delay 0.1 \
    --faults 'error=10%,hang=5%' --slow-clients 8 --out "$tmp/matrix" >"$tmp/matrix.log" 2>&1
status=$?
check "a matrix with faults and slow clients exits 0" test "$status" = 0
[ "$status" = 0 ] || show_log "$tmp/matrix.log"
matrix=$(find "$tmp/matrix" -mindepth 1 -maxdepth 1 -type d -name '*_matrix_io' | head -n 1)
matrix=${matrix:-/nonexistent}
check "its plan records the scenario" \
    jqe '.settings.faults == "error=10%,hang=5%" and .settings.slow_clients == 8' "$matrix/plan.json"
check "each row has its failures by kind, summing to what it issued less its ok" \
    jqe '[.rows[] | .failures_by_kind as $k
          | ($k.issued - ([$k.http[]] | add // 0) - $k.timeouts - $k.connect - $k.read - $k.write
             - $k.parse - $k.unfinished) as $ok
          | $ok >= 0 and $k.healthz_probes >= 1] | length == 3 and all' "$matrix/report.json"
check "event-loop's 502s and 504s are there, its /healthz answered beside the slow clients" \
    jqe '.rows[] | select(.variant == "event-loop") | .failures_by_kind
         | .http["502"] > 0 and .http["504"] > 0 and .healthz_failed == 0' "$matrix/report.json"
check "report.md has the table" grep -q '^## Failures by kind' "$matrix/report.md"
check "every report, plan and matrix report validates against schemas/" \
    /usr/bin/python3 tests/scripts/validate_reports.py "$tmp/matrix" "$tmp/loop" "$tmp/kill"

echo "run_scenarios: $passed passed, $failed failed"
[ "$failed" = 0 ]
