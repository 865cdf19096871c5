#!/usr/bin/env bash
# run.sh's check of the machine's limits before a run (run/limits.sh): runs
# that cannot fit are refused with exit 1 and a message naming the figures
# and the remedy, before anything starts (no process of the run left, no
# report folder written, in Docker no container): descriptors per server
# process (NOFILE, which run.sh applies natively with ulimit -n), ephemeral
# ports to slowapi (a run past one port's range gets more slowapi ports,
# past 16 it is refused), loadgen's descriptors, memory
# (LAB_MEM_AVAILABLE_MIB stands in for MemAvailable), a matrix none of whose
# points fits, and in Docker a NOFILE above the engine's own limit. A run
# that fits passes the check and runs (a short native one) and records its
# network; --no-limit-check skips the check. Natively with the real variants
# (event-loop-4 is named in a remedy).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

for tool in gnuplot jq setsid; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is missing (make deps)"; exit 77; }
done
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt 20000 ]; then
    echo "SKIP: the open-file hard limit is $hard; the cases set NOFILE up to 20000"
    exit 77
fi
# run.sh runs the programs of the Makefile's BUILD folder (build/ by default).
make -s all >/dev/null 2>&1 || { echo "run_limits: make failed"; exit 1; }

# shellcheck source=tests/harness/checks.sh
. tests/harness/checks.sh

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lab-limits.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
read -r port_low port_high </proc/sys/net/ipv4/ip_local_port_range
# group N: 40000 -> 40,000, as run.sh writes it.
group() { echo "$1" | rev | sed 's/[0-9]\{3\}/&,/g; s/,$//' | rev; }
ports=$((port_high - port_low + 1))

# lab NAME ARGS...: ./run.sh ARGS in a session of its own (so that whatever
# it started can be found afterwards), output in $tmp/NAME.log, exit status
# in $status, its PID (its session, and its Compose project's number) in $sid.
lab() {
    local name=$1
    shift
    status=0
    setsid --wait bash -c 'echo $$ >"$0.pid"; exec ./run.sh "$@"' "$tmp/$name" "$@" \
        >"$tmp/$name.log" 2>&1 || status=$?
    sid=$(cat "$tmp/$name.pid")
}

# nothing_left: no process of the last run.sh's session is alive (a
# sampler's last `sleep 0.5` may outlive it by that long: 3 s at most).
nothing_left() {
    local _
    for _ in $(seq 1 30); do
        pgrep -s "$sid" >/dev/null || return 0
        sleep 0.1
    done
    return 1
}

# refused NAME PATTERN... -- ARGS...: ./run.sh ARGS exits 1 having said every
# PATTERN (fixed strings), started nothing and wrote no report folder.
refused() {
    local name=$1 patterns=() pattern ok=1
    shift
    while [ "$1" != -- ]; do patterns+=("$1"); shift; done
    shift
    lab "$name" "$@" --out "$tmp/$name.out"
    [ "$status" = 1 ] || { echo "    | exit status $status, not 1"; ok=0; }
    for pattern in "${patterns[@]}"; do
        grep -qF -- "$pattern" "$tmp/$name.log" || { echo "    | no '$pattern'"; ok=0; }
    done
    [ ! -e "$tmp/$name.out" ] || { echo "    | the report folder was made"; ok=0; }
    nothing_left || { echo "    | processes left: $(pgrep -s "$sid" | paste -sd' ')"; ok=0; }
    grep -q 'starting slowapi' "$tmp/$name.log" && { echo "    | it started the programs"; ok=0; }
    if [ "$ok" = 1 ]; then
        pass "refused, exit 1, nothing started or written: ./run.sh $*"
    else
        fail "refused, exit 1, nothing started or written: ./run.sh $*"
        show_log "$tmp/$name.log"
    fi
}

# ---- descriptors per server process -------------------------------------
# The issue's case: 10,000 clients x (1 + 10 upstream connections) in one
# process, over a limit of 20,000.
NOFILE=20000 refused fds10k \
    'event-loop at c=10000 over HTTP/1.1 needs ~110,064 descriptors in one process' \
    'the hard limit is 20,000 (ulimit -Hn)' '--upstream-http 2' \
    'event-loop-4 needs ~27,564 each' 'nothing was started' \
    -- event-loop io --native -c 10000 -d 3
NOFILE=5000 refused fds \
    'event-loop at c=1000 over HTTP/1.1 needs ~11,064 descriptors in one process' \
    'the hard limit is 5,000' 'use --upstream-http 2 (~1,164)' 'event-loop-4 needs ~2,814 each' \
    -- event-loop io --native -c 1000 -d 3
NOFILE=5000 refused fds4 'event-loop-4 at c=2000 over HTTP/1.1 needs ~5,564 descriptors in each of its 4 processes' \
    -- event-loop-4 io --native -c 2000 -d 3

# ---- ephemeral ports to slowapi: more ports, or refused ------------------
# LAB_EPHEMERAL_PORTS stands in for the range: 100 clients x 10 calls = 1,000
# connections over HTTP/1.1, half of 900 a port: slowapi gets 3 ports (and
# 3 workers), the server spreads its calls over them, and the run is whole.
LAB_EPHEMERAL_PORTS=900 lab ports event-loop io --native -c 100 -d 2 --delay 0.1 --timeout 5 \
    --out "$tmp/ports"
check "a run past one port's ephemeral range runs: exit 0" test "$status" = 0
[ "$status" = 0 ] || show_log "$tmp/ports.log"
report=$(find "$tmp/ports" -maxdepth 1 -name "*_event-loop_io.json" 2>/dev/null | head -n 1)
check "slowapi listened on 3 ports, the server called all 3" \
    bash -c "grep -q '3 workers listening on ports' '${report%.json}.log' &&
             jq -e '.server.slow_api_ports == 3' '${report:-/nonexistent}' >/dev/null"
check "every request had its 10 calls answered" \
    jq_true '.summary.failures == 0 and .summary.ok > 0 and .verify.verdict == "ok" and .verify.calls_per_answer == 10' \
    "${report:-/nonexistent}"
LAB_EPHEMERAL_PORTS=100 refused ports17 \
    'event-loop at c=100 over HTTP/1.1 opens ~1,000 connections to slowapi' \
    'slowapi listens on 16 at most' 'use --upstream-http 2' \
    -- event-loop io --native -c 100 -d 3
LAB_EPHEMERAL_PORTS=900 refused ports_python \
    'a Python deployment calls one port' -- py-uvicorn-1 io --native -c 100 -d 3

# ---- connection tracking: refused, or waited out ------------------------
# LAB_CONNTRACK ("count max") stands in for the table. Above its size:
# refused. Above its free entries only (what earlier runs left): waited
# for, at most LAB_BUSY_WAIT_S (150 s), saying so, then refused.
LAB_CONNTRACK="0 500" refused conntrack_size \
    'keeps ~1,100 connections open; the connection-tracking table holds 500' \
    -- event-loop io --native -c 100 -d 3
LAB_CONNTRACK="99500 100000" LAB_BUSY_WAIT_S=2 refused conntrack_busy \
    'waiting (at most 2 s): event-loop at c=100 keeps ~1,100 connections open' \
    'the rest are connections of earlier runs' '(waited 2 s)' \
    -- event-loop io --native -c 100 -d 3

# ---- loadgen, one process ------------------------------------------------
NOFILE=5000 refused loadgen 'loadgen at c=6000 needs ~6,064 descriptors in its one process' \
    'the hard limit is 5,000' -- threadpool-50 io --native -c 6000 --fanout 1 -d 3

# ---- memory --------------------------------------------------------------
LAB_MEM_AVAILABLE_MIB=64 refused memory 'event-loop at c=100 needs about' 'MemAvailable is 64 MiB' \
    -- event-loop io --native -c 100 -d 3

# ---- a matrix none of whose points fits: refused whole, no folder --------
NOFILE=5000 refused matrix 'no point of the matrix fits' 'event-loop at c=2000' 'event-loop-4 at c=3000' \
    -- all io --only event-loop,event-loop-4 --sweep c=2000,3000 --native -d 3

# ---- a run that fits -----------------------------------------------------
lab fits event-loop io --native -c 10 -d 2 --delay 0.1 --timeout 5 --out "$tmp/fits"
check "a run that fits passes the check and runs: exit 0" test "$status" = 0
[ "$status" = 0 ] || show_log "$tmp/fits.log"
check "it did not warn or refuse" bash -c "! grep -qE 'cannot run|warning' '$tmp/fits.log'"
report=$(find "$tmp/fits" -maxdepth 1 -name "*_event-loop_io.json" 2>/dev/null | head -n 1)
check "its report answered requests" jq_true '.summary.ok > 0' "${report:-/nonexistent}"
check "its resources record the network: native, and somaxconn" \
    jq_true '.network == "native" and .somaxconn > 0' "${report%.json}.server.json"
check "the Markdown says the network" grep -q 'Network: native (somaxconn' "${report%.json}.md"
check "nothing of it is left running" nothing_left

# --no-limit-check: the same memory case runs.
LAB_MEM_AVAILABLE_MIB=64 lab unchecked event-loop io --native -c 10 -d 1 --delay 0.1 --timeout 5 \
    --no-limit-check --out "$tmp/unchecked"
check "--no-limit-check skips the check: the run is done" test "$status" = 0

# ---- the options ---------------------------------------------------------
./run.sh --help >"$tmp/help.log" 2>&1
check "--help names --no-limit-check and --network" \
    bash -c "grep -q -- '--no-limit-check' '$tmp/help.log' && grep -q -- '--network bridge|host' '$tmp/help.log'"
./run.sh event-loop io --native --network host >"$tmp/native-host.log" 2>&1
check "--network with --native is bad usage (exit 2)" test $? = 2

# ---- Docker: refused before any container --------------------------------
if docker info >/dev/null 2>&1 && { docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; }; then
    for network in bridge host; do
        NOFILE=20000 refused "docker-$network" 'event-loop at c=10000 over HTTP/1.1 needs ~110,064 descriptors' \
            "NOFILE, the containers' ulimits.nofile" -- event-loop io -c 10000 -d 3 --no-build --network "$network"
        check "no container or network of the refused Docker run ($network)" \
            test -z "$(docker ps -aq --filter "label=com.docker.compose.project=lab-run-$sid")$(docker network ls -q --filter "label=com.docker.compose.project=lab-run-$sid")"
    done
    engine=$(awk '/^Max open files/ { print $5 }' /proc/"$(pgrep -xo dockerd)"/limits 2>/dev/null)
    if [[ $engine =~ ^[0-9]+$ ]]; then
        NOFILE=$((engine + 1)) refused engine "above the Docker engine's own hard limit of" \
            -- event-loop io -c 10 -d 3 --no-build
    fi
else
    echo "(no Docker engine or Compose: the Docker refusals are not checked)"
fi

echo "run_limits: $passed passed, $failed failed"
[ "$failed" = 0 ]
