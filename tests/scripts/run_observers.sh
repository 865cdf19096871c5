#!/usr/bin/env bash
# run.sh's observers, which run beside the load on the same CPUs, fork
# nothing while it runs (run/sampler.sh says what forks cost a run):
# - the sampler's figures are the process's own: SIGTERM makes it sample
#   once more and save, and its CPU time is then what /proc gives after
#   the load, its peak memory the process's VmHWM; a process that goes
#   ends its sampler;
# - forks are counted by PIDs in a PID namespace of the test's own (PIDs
#   are handed out one after another there): between two probes, a
#   sampler of several samples starts itself, mkfifo and mv, nothing more;
#   the progress line drawn 50 times and Swarm's sum of three loadgens'
#   lines start nothing;
# - the progress line and the sum read as before (fixed inputs).
# Exits 77 where a PID namespace cannot be made (unshare, not root).
set -uo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=tests/harness/checks.sh
. tests/harness/checks.sh
unshare --pid --fork --mount-proc true 2>/dev/null ||
    { echo "SKIP: cannot make a PID namespace (unshare --pid --mount-proc)"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/run_observers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# In the namespace: the figures and PIDs, as NAME=VALUE lines.
unshare --pid --fork --mount-proc bash -c '
    set -u
    lab_dir=$1 work_dir=$2
    variant=event-loop concurrency=1000
    . "$lab_dir/run/sampler.sh"; . "$lab_dir/run/progress.sh"; . "$lab_dir/run/swarm.sh"
    probe() { bash -c "echo \$\$"; }
    mkfifo "$work_dir/burnt"
    mkfifo "$work_dir/idle"
    # About a second of CPU (here), then idle until killed: a read of a
    # FIFO nobody writes (exec of sleep would start a new peak RSS).
    bash -c "i=0; while [ \$i -lt 400000 ]; do i=\$((i + 1)); done; echo >\"\$0\"; read -r _ <>\"\$1\"" \
        "$work_dir/burnt" "$work_dir/idle" &
    burner=$!
    pids=()
    before=$(probe)
    sample_process burner "$burner"
    read -r _ <"$work_dir/burnt"
    stop_samplers
    after=$(probe)
    read -r line <"/proc/$burner/stat"
    read -r -a f <<<"${line##*) }"
    echo "sampler_forks=$((after - before - 1))"
    echo "proc_cpu_ticks=$((f[11] + f[12]))"
    echo "proc_hwm_kib=$(awk "/^VmHWM:/ { print \$2 }" /proc/$burner/status)"
    echo "usage=$(cat "$work_dir/burner.usage")"
    # A process that goes ends its sampler.
    sample_process gone "$burner"
    kill "$burner"; wait "$burner" 2>/dev/null
    wait "${sampler_pids[0]}"; echo "gone_ended=yes"

    before=$(probe)
    for ((i = 1; i <= 50; i++)); do
        progress_line "{\"phase\":\"load\",\"elapsed_s\":12.5,\"done\":$i,\"ok\":$i,\"errors\":0,\"rps\":98.2}" 21
    done
    swarm_progress_sum "$work_dir/sum" <<LINES
lab_loadgen.1.a@n1    | {"phase":"load","elapsed_s":3.2,"done":100,"ok":99,"errors":1,"rps":50.5}
lab_loadgen.2.b@n2    | {"phase":"load","elapsed_s":3.4,"done":120,"ok":120,"errors":0,"rps":49.7}
lab_loadgen.1.a@n1    | {"phase":"load","elapsed_s":4.2,"done":150,"ok":149,"errors":1,"rps":50.1}
LINES
    after=$(probe)
    echo "progress_forks=$((after - before - 1))"
    echo "line=$shown"
    LAB_POINT_LABEL="run 3 of 15" LAB_POINT_AFTER_S=412.5 \
        progress_line "{\"phase\":\"drain\",\"elapsed_s\":22.0,\"done\":3400,\"ok\":3400,\"errors\":2,\"rps\":null}" 21
    echo "line2=$shown"
    echo "sum=$(cat "$work_dir/sum")"
' observers "$PWD" "$tmp" >"$tmp/out" 2>"$tmp/err"
value() { sed -n "s/^$1=//p" "$tmp/out"; }

forks=$(value sampler_forks)
check "the sampler started itself, mkfifo and mv, nothing more (forks: ${forks:-none})" \
    test "${forks:-99}" -le 3
read -r cpu mib wall <<<"$(value usage)"
ticks=$(value proc_cpu_ticks)
want_cpu=$(awk -v t="${ticks:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')
check "its CPU is the process's after the last sample ($cpu s, /proc $want_cpu s)" \
    test "${cpu:-x}" = "$want_cpu"
want_mib=$(awk -v k="$(value proc_hwm_kib)" 'BEGIN { printf "%.1f", k / 1024 }')
check "its peak memory is the process's VmHWM ($mib MiB, /proc $want_mib MiB)" \
    test "${mib:-x}" = "$want_mib"
check "it sampled before SIGTERM and after (wall $wall s)" \
    awk -v w="${wall:-0}" 'BEGIN { exit !(w > 0) }'
check "a process that goes ends its sampler" test "$(value gone_ended)" = yes
forks=$(value progress_forks)
check "50 progress lines and Swarm's sum started nothing (forks: ${forks:-none})" \
    test "${forks:-99}" -eq 0
check "the progress line" test "$(value line)" = \
    "event-loop c=1000  load   12.5/21 s  done 50  rps 98.2  errors 0  ~9 s left"
check "the progress line in a matrix, rps null" test "$(value line2)" = \
    "[run 3 of 15] event-loop c=1000  drain   22.0/21 s  done 3400  rps 0.0  errors 2  ~6 min 53 s left"
check "Swarm's sum: the newest line of each task" test "$(value sum)" = \
    '{"phase":"load","elapsed_s":4.2,"done":270,"ok":269,"errors":1,"rps":99.8}'
[ "$failed" = 0 ] || { echo "    namespace's output:"; sed 's/^/    | /' "$tmp/out" "$tmp/err"; }

echo "run_observers: $passed passed, $failed failed"
[ "$failed" = 0 ]
