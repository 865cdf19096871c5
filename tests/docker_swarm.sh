#!/usr/bin/env bash
# The docker suite's Swarm test (after docker_e2e.sh has built the images):
# run.sh --swarm on a one-node Docker Swarm: the test makes the swarm
# (docker swarm init --advertise-addr 127.0.0.1) when the engine has none,
# and leaves it again at the end; an existing swarm is used as it is.
# - a run of event-loop as a stack (a 0.2 s delay, 4 s) exits 0 with a
#   report that validates, its network the overlay, the node of each
#   service recorded in server.json and named in the Markdown, slowapi's
#   CPU model too; its report came back in loadgen's log (no folder is
#   shared with the task), and on a terminal its progress did as well;
# - the stack, its services, containers and network are gone afterwards,
#   also after a run stopped halfway (SIGTERM);
# - --images registry: the images pushed to the lab's own registry service
#   and pulled from it; the service and the tags gone afterwards;
# - two loadgens (--load-nodes 2) merge exactly: the merged count is the
#   sum of theirs, its percentiles those of all their samples together;
# - a matrix of two variants with --swarm: a stack per point, a row each,
#   every point's server.json naming its stack;
# - --swarm with --native or --network, --load-nodes without --swarm or
#   with a concurrency it does not divide, are bad usage (2);
# - a swarm made here is left again, the engine as it was found.
# Exits 77 (skipped, saying why) without an engine, Compose or the images.
set -uo pipefail
cd "$(dirname "$0")/.."

for tool in jq /usr/bin/python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is missing (make deps)"; exit 77; }
done
# shellcheck source=tests/harness/checks.sh
. tests/harness/checks.sh
jqe() { jq -e "$@" >/dev/null; }
need_docker lab/event-loop lab/slowapi lab/loadgen lab/labreport
/usr/bin/python3 -c 'import yaml' 2>/dev/null || { echo "SKIP: python3-yaml is missing (make deps)"; exit 77; }
make -s all >/dev/null 2>&1 || { echo "docker_swarm: make failed"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lab-swarm.XXXXXX")
made_swarm=0
# swarm init makes the network docker_gwbridge, which leaving keeps.
gwbridge_before=$(docker network ls -q --filter name='^docker_gwbridge$' 2>/dev/null)
# leave_swarm: the swarm made here left, and docker_gwbridge if it made it.
leave_swarm() {
    docker swarm leave --force >/dev/null 2>&1 || return 1
    [ -n "$gwbridge_before" ] || docker network rm docker_gwbridge >/dev/null 2>&1 || true
}
finish() {
    if [ "$made_swarm" = 1 ]; then
        leave_swarm || echo "docker_swarm: could not leave the swarm it made" >&2
    fi
    rm -rf "$tmp"
}
trap finish EXIT

state=$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)
case $state in
    active) echo "using the engine's swarm as it is" ;;
    inactive)
        docker swarm init --advertise-addr 127.0.0.1 >"$tmp/init.log" 2>&1 ||
            { show_log "$tmp/init.log"; echo "docker_swarm: docker swarm init failed"; exit 1; }
        made_swarm=1 ;;
    *) echo "SKIP: the engine's swarm is '$state' (neither inactive nor active)"; exit 77 ;;
esac

# stack_gone LOG: run.sh's stack (named in its LOG) left nothing behind.
stack_gone() {
    local stack
    stack=$(grep -o 'stack lab-swarm-[0-9]*' "$1" | head -n 1 | cut -d' ' -f2)
    [ -n "$stack" ] &&
        ! docker stack ls --format '{{.Name}}' | grep -qx "$stack" &&
        [ -z "$(docker service ls -q --filter "label=com.docker.stack.namespace=$stack")" ] &&
        [ -z "$(docker ps -aq --filter "label=com.docker.stack.namespace=$stack")" ] &&
        [ -z "$(docker network ls -q --filter "label=com.docker.stack.namespace=$stack")" ]
}

for bad in "--swarm --native" "--swarm --network host" "--load-nodes 2" \
    "--swarm --load-nodes 2 -c 21"; do
    # shellcheck disable=SC2086 # the words are meant to split
    ./run.sh event-loop io $bad --out "$tmp/bad" >"$tmp/bad.log" 2>&1
    check "$bad exits 2 with a message, nothing written" \
        bash -c "[ $? = 2 ] && grep -q '^run.sh: -' '$tmp/bad.log' && [ ! -e '$tmp/bad' ]"
done

started=$(date +%s)
# On a terminal (script(1) gives it one), for the progress line.
if command -v script >/dev/null 2>&1; then
    script -qec "./run.sh event-loop io --swarm -c 20 -d 4 --delay 0.2 --no-build --out '$tmp/run'" \
        "$tmp/run.log" >/dev/null 2>&1 </dev/null
else
    ./run.sh event-loop io --swarm -c 20 -d 4 --delay 0.2 --no-build --out "$tmp/run" >"$tmp/run.log" 2>&1
fi
status=$?
check "run.sh event-loop io --swarm exits 0 (in $(($(date +%s) - started)) s)" test "$status" = 0
[ "$status" = 0 ] || show_log "$tmp/run.log"
report=$(find "$tmp/run" -maxdepth 1 -name '*_event-loop_io.json' | head -n 1)
report=${report:-/nonexistent}
resources=${report%.json}.server.json
node=$(docker info --format '{{.Name}}')
jq -c '{network, swarm}' "$resources" 2>&1 | sed 's/^/    | /'
check "the load ran: ok answers, no failure, issued = the sum of the buckets" \
    jqe '.summary.ok > 100 and .summary.failures == 0
         and .summary.issued == .summary.ok + .summary.failures + .summary.unfinished' "$report"
check "server.json: the overlay network, the node of each service" \
    jqe --arg n "$node" '.network == "overlay" and .swarm.stack != null
        and ([.swarm.services[] | .node] | all(. == $n))' "$resources"
check "the Markdown names the stack and the nodes" \
    grep -q "Swarm stack lab-swarm-[0-9]* (.*): slowapi on $node" "${report%.json}.md"
check "slowapi's CPU model (its /healthz, through loadgen) is this node's" \
    jqe '.environment.upstream_cpu_model == .environment.cpu_model
         and (.environment.cpu_model | length > 0)' "$report"
check "the report came back in loadgen's log: its task had a tmpfs, no folder of this host" \
    jqe '.swarm.replaced | test("tmpfs, its files back in the task.s log")' "$resources"
if command -v script >/dev/null 2>&1; then
    check "on a terminal, loadgen's progress came back in its log too (done and rps)" \
        grep -aq 'event-loop c=20  load .* done [1-9][0-9]*  rps [1-9]' "$tmp/run.log"
fi
check "every JSON validates against schemas/ (report and server.json)" \
    bash -c "[ \$(find '$tmp/run' -name '*.json' | wc -l) -ge 2 ] &&
             /usr/bin/python3 tests/scripts/validate_reports.py '$tmp/run'"
check "the stack, its services, containers and network are gone" stack_gone "$tmp/run.log"

# The images through the lab's own registry: pushed, pulled by the tasks,
# and the registry service and the pushed tags gone afterwards.
./run.sh event-loop io --swarm --images registry -c 10 -d 2 --delay 0.2 --no-build \
    --out "$tmp/reg" >"$tmp/reg.log" 2>&1
status=$?
check "run.sh event-loop io --swarm --images registry exits 0" test "$status" = 0
[ "$status" = 0 ] || show_log "$tmp/reg.log"
reg_report=$(find "$tmp/reg" -maxdepth 1 -name '*_event-loop_io.json' | head -n 1)
reg_report=${reg_report:-/nonexistent}
check "server.json: the images came from the registry; the load was served" \
    bash -c "jq -e '.swarm.images | startswith(\"registry 127.0.0.1:\")' '${reg_report%.json}.server.json' >/dev/null &&
             jq -e '.summary.ok > 0 and .summary.failures == 0' '$reg_report' >/dev/null"
check "the registry service and the pushed tags are gone" \
    bash -c "[ -z \"\$(docker service ls -q --filter name=lab-registry-)\" ] &&
             [ -z \"\$(docker images --format '{{.Repository}}' | grep '^127.0.0.1:')\" ]"
check "and the stack" stack_gone "$tmp/reg.log"

# Two loadgens on the one node: each 10 clients; the merged report counts
# what both issued and its percentiles are those of all their samples.
./run.sh event-loop io --swarm --load-nodes 2 -c 20 -d 4 --delay 0.2 --no-build \
    --out "$tmp/two" >"$tmp/two.log" 2>&1
status=$?
check "run.sh event-loop io --swarm --load-nodes 2 exits 0" test "$status" = 0
[ "$status" = 0 ] || show_log "$tmp/two.log"
merged=$(find "$tmp/two" -maxdepth 1 -name '*_event-loop_io.json' | head -n 1)
merged=${merged:-/nonexistent}
jq -c '{c: .config.concurrency, issued: .summary.issued, p50: .percentiles_ms["50"],
        instances: [.instances[]? | {instance, concurrency, issued, p50_ms}]}' "$merged" 2>&1 |
    sed 's/^/    | /'
check "two loadgens of 10 clients, merged: the count is their sum" \
    jqe '(.instances | length) == 2 and ([.instances[].concurrency] == [10, 10])
         and .config.concurrency == 20 and .summary.issued == ([.instances[].issued] | add)
         and .summary.ok > 100' "$merged"
build/bin/labreport samples --json "$tmp"/two/*_event-loop_io_[12].samples.csv.gz \
    >"$tmp/all.json" 2>"$tmp/all.log"
check "the merged percentiles are those of all their samples together" \
    bash -c "jq -e '.percentiles_ms[\"50\"] > 0' '$tmp/all.json' >/dev/null &&
             [ \"\$(jq -c .percentiles_ms '$merged')\" = \"\$(jq -c .percentiles_ms '$tmp/all.json')\" ] &&
             [ \"\$(jq .summary.issued '$merged')\" = \"\$(jq .summary.issued '$tmp/all.json')\" ]"
check "server.json lists both loadgens' nodes" \
    jqe '.swarm.load_nodes == 2 and (.swarm.loadgens | length) == 2' "${merged%.json}.server.json"
check "the Markdown has each loadgen's line" grep -q '^## Loadgens' "${merged%.json}.md"
check "every JSON validates against schemas/ (merged, loadgens', server.json)" \
    bash -c "[ \$(find '$tmp/two' -name '*.json' | wc -l) -ge 4 ] &&
             /usr/bin/python3 tests/scripts/validate_reports.py '$tmp/two'"
check "the stack of two loadgens is gone" stack_gone "$tmp/two.log"

# The matrix with --swarm: each point is a run.sh --swarm of its own.
./run.sh all io --only single-thread,event-loop --swarm -c 10 -d 2 --delay 0.2 --no-build \
    --out "$tmp/matrix" >"$tmp/matrix.log" 2>&1
status=$?
check "run.sh all io --only single-thread,event-loop --swarm exits 0" test "$status" = 0
[ "$status" = 0 ] || show_log "$tmp/matrix.log"
matrix=$(find "$tmp/matrix" -maxdepth 1 -type d -name '*_matrix_io' | head -n 1)
matrix=${matrix:-/nonexistent}
check "the matrix: a row per variant, each at its ceiling (5 rps for one thread, 50 for the loop)" \
    jqe '[.rows[].variant] == ["single-thread", "event-loop"]
         and .rows[0].rps.median > 4 and .rows[0].rps.median <= 5.5
         and .rows[1].rps.median > 40' "$matrix/report.json"
check "each point ran as a stack of its own, and none is left" \
    bash -c "[ \$(jq -r '.swarm.stack' '$matrix'/*.server.json | sort -u | grep -c lab-swarm-) = 2 ] &&
             s=\$(docker stack ls --format {{.Name}}) && [ -z \"\$s\" ] && [ -z \"\$(docker service ls -q)\" ]"

# Stopped halfway once the load runs; the clean-up removes the stack. (A
# script's background job starts with SIGINT ignored, which bash cannot
# trap: SIGTERM takes the same way out, run.sh's clean-up, as Ctrl-C does.)
./run.sh event-loop io --swarm -c 10 -d 60 --delay 0.2 --no-build --out "$tmp/int" \
    >"$tmp/int.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
    grep -q "running 60 s" "$tmp/int.log" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
kill -TERM "$pid" 2>/dev/null
wait "$pid"
status=$?
check "a run stopped by SIGTERM exits 143 (exit $status)" test "$status" = 143
[ "$status" = 143 ] || show_log "$tmp/int.log"
check "and leaves no stack, service, container or network" stack_gone "$tmp/int.log"

if [ "$made_swarm" = 1 ]; then
    leave_swarm
    made_swarm=0
    check "the swarm made here is left again, and the network docker_gwbridge it made" \
        bash -c "[ \"\$(docker info --format '{{.Swarm.LocalNodeState}}')\" = inactive ] &&
                 { [ -n '$gwbridge_before' ] ||
                   [ -z \"\$(docker network ls -q --filter name='^docker_gwbridge\$')\" ]; }"
fi
echo "docker_swarm: $passed passed, $failed failed"
[ "$failed" = 0 ]
