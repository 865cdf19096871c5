#!/usr/bin/env bash
# docker/lab-ship and run/swarm.sh's swarm_unship without an engine: how
# loadgen's files come back from a Swarm task on any node, in its log.
# - lab-ship runs the program, keeps its exit status, and writes the files
#   it left (not the dot-files) between marker lines;
# - swarm_unship, given that log as `docker service logs` would give it,
#   unpacks the same bytes; a log with a line lost or changed is refused
#   (after its three reads), never unpacked;
# - SIGTERM to lab-ship reaches the program, and what it wrote on its way
#   out is shipped still.
set -uo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=tests/harness/checks.sh
. tests/harness/checks.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/swarm_ship.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=run/swarm.sh
. run/swarm.sh
# The task's log, as `docker service logs --raw TASK` prints it: a docker
# of this test's own, first on PATH (swarm_task_log runs it under timeout).
mkdir -p "$tmp/bin"
printf '#!/bin/sh\ncat "%s/task.log"\n' "$tmp" >"$tmp/bin/docker"
chmod +x "$tmp/bin/docker"
PATH=$tmp/bin:$PATH

mkdir -p "$tmp/results"
# A report, a binary file, and the progress file that stays behind.
LAB_PROGRAM=sh LAB_ARGS=-c docker/lab-ship "$tmp/results" \
    'printf "{\"ok\":1}\n" >"$0/r_1.json"; head -c 5000 /dev/urandom >"$0/r_1.samples.csv.gz"
     echo "{}" >"$0/.progress.json"; echo "the summary"; exit 3' "$tmp/results" \
    >"$tmp/task.log" 2>&1
status=$?
check "lab-ship exits with the program's status (3)" test "$status" = 3
check "the program's own output comes first, then the markers" \
    bash -c "head -n 1 '$tmp/task.log' | grep -qx 'the summary' &&
             grep -q '^lab-ship: begin 2$' '$tmp/task.log' &&
             tail -n 1 '$tmp/task.log' | grep -Eq '^lab-ship: end [0-9a-f]{64} [0-9]+$'"
swarm_unship task1 "$tmp/got"
check "swarm_unship unpacks the files it left, byte for byte" \
    bash -c "cmp '$tmp/results/r_1.json' '$tmp/got/r_1.json' &&
             cmp '$tmp/results/r_1.samples.csv.gz' '$tmp/got/r_1.samples.csv.gz'"
check "the dot-files stay behind" test ! -e "$tmp/got/.progress.json"

# refused DIR: swarm_unship fails on the log as it is, unpacking nothing.
refused() { ! swarm_unship task1 "$tmp/$1" && [ ! -e "$tmp/$1" ]; }
cp "$tmp/task.log" "$tmp/whole.log"
sed '3d' "$tmp/whole.log" >"$tmp/task.log" # a line of the archive lost
check "a log with a line lost is refused, nothing unpacked" refused lost
sed '3s/^./#/' "$tmp/whole.log" >"$tmp/task.log" # a byte changed
check "a log with a byte changed is refused, nothing unpacked" refused changed
cp "$tmp/whole.log" "$tmp/task.log"
check "the whole log again: unpacked" swarm_unship task1 "$tmp/again"

# SIGTERM on the way: the program writes its report as it stops.
rm -rf "$tmp/results2" && mkdir -p "$tmp/results2"
LAB_PROGRAM=sh LAB_ARGS=-c docker/lab-ship "$tmp/results2" \
    'trap "echo stopped >\"$0/r_2.json\"; exit 143" TERM; touch "$0/.started"; sleep 30 & wait' \
    "$tmp/results2" >"$tmp/task.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -e "$tmp/results2/.started" ] && break; sleep 0.05; done
kill -TERM "$pid"
wait "$pid"
status=$?
check "SIGTERM reaches the program; lab-ship exits with its status (143)" test "$status" = 143
swarm_unship task2 "$tmp/got2"
check "and what it wrote as it stopped is shipped" grep -qx stopped "$tmp/got2/r_2.json"

echo "swarm_ship: $passed passed, $failed failed"
[ "$failed" = 0 ]
