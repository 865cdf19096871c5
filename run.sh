#!/usr/bin/env bash
# The lab's entry point: one comparison run (slowapi, one server variant and
# loadgen, in Docker by default or as local processes with --native), a
# matrix of runs (all variants, sweeps, repeats), and the reports' rebuild
# and comparison. `./run.sh --help` for the options, `./run.sh list` for the
# variants. The parts, one concern each, are in run/:
#   cli.sh       the command line and the selection
#   matrix.sh    a matrix: its plan, its points, the combined report
#   docker.sh    images and one run with Compose
#   native.sh    one run as local processes
#   sampler.sh   CPU and memory of the server, loadgen and slowapi
#   progress.sh  the run's progress on the terminal
#   labreport.sh the report program, built locally or from its image
#   ready.sh     lab_start: start a program, wait on its ready pipe
#   limits.sh    what a run needs of the machine, checked before it starts
#   scenario.sh  slow clients and worker kills beside the load, and their record
#   swarm.sh     one run as a Docker Swarm stack (--swarm)
set -euo pipefail

lab_dir=$(cd "$(dirname "$0")" && pwd)
user_dir=$PWD
# The local programs (native runs, labreport): the Makefile's build folder,
# BUILD as make takes it from the environment (build/ by default), so that
# `BUILD=build/x ./run.sh ...` builds and runs the same binaries.
case ${BUILD:=build} in
    /*) bin_dir=$BUILD/bin ;;
    *) bin_dir=$lab_dir/$BUILD/bin ;;
esac
# LAB_VARIANTS_TABLE: another table of variants (the tests' small ones).
variants_table=${LAB_VARIANTS_TABLE:-$lab_dir/services/variants.tsv}
classic_table=$lab_dir/services/classic-names.tsv
ready_timeout_s=10
# A Python deployment's launcher waits (READY_TIMEOUT, 30 s) for its health.
python_ready_timeout_s=35
# slowapi holds a socket for each connection of the server's (c x FANOUT
# over HTTP/1.1), and one process may hold at most the open-file limit
# (20000 on the lab's machines): above this many, more slowapi processes
# share the port.
slowapi_conns_per_worker=15000

# Numbers are read and written with a decimal point whatever the user's
# locale (bash's printf, awk, the reports).
export LC_NUMERIC=C

for part in cli ready sampler progress labreport docker native limits matrix scenario swarm; do
    # shellcheck source=/dev/null
    . "$lab_dir/run/$part.sh"
done

parse_args "$@"
case $command in
    list) list_variants; exit 0 ;;
    report)
        labreport report "$(absolute "${positional[1]}")"
        exit ;;
    compare)
        labreport compare "$(absolute "${positional[1]}")" "$(absolute "${positional[2]}")" \
            "${compare_args[@]}"
        exit ;;
esac

# The report folder, absolute (the containers and `cd` need that), and how
# to show it to the user: relative to where they are when it is under it.
# Made once the run is known to fit (make_out): a refused run writes nothing.
out=$(absolute "${out:-$lab_dir/results}")
shown_out=${out#"$user_dir"/}
make_out() {
    mkdir -p "$out" || die "cannot make the report folder $shown_out"
    out=$(cd "$out" && pwd)
    shown_out=${out#"$user_dir"/}
}
shown_command="./run.sh $*"
in_matrix=${LAB_IN_MATRIX:-0}

nofile_limit=${NOFILE:-20000}
server_cpus=${SERVER_CPUS:-1}
loadgen_cpus=${LOADGEN_CPUS:-0}
slowapi_cpus=${SLOWAPI_CPUS:-0}

git_commit() {
    local commit
    commit=$(git -C "$lab_dir" rev-parse --short HEAD 2>/dev/null) || return 0
    # The archive is not the code: results/README.md, the index, changes
    # with every run.
    git -C "$lab_dir" diff --quiet HEAD -- . ':!results' 2>/dev/null || commit+=-dirty
    echo "$commit"
}
export LAB_GIT_COMMIT=${LAB_GIT_COMMIT:-$(git_commit)}

if [ -n "$requests" ]; then
    load_shown="$requests requests"
else
    load_shown="$duration s"
fi
# An open loop's clients are its connection limit; the rate sets the load.
clients_shown="$concurrency clients"
[ -z "$rate" ] || clients_shown="rate $rate/s over at most $concurrency connections"

# samples_name: --samples: the name of the file loadgen writes every
# request to, in the report folder (the report names it in samples.path):
# the run's UTC start, variant and workload, as the report's own name.
samples_name() {
    local name
    name=$(date -u +%Y%m%dT%H%M%SZ)_${variant}_$workload
    [ ! -e "$out/$name.samples.csv.gz" ] || name=$name-$$
    printf '%s.samples.csv.gz' "$name"
}

# loadgen's options of the open loop and the checks, the same in both modes
# (the samples file's path differs: run/native.sh and run/docker.sh add it).
loadgen_open_loop_args() {
    [ -z "$rate" ] || printf '%s\n' --rate "$rate"
    [ -z "$step" ] || printf '%s\n' --step "$step"
    [ -z "$check" ] || printf '%s\n' --check "$check"
    scenario_loadgen_args
}

# Docker, unless --native or no engine or no Compose is here. The Compose
# command's words, found once: run/docker.sh uses them.
lab_mode=native
compose_cmd=()
if [ "$native" = 0 ]; then
    read -r -a compose_cmd <<<"$(compose_command)"
    if ! docker info >/dev/null 2>&1; then
        echo "run.sh: no Docker engine reachable (docker info failed); running natively" >&2
    elif [ ${#compose_cmd[@]} -eq 0 ]; then
        echo "run.sh: Docker Compose is missing (neither 'docker compose' nor docker-compose); running natively" >&2
    else
        lab_mode=docker
    fi
fi
[ "$lab_mode" = docker ] || native=1
# The network the run's traffic takes: native (the loopback), or in Docker
# Compose's bridge network or the host's namespace (--network host).
[ "$swarm" = 0 ] || [ "$lab_mode" = docker ] ||
    die "--swarm needs a Docker engine and Compose, which are not usable here (above)"
if [ "$swarm" = 1 ]; then
    network=overlay
elif [ "$lab_mode" = docker ]; then
    network=${network:-bridge}
else
    [ -z "$network" ] || die "--network $network needs Docker, which is not usable here (above)"
    network=native
fi
# NOFILE natively: the open-file limit the programs get, as in Docker
# (ulimit -n sets the soft and hard limits of run.sh and its children).
if [ "$lab_mode" = native ] && [ -n "${NOFILE:-}" ]; then
    [[ $NOFILE =~ ^[1-9][0-9]*$ ]] || bad_usage "NOFILE wants a whole number, not '$NOFILE'"
    ulimit -n "$NOFILE" 2>/dev/null ||
        die "NOFILE=$NOFILE: cannot set the open-file limit (this shell's hard limit is $(ulimit -Hn))"
fi
# The tests' small variants have no images.
[ -z "${LAB_VARIANTS_TABLE:-}" ] || [ "$lab_mode" = native ] ||
    bad_usage "LAB_VARIANTS_TABLE (another table of variants) runs natively only: add --native"

# ---- clean-up, whatever happens -----------------------------------------

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/lab-run.XXXXXX")
pids=()        # children to stop: servers, loadgen, samplers, make, Compose
compose=()     # the Compose command, set once the run's project is named
temporary=()   # files to remove (the progress file in the report folder)

cleanup() {
    local status=$? i log
    trap - EXIT INT TERM
    stop_progress
    # Newest first: loadgen ends (and writes its report) while the servers
    # still answer, then the variant, then slowapi.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" 2>/dev/null || true
    done
    # A signal can come between a program's start in the background and
    # its entry in pids (CI once found a process of a stopped matrix still
    # running): whatever this shell still has in the background goes too.
    local job
    for job in $(jobs -p); do
        kill "$job" 2>/dev/null || true
        wait "$job" 2>/dev/null || true
    done
    swarm_remove
    if [ ${#compose[@]} -gt 0 ]; then
        log=$work_dir/down.log
        if ! "${compose[@]}" down --volumes --remove-orphans --timeout 5 >"$log" 2>&1; then
            cat "$log" >&2
            echo "run.sh: 'down' failed: containers of project $COMPOSE_PROJECT_NAME may be left" >&2
        fi
    fi
    rm -f "${temporary[@]}"
    rm -rf "$work_dir"
    # A matrix stopped halfway still reports the runs it did (the points
    # not done read as failed).
    if [ -n "${matrix_dir:-}" ] && [ ! -e "$matrix_dir/report.json" ]; then
        if labreport matrix "$matrix_dir" >/dev/null 2>&1; then
            echo "run.sh: stopped; the report of the runs done: ${matrix_dir#"$user_dir"/}/report.md" >&2
        fi
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# loadgen_outcome STATUS LOG [NOTE]: what loadgen's exit status means.
# 0 returns; 3 with --check returns too, with checks_failed=1 (its report
# is written: run.sh writes the rest, then exits 3); 2 is bad usage, a
# --rate or --check loadgen refused before any load (run.sh exits 2);
# anything else, a run that could not be done. LOG holds loadgen's messages.
checks_failed=0
loadgen_outcome() {
    local status=$1 log=$2
    case $status in
        0) return 0 ;;
        3) if [ -n "$check" ]; then checks_failed=1; return 0; fi ;;
        2)
            grep -i 'loadgen' "$log" | grep -v '^run.sh' | tail -n 5 >&2
            printf 'run.sh: loadgen refused its options (exit status 2): bad usage, no load was run\n' >&2
            echo "try './run.sh --help'" >&2
            exit 2 ;;
    esac
    tail -n 20 "$log" >&2
    die "loadgen failed (exit status $status${3:+; $3})"
}

# in_background COMMAND...: run it as a child and wait for it, returning its
# status. A signal to run.sh then runs the trap at once (bash runs traps
# only after a foreground command ends), and the clean-up stops the child.
in_background() {
    local status=0
    "$@" &
    pids+=($!)
    wait $! || status=$?
    return "$status"
}

if [ "$matrix" = 1 ]; then
    run_matrix
    exit
fi

# ---- one run ------------------------------------------------------------

variant=${selected[0]}
program=$(variant_field "$variant" 2)
settings=$(variant_field "$variant" 3)
[ "$settings" != - ] || settings=
[ "$program" = "$variant" ] && [ -z "$settings" ] || settings="--variant $variant $settings"
# The gRPC servers speak gRPC, not HTTP/1.1: loadgen calls their methods.
loadgen_protocol=
case "$program $settings" in grpc-* | *"--server grpc-"*) loadgen_protocol=--grpc ;; esac

# slowapi's ports (one per ~14,000 connections to it) and processes
# (run/limits.sh says why).
slowapi_ports=$(limits_slowapi_ports "$variant" "$concurrency")
slowapi_workers=$(limits_slowapi_workers "$variant" "$concurrency")
# Before anything starts or is written: a run that cannot fit is refused
# with its figures, exit 1. A matrix checked its points in its plan; each
# point is checked again when it starts, for what the earlier ones hold.
limits_enforce "$variant" "$concurrency"
make_out

# The report this run wrote: the newest <...>_<variant>_<workload>.json in
# the report folder that is newer than the marker made before the run.
touch "$work_dir/marker"
report_path() {
    local report
    report=$(find "$out" -maxdepth 1 -type f -name "*_${variant}_${workload}.json" \
                  -newer "$work_dir/marker" -printf '%T@ %f\n' | sort -n | tail -n 1)
    [ -n "$report" ] || die "loadgen wrote no report to $shown_out"
    echo "$out/${report#* }"
}

if [ "$swarm" = 1 ]; then
    run_swarm
elif [ "$lab_mode" = docker ]; then
    run_docker
else
    run_native
fi
report=$(report_path) || exit 1
stop_samplers
write_resources "$report" "$usage_what"
# The programs' logs beside the report, never replacing a file.
for log in containers slowapi server loadgen; do
    [ ! -f "$work_dir/$log.log" ] || { echo "==== $log"; cat "$work_dir/$log.log"; }
done >"$report.log.tmp"
mv -n "$report.log.tmp" "${report%.json}.log" && rm -f "$report.log.tmp"
# The summary, the resources and the Markdown file, from the JSON; in a
# matrix, one line of it per run (the matrix's report has the rest).
labreport run "$report" >"$work_dir/summary" 2>"$work_dir/labreport.log" || {
    cat "$work_dir/labreport.log" >&2
    die "labreport could not write the report's Markdown"
}
checks_shown=
[ "$checks_failed" = 0 ] || checks_shown="; checks FAILED"
if [ "$in_matrix" = 1 ]; then
    say "$LAB_POINT_LABEL: $variant c=$concurrency${rate:+ rate=$rate}: $(sed -n 's/^Rate: //p' "$work_dir/summary"); $(grep -o 'measured/ceiling [0-9.]*' "$work_dir/summary" || echo 'no ceiling'); failures $(sed -n 's/^Number of failure: *//p' "$work_dir/summary")$checks_shown"
else
    cat "$work_dir/summary"
    say "report: ${report#"$user_dir"/} (Markdown, server resources and logs beside it)"
    # The archive's index, results/README.md, stays true.
    [ "$out" != "$lab_dir/results" ] || labreport index "$out" >/dev/null 2>&1 ||
        echo "run.sh: could not update results/README.md" >&2
fi
[ -z "${LAB_REPORT_PATH_FILE:-}" ] || printf '%s\n' "$report" >"$LAB_REPORT_PATH_FILE"
if [ "$checks_failed" = 1 ]; then
    [ "$in_matrix" = 1 ] || echo "run.sh: a check failed ($check): exit status 3" >&2
    exit 3
fi
