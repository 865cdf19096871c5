#!/usr/bin/env bash
# Docker end-to-end test: `make images`, one short `./run.sh` run in Docker
# (on the bridge network), one with --network host, a two-variant matrix,
# one run of the plain Compose one-liner, and after each: valid reports (the
# schemas of schemas/ too), the network they record, and no container or
# network of the run left behind.
#
# Prints PASS/FAIL lines and "N passed, N failed"; exits 0 when all passed,
# 1 otherwise, 77 (skipped) when no Docker engine is reachable.
set -euo pipefail

cd "$(dirname "$0")/.."

if ! docker info >/dev/null 2>&1; then
    echo "SKIP docker e2e: no Docker engine reachable"
    exit 77
fi
if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
    compose=(docker-compose)
else
    echo "SKIP docker e2e: Docker Compose missing (neither 'docker compose' nor docker-compose)"
    exit 77
fi

# shellcheck source=tests/harness/checks.sh
. tests/harness/checks.sh
finish() {
    echo "docker e2e: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lab-e2e.XXXXXX")
chmod 755 "$tmp" # the one-liner's loadgen runs as uid 10001
oneliner_project=lab-e2e-$$
cleanup() {
    COMPOSE_PROJECT_NAME=$oneliner_project VARIANT=event-loop "${compose[@]}" \
        down --volumes --remove-orphans --timeout 5 >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT


# one_report DIR: the path of the only JSON report in DIR (run.sh's
# <report>.server.json beside it is not a report).
one_report() {
    local reports=() f
    for f in "$1"/*.json; do
        [[ $f == *.server.json ]] || reports+=("$f")
    done
    [ ${#reports[@]} -eq 1 ] && [ -f "${reports[0]}" ] || return 1
    echo "${reports[0]}"
}

# report_valid FILE MODE: the report's schema, identity and bucket sum.
report_valid() {
    jq -e --arg mode "$2" '
        def total: if type == "object" then [.[]] | add // 0 else . end;
        .schema_version == 3 and .variant == "event-loop" and .mode == $mode
        and .summary.ok > 0 and .verify.verdict == "ok"
        and .summary.issued == (.summary.ok + (.summary.http_errors | total)
                                + .summary.timeouts + (.summary.errors | total)
                                + .summary.unfinished)
    ' "$1" >/dev/null
}

# server_usage_valid FILE: run.sh's figures of the server's, loadgen's and
# slowapi's resources.
server_usage_valid() {
    jq -e '.variant == "event-loop" and .cpu_seconds > 0 and .peak_memory_mib > 0
           and .wall_seconds > 0 and .loadgen.cpu_seconds > 0 and .slowapi.cpu_seconds > 0' \
        "$1" >/dev/null
}

# schemas_valid PATH...: every JSON under PATH validates against schemas/.
schemas_valid() {
    /usr/bin/python3 tests/scripts/validate_reports.py "$@" >"$tmp/validate.log" 2>&1 ||
        { show_log "$tmp/validate.log"; return 1; }
}

# nothing_left PROJECT: no container and no network of the project remain.
nothing_left() {
    local label=com.docker.compose.project=$1
    [ -z "$(docker ps -aq --filter "label=$label")" ] &&
        [ -z "$(docker network ls -q --filter "label=$label")" ]
}

# ---- images -------------------------------------------------------------

# Say so first: from nothing (base image, builder) this takes minutes.
echo "docker e2e: make images (cached: seconds; from nothing: about 4 minutes)"
if make -s images >"$tmp/images.log" 2>&1; then
    pass "make images"
else
    fail "make images"
    show_log "$tmp/images.log"
    finish
    exit 1
fi

# ---- ./run.sh in Docker -------------------------------------------------

out=$tmp/run
if ./run.sh event-loop io -c 10 -d 3 --delay 0.1 --out "$out" >"$tmp/run.log" 2>&1; then
    pass "run.sh event-loop io exits 0"
else
    fail "run.sh event-loop io exits 0"
    show_log "$tmp/run.log"
fi
if report=$(one_report "$out"); then
    pass "run.sh wrote one JSON report"
    if report_valid "$report" docker; then
        pass "run.sh report: schema 3, event-loop, docker, ok > 0, buckets add up"
    else
        fail "run.sh report: schema 3, event-loop, docker, ok > 0, buckets add up"
        jq -c '{schema_version, variant, mode, summary}' "$report" | sed 's/^/    | /'
    fi
    check "run.sh printed the report's path" grep -qF "report: $report" "$tmp/run.log"
    # The server's resources, from the container's cgroup while it ran.
    check "run.sh wrote the server's, loadgen's and slowapi's CPU seconds" \
        server_usage_valid "${report%.json}.server.json"
    check "the Markdown, rendered with the resources, and the containers' logs beside it" \
        grep -q '^## Resources' "${report%.json}.md"
    check "the containers' logs beside the report" grep -q 'loadgen' "${report%.json}.log"
    check "the summary was printed, the containers' logs were not" \
        bash -c "grep -q '^Rate: ' '$tmp/run.log' && ! grep -q '^loadgen_1 *|' '$tmp/run.log'"
    check "the run recorded its network: bridge, somaxconn 4096 (the containers' sysctl)" \
        jq_true '.network == "bridge" and .somaxconn == 4096' "${report%.json}.server.json"
else
    fail "run.sh wrote one JSON report"
    find "$out" -maxdepth 1 -ls 2>&1 | sed 's/^/    | /'
fi
project=$(grep -o 'project lab-run-[0-9]*' "$tmp/run.log" | head -n 1 | cut -d' ' -f2 || true)
if [ -n "$project" ]; then
    check "run.sh left no container or network ($project)" nothing_left "$project"
else
    fail "run.sh named its Compose project"
fi

# ---- --network host: the containers on the host's network namespace -----
# With slowapi on 3 ports (LAB_EPHEMERAL_PORTS stands in for the range: 10
# clients x 10 calls, 45 connections a port): a run of 3 free ports on the
# host, and the Compose file's SLOWAPI_PORTS reaching slowapi and the server.

if LAB_EPHEMERAL_PORTS=90 ./run.sh event-loop io -c 10 -d 3 --delay 0.1 --no-build --network host \
        --out "$tmp/host" >"$tmp/host.log" 2>&1; then
    pass "run.sh event-loop io --network host exits 0"
else
    fail "run.sh event-loop io --network host exits 0"
    show_log "$tmp/host.log"
fi
if report=$(one_report "$tmp/host"); then
    check "host network report: schema 3, event-loop, docker, ok > 0, buckets add up" \
        report_valid "$report" docker
    check "host network: the report records host, and the host's somaxconn" \
        jq_true --argjson s "$(cat /proc/sys/net/core/somaxconn)" '.network == "host" and .somaxconn == $s' \
        "${report%.json}.server.json"
    check "host network: the Markdown says so" grep -q 'Network: host' "${report%.json}.md"
    check "host network: loadgen reached the server on the picked port, not 3000" \
        jq_true '(.url | test("^http://sut:[0-9]+/io$")) and (.url != "http://sut:3000/io")' "$report"
    check "host network: the server and slowapi listened on 127.0.0.1 only" \
        bash -c "grep -q 'listening on 127.0.0.1:' '${report%.json}.log' && ! grep -q 'listening on 0.0.0.0' '${report%.json}.log'"
    check "host network: slowapi on 3 ports, the server calling all 3, 10 calls a request" \
        bash -c "grep -q '3 workers listening on ports' '${report%.json}.log' &&
                 jq -e '.server.slow_api_ports == 3 and .verify.verdict == \"ok\"' '$report' >/dev/null"
    check "host network: every JSON validates against schemas/" schemas_valid "$tmp/host"
else
    fail "run.sh --network host wrote one JSON report"
fi
project=$(grep -o 'project lab-run-[0-9]*' "$tmp/host.log" | head -n 1 | cut -d' ' -f2 || true)
if [ -n "$project" ]; then
    check "run.sh --network host left no container or network ($project)" nothing_left "$project"
else
    fail "run.sh --network host named its Compose project"
fi

# ---- a two-variant matrix in Docker -------------------------------------

if ./run.sh all io --only event-loop,threadpool-50 -c 10 -d 2 --delay 0.1 --no-build \
        --out "$tmp/matrix" >"$tmp/matrix.log" 2>&1; then
    pass "run.sh all io --only event-loop,threadpool-50 exits 0"
else
    fail "run.sh all io --only event-loop,threadpool-50 exits 0"
    show_log "$tmp/matrix.log"
fi
matrix=$(find "$tmp/matrix" -maxdepth 1 -type d -name '*_matrix_io' | head -n 1)
check "the matrix wrote report.md, report.json and its charts (lab/labreport)" \
    test -s "$matrix/report.md" -a -s "$matrix/report.json" -a -s "$matrix/rps.svg" \
         -a -s "$matrix/latency.svg" -a -s "$matrix/cpu.svg"
check "the matrix's rows: event-loop and threadpool-50, 10 upstream calls per answer" \
    jq_true '[.rows[] | select(.runs == 1 and .calls_per_answer.median == 10)] | length == 2' \
        "$matrix/report.json"
check "every JSON run.sh wrote validates against schemas/" schemas_valid "$out" "$tmp/matrix"
check "the matrix's plan and report record the network (bridge), as each run does" \
    bash -c "jq -e '.network == \"bridge\"' '$matrix/plan.json' '$matrix/report.json' >/dev/null &&
             jq -s -e 'length == 2 and all(.network == \"bridge\")' '$matrix'/*.server.json >/dev/null"
for project in $(grep -o 'project lab-run-[0-9]*' "$tmp/matrix.log" | cut -d' ' -f2); do
    check "the matrix's run left no container or network ($project)" nothing_left "$project"
done

# ---- the open loop in Docker: --rate, --check and --samples reach loadgen -

if ./run.sh event-loop io -c 10 -d 2 --delay 0.1 --no-build --rate 50 \
        --check 'failures=0,p99<1000ms' --samples --out "$tmp/open" >"$tmp/open.log" 2>&1; then
    pass "run.sh event-loop io --rate 50 --check ... --samples exits 0"
else
    fail "run.sh event-loop io --rate 50 --check ... --samples exits 0"
    show_log "$tmp/open.log"
fi
open_report=$(find "$tmp/open" -maxdepth 1 -name '*_event-loop_io.json' | head -n 1)
check "open loop in Docker: 100 planned, issued + late = planned, the checks passed" \
    jq_true '.config.load == "open" and .summary.planned == 100 and
             .summary.issued + .summary.late == 100 and (.checks | all(.pass))' \
        "${open_report:-/nonexistent}"
open_samples=$(jq -r '.samples.path // "none"' "${open_report:-/nonexistent}" 2>/dev/null)
check "open loop in Docker: the samples beside the report, one row per planned request" \
    bash -c "[ \$(gzip -dc '$tmp/open/$open_samples' | grep -vc '^[#p]') = 100 ]"
check "open loop in Docker: the latency chart beside the report (lab/labreport)" \
    test -s "${open_report%.json}.latency.svg"
check "open loop in Docker: every JSON validates against schemas/" schemas_valid "$tmp/open"

# ---- slowapi's injected faults in Docker: run.sh --faults ---------------
# tests/scripts/run_faults.sh --docker has the checks (502s and 504s in
# their buckets and nothing else failed, issued = the sum, the faults and
# seed in server.json and the Markdown, no container left); one here.

if bash tests/scripts/run_faults.sh --docker >"$tmp/faults.log" 2>&1; then
    pass "run.sh event-loop io --faults in Docker: the faults in their buckets and recorded"
else
    fail "run.sh event-loop io --faults in Docker: the faults in their buckets and recorded"
    show_log "$tmp/faults.log"
fi

# ---- slow clients and worker kills in Docker -----------------------------
# tests/scripts/run_scenarios.sh --docker has the checks (the kills found
# through the container's processes, at most one failure per thread a
# kill, the slow clients held beside the load, no container left).

if bash tests/scripts/run_scenarios.sh --docker >"$tmp/scenarios.log" 2>&1; then
    pass "run.sh prefork-4x50 io --slow-clients --kill-worker-every in Docker"
else
    fail "run.sh prefork-4x50 io --slow-clients --kill-worker-every in Docker"
    show_log "$tmp/scenarios.log"
fi

# ---- the plain Compose one-liner ----------------------------------------

oneliner_out=$tmp/oneliner
mkdir "$oneliner_out"
chmod 1777 "$oneliner_out"
if COMPOSE_PROJECT_NAME=$oneliner_project VARIANT=event-loop \
    RESULTS_DIR=$oneliner_out DURATION=3 DELAY=0.1 CONCURRENCY=10 \
    "${compose[@]}" up --abort-on-container-exit --exit-code-from loadgen \
    >"$tmp/oneliner.log" 2>&1; then
    pass "compose one-liner exits 0"
else
    fail "compose one-liner exits 0"
    show_log "$tmp/oneliner.log"
fi
if report=$(one_report "$oneliner_out"); then
    check "one-liner report: schema 3, event-loop, docker, ok > 0, buckets add up" \
        report_valid "$report" docker
    check "one-liner report is owned by loadgen's default uid 10001" \
        test "$(stat -c %u "$report")" = 10001
else
    fail "one-liner wrote one JSON report"
fi
COMPOSE_PROJECT_NAME=$oneliner_project VARIANT=event-loop "${compose[@]}" down \
    --volumes --remove-orphans --timeout 5 >"$tmp/down.log" 2>&1 || show_log "$tmp/down.log"
check "one-liner 'down' left no container or network" nothing_left "$oneliner_project"

finish
