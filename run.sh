#!/usr/bin/env bash
# One comparison run: slowapi, one server variant and loadgen, in Docker
# (default) or as local processes (--native); loadgen writes the report.
# `./run.sh --help` for the options, `./run.sh list` for the variants.
set -euo pipefail

lab_dir=$(cd "$(dirname "$0")" && pwd)
user_dir=$PWD
variants_table=$lab_dir/services/variants.tsv
classic_table=$lab_dir/services/classic-names.tsv
ready_timeout_s=10

usage() {
    cat <<EOF
usage: ./run.sh [options] VARIANT WORKLOAD
       ./run.sh list

Runs slowapi, the server VARIANT and loadgen once; loadgen writes its report
(JSON and Markdown) to the output folder. WORKLOAD is io or cpu. VARIANT may
also be one of the classic study's names (sync-uwsgi, ...): it runs each of
its variants in turn, a report each. './run.sh list' shows both.

options:
  -c, --concurrency N       concurrent clients (100)
  -d, --duration S          seconds of load (30)
  -n, --requests N          this many requests instead of a duration
      --fanout N            upstream calls per /io request (10)
      --delay S             slowapi's delay per upstream call, seconds (1)
      --timeout S           loadgen's timeout per request, seconds (30)
      --warmup S            leave requests issued in the first S seconds out of
                            the statistics (0: every request counts)
      --upstream-timeout S  the variant's timeout per upstream call (5)
      --upstream-http V     1.1, or 2: the variant calls slowapi over HTTP/2
                            without TLS, a fan-out's calls as streams of one
                            connection (for c x FANOUT above the open-file
                            limit; the classic study's upstream was 1.1)
      --native              local processes from build/bin instead of Docker
      --no-build            Docker: use the images as they are (a series of
                            runs after one 'make images'); default: build
      --out DIR             folder for the report (results/)
  -h, --help                this help

Docker mode builds the images when needed (make images) and removes every
container and network of the run afterwards. CPU sets come from SERVER_CPUS,
LOADGEN_CPUS and SLOWAPI_CPUS (1, 0, 0: the server alone on CPU 1), in
Docker and, with taskset, natively. Exit status: 0 when the run was done
(failed requests are data), 2 for bad arguments, 1 when it could not be done.
EOF
}

say() { printf 'run.sh: %s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }
bad_usage() {
    printf 'run.sh: %s\n' "$1" >&2
    echo "try './run.sh --help'" >&2
    exit 2
}

rows() { awk -F'\t' '!/^#/ && NF' "$1"; }
variant_names() { rows "$variants_table" | cut -f1; }
classic_names() { rows "$classic_table" | cut -f1; }

# The variants and the classic names, aligned columns.
list_variants() {
    echo "Variants (name, model, the classic deployment it mirrors):"
    rows "$variants_table" | awk -F'\t' '
        { name[NR] = $1; model[NR] = $4; classic[NR] = $5
          if (length($1) > w1) w1 = length($1); if (length($4) > w2) w2 = length($4) }
        END { for (i = 1; i <= NR; i++)
                  printf "  %-*s  %-*s  %s\n", w1, name[i], w2, model[i], classic[i] }'
    echo
    echo "The classic study's names (each runs its variants in turn):"
    rows "$classic_table" | awk -F'\t' '
        { name[NR] = $1; runs[NR] = $2; what[NR] = $3
          if (length($1) > w1) w1 = length($1); if (length($2) > w2) w2 = length($2) }
        END { for (i = 1; i <= NR; i++)
                  printf "  %-*s  %-*s  %s\n", w1, name[i], w2, runs[i], what[i] }'
}

# variant_field NAME COLUMN: a column of the variant's row (2 program,
# 3 settings).
variant_field() { rows "$variants_table" | awk -F'\t' -v n="$1" -v c="$2" '$1 == n { print $c }'; }

# check_number NAME VALUE integer|number: an integer >= 1, or a number >= 0.
check_number() {
    if [ "$3" = integer ]; then
        [[ $2 =~ ^[1-9][0-9]*$ ]] ||
            bad_usage "$1 wants a whole number of at least 1, not '$2'"
    else
        [[ $2 =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]] ||
            bad_usage "$1 wants a number of at least 0, not '$2'"
    fi
}

# ---- arguments ----------------------------------------------------------

concurrency=100
duration=30
requests=
fanout=10
delay=1
timeout=30
warmup=0
upstream_timeout=${UPSTREAM_TIMEOUT:-5}
upstream_http=${UPSTREAM_HTTP:-1.1}
native=0
build=1
out=
positional=()
original_args=("$@")

while [ $# -gt 0 ]; do
    arg=$1
    shift
    value=
    case $arg in
        --*=*) value=${arg#*=}; arg=${arg%%=*}; set -- "$value" "$@" ;;
    esac
    case $arg in
        -h | --help) usage; exit 0 ;;
        --native) native=1; continue ;;
        --no-build) build=0; continue ;;
        -c | --concurrency | -d | --duration | -n | --requests | --fanout | \
        --delay | --timeout | --warmup | --upstream-timeout | --upstream-http | --out)
            [ $# -gt 0 ] || bad_usage "$arg needs a value" ;;
        --) positional+=("$@"); break ;;
        -?*) bad_usage "unknown option '$arg'" ;;
        *) positional+=("$arg"); continue ;;
    esac
    value=$1
    shift
    case $arg in
        -c | --concurrency) check_number "$arg" "$value" integer; concurrency=$value ;;
        -d | --duration) check_number "$arg" "$value" number; duration=$value ;;
        -n | --requests) check_number "$arg" "$value" integer; requests=$value ;;
        --fanout) check_number "$arg" "$value" integer; fanout=$value ;;
        --delay) check_number "$arg" "$value" number; delay=$value ;;
        --timeout) check_number "$arg" "$value" number; timeout=$value ;;
        --warmup) check_number "$arg" "$value" number; warmup=$value ;;
        --upstream-timeout) check_number "$arg" "$value" number; upstream_timeout=$value ;;
        --upstream-http) upstream_http=$value ;;
        --out) [ -n "$value" ] || bad_usage "--out needs a folder"; out=$value ;;
    esac
done

case $upstream_http in
    1.1 | 2) ;;
    *) bad_usage "--upstream-http wants 1.1 or 2, not '$upstream_http'" ;;
esac

if [ "${positional[0]:-}" = list ] && [ ${#positional[@]} -eq 1 ]; then
    list_variants
    exit 0
fi
[ ${#positional[@]} -eq 2 ] || bad_usage "want VARIANT and WORKLOAD (or 'list')"
variant=${positional[0]}
workload=${positional[1]}
case $workload in
    io | cpu) ;;
    *) bad_usage "unknown workload '$workload'; the workloads: io cpu" ;;
esac
if classic_names | grep -qxF -- "$variant"; then
    # A classic name: this script again for each of its variants, in turn.
    status=0
    for each in $(rows "$classic_table" | awk -F'\t' -v n="$variant" '$1 == n { print $2 }'); do
        say "$variant: running $each"
        args=()
        for arg in "${original_args[@]}"; do
            [ "$arg" = "$variant" ] && arg=$each
            args+=("$arg")
        done
        "$0" "${args[@]}" || status=$?
    done
    exit "$status"
fi
if ! variant_names | grep -qxF -- "$variant"; then
    bad_usage "unknown variant '$variant'; the variants: $(variant_names | paste -sd' ' -); the classic names: $(classic_names | paste -sd' ' -)"
fi
program=$(variant_field "$variant" 2)
settings=$(variant_field "$variant" 3)
[ "$settings" != - ] || settings=
[ "$program" = "$variant" ] && [ -z "$settings" ] || settings="--variant $variant $settings"
# The gRPC servers speak gRPC, not HTTP/1.1: loadgen calls their methods.
loadgen_protocol=
case $program in grpc-*) loadgen_protocol=--grpc ;; esac

# The report folder, absolute (the containers and `cd` need that), and how
# to show it to the user: relative to where they are when it is under it.
case ${out:=$lab_dir/results} in
    /*) ;;
    *) out=$user_dir/$out ;;
esac
mkdir -p "$out"
out=$(cd "$out" && pwd)
shown_out=${out#"$user_dir"/}

# slowapi holds c x FANOUT waiting requests, a socket each, and one process
# may hold at most the open-file limit (20000 on the lab's machines): above
# SLOWAPI_CONNS_PER_WORKER, more slowapi processes share the port.
slowapi_conns_per_worker=15000
slowapi_workers=$(( (concurrency * fanout + slowapi_conns_per_worker - 1) / slowapi_conns_per_worker ))
# Over h2c a fan-out's calls share one connection.
upstream_conns_per_request=$fanout
[ "$upstream_http" = 1.1 ] || upstream_conns_per_request=1
server_fds=$(( concurrency * (upstream_conns_per_request + 1) ))
nofile_limit=${NOFILE:-20000}
if [ "$workload" = io ] && [ "$server_fds" -gt "$nofile_limit" ]; then
    echo "run.sh: warning: c=$concurrency with fanout $fanout needs about $server_fds sockets" \
         "in the server, above the open-file limit of $nofile_limit per process: a" \
         "one-process variant will fail calls (502) once it runs out; a multi-process" \
         "variant spreads them, and --upstream-http 2 needs one upstream socket per" \
         "request" >&2
fi

server_cpus=${SERVER_CPUS:-1}
loadgen_cpus=${LOADGEN_CPUS:-0}
slowapi_cpus=${SLOWAPI_CPUS:-0}

git_commit() {
    local commit
    commit=$(git -C "$lab_dir" rev-parse --short HEAD 2>/dev/null) || return 0
    git -C "$lab_dir" diff --quiet HEAD -- 2>/dev/null || commit+=-dirty
    echo "$commit"
}
export LAB_GIT_COMMIT=${LAB_GIT_COMMIT:-$(git_commit)}

if [ -n "$requests" ]; then
    load_shown="$requests requests"
else
    load_shown="$duration s"
fi

# ---- clean-up, whatever happens -----------------------------------------

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/lab-run.XXXXXX")
pids=()        # children to stop: servers, loadgen, make, Compose
compose=()     # the Compose command, set once the run's project is named

cleanup() {
    local status=$? i log
    trap - EXIT INT TERM
    # Newest first: loadgen ends (and writes its report) while the servers
    # still answer, then the variant, then slowapi.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" 2>/dev/null || true
    done
    if [ ${#compose[@]} -gt 0 ]; then
        log=$work_dir/down.log
        if ! "${compose[@]}" down --volumes --remove-orphans --timeout 5 >"$log" 2>&1; then
            cat "$log" >&2
            echo "run.sh: 'down' failed: containers of project $COMPOSE_PROJECT_NAME may be left" >&2
        fi
    fi
    rm -rf "$work_dir"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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

# The report this run wrote: the newest <...>_<variant>_<workload>.json in
# the report folder that is newer than the marker made before the run.
touch "$work_dir/marker"
report_path() {
    local report
    report=$(find "$out" -maxdepth 1 -type f -name "*_${variant}_${workload}.json" \
                  -newer "$work_dir/marker" -printf '%T@ %f\n' | sort -n | tail -n 1)
    [ -n "$report" ] || die "loadgen wrote no report to $shown_out"
    echo "$shown_out/${report#* }"
}

# ---- the server's resources ---------------------------------------------
# What the server used over the run: CPU seconds (user + system) and peak
# memory, kept in $work_dir/server.usage as "CPU_S PEAK_MIB WHAT" (written
# whole, then renamed). Docker: the container's cgroup counters, sampled
# twice a second while it runs (Compose stops it with loadgen, and its
# cgroup goes with it). Native: /proc of the server's processes at the end.
usage_file=$work_dir/server.usage

# save_usage CPU_S PEAK_MIB WHAT
save_usage() { printf '%s %s %s\n' "$1" "$2" "$3" >"$usage_file.tmp" && mv "$usage_file.tmp" "$usage_file"; }

# sample_container ID: until the container's cgroup goes (a day at most),
# save its CPU time and peak memory since it started. cgroup v1 (cgroupfs
# or systemd driver) or v2.
sample_container() {
    local id=$1 cpu_file mem_file cpu mem dir
    local limit=$((SECONDS + 86400)) # it ends with the container; this only bounds it
    for dir in /sys/fs/cgroup/cpuacct/docker/"$id" /sys/fs/cgroup/cpuacct/system.slice/docker-"$id".scope; do
        [ -r "$dir/cpuacct.usage" ] && cpu_file=$dir/cpuacct.usage
    done
    for dir in /sys/fs/cgroup/memory/docker/"$id" /sys/fs/cgroup/memory/system.slice/docker-"$id".scope; do
        [ -r "$dir/memory.max_usage_in_bytes" ] && mem_file=$dir/memory.max_usage_in_bytes
    done
    for dir in /sys/fs/cgroup/docker/"$id" /sys/fs/cgroup/system.slice/docker-"$id".scope; do
        [ -r "$dir/cpu.stat" ] && cpu_file=$dir/cpu.stat mem_file=$dir/memory.peak
    done
    [ -n "${cpu_file:-}" ] && [ -r "${mem_file:-}" ] || return 0
    while [ "$SECONDS" -lt "$limit" ]; do
        cpu=$(awk '/^usage_usec/ { printf "%.2f", $2 / 1e6; exit } NF == 1 { printf "%.2f", $1 / 1e9 }' "$cpu_file" 2>/dev/null) || break
        mem=$(awk '{ printf "%.1f", $1 / 1048576 }' "$mem_file" 2>/dev/null) || break
        [ -n "$cpu" ] && [ -n "$mem" ] || break
        save_usage "$cpu" "$mem" "container cgroup: CPU time, peak memory with page cache"
        sleep 0.5
    done
}

# proc_tree PID: PID and its descendants (a master's workers).
proc_tree() {
    local child
    echo "$1"
    for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do proc_tree "$child"; done
}

# native_usage PID: the process tree's CPU time and summed peak RSS (VmHWM).
native_usage() {
    local ticks=0 hwm_kib=0 pid fields hwm
    for pid in $(proc_tree "$1"); do
        read -r -a fields < <(sed 's/.*) //' /proc/"$pid"/stat 2>/dev/null) || continue
        ticks=$((ticks + fields[11] + fields[12])) # utime, stime
        hwm=$(awk '/^VmHWM:/ { print $2 }' /proc/"$pid"/status 2>/dev/null) || hwm=0
        hwm_kib=$((hwm_kib + ${hwm:-0}))
    done
    save_usage "$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')" \
        "$(awk -v k="$hwm_kib" 'BEGIN { printf "%.1f", k / 1024 }')" \
        "processes: CPU time, summed peak RSS (VmHWM)"
}

# ---- Docker mode --------------------------------------------------------

# run_docker COMPOSE-COMMAND...
run_docker() {
    local cmd=("$@")
    LAB_DOCKER_VERSION="docker $(docker version --format '{{.Server.Version}}')"
    LAB_COMPOSE_VERSION="${cmd[*]} $("${cmd[@]}" version --short)"
    export LAB_DOCKER_VERSION LAB_COMPOSE_VERSION
    export LAB_UID LAB_GID
    LAB_UID=$(id -u)
    LAB_GID=$(id -g)

    # By default always: the layer cache makes it a few seconds when nothing
    # changed, and a run never measures images older than the tree.
    local log=$work_dir/images.log
    if [ "$build" = 0 ]; then
        docker image inspect "lab/$variant" lab/slowapi lab/loadgen >/dev/null 2>&1 ||
            die "--no-build: the images are missing (make images)"
        say "using the images as they are (--no-build)"
    else
        if docker image inspect "lab/$variant" lab/slowapi lab/loadgen >/dev/null 2>&1; then
            say "building images (cached: only what changed)"
        else
            say "building images (the first build takes a few minutes)"
        fi
        if ! in_background make -s --no-print-directory -C "$lab_dir" images IMAGES="$variant" \
                >"$log" 2>&1; then
            cat "$log" >&2
            die "could not build the images"
        fi
    fi

    # Compose settings: see the header of docker-compose.yml.
    export COMPOSE_PROJECT_NAME=lab-run-$$ COMPOSE_PROFILES=$variant
    export RESULTS_DIR=$out WORKLOAD=$workload CONCURRENCY=$concurrency
    export DURATION=$duration TIMEOUT=$timeout FANOUT=$fanout DELAY=$delay
    export UPSTREAM_TIMEOUT=$upstream_timeout UPSTREAM_HTTP=$upstream_http
    export SERVER_CPUS=$server_cpus
    export SLOWAPI_WORKERS=$slowapi_workers
    export LOADGEN_CPUS=$loadgen_cpus SLOWAPI_CPUS=$slowapi_cpus
    export LOADGEN_EXTRA_ARGS="--warmup $warmup${requests:+ -n $requests}${loadgen_protocol:+ $loadgen_protocol}"
    compose=("${cmd[@]}" --project-directory "$lab_dir" --file "$lab_dir/docker-compose.yml")

    say "starting slowapi and $variant (project $COMPOSE_PROJECT_NAME)"
    log=$work_dir/start.log
    if ! in_background "${compose[@]}" up --detach --no-build slowapi "$variant" >"$log" 2>&1; then
        cat "$log" >&2
        die "could not start slowapi and $variant"
    fi
    local up=(up --no-build --abort-on-container-exit --exit-code-from loadgen) id
    [ -t 1 ] || up+=(--no-color)
    id=$("${compose[@]}" ps -q "$variant" 2>/dev/null) || id=
    if [ -n "$id" ]; then
        sample_container "$id" &
        pids+=($!)
    fi
    say "running $load_shown: $concurrency clients on /$workload"
    in_background "${compose[@]}" "${up[@]}" slowapi "$variant" loadgen ||
        die "loadgen failed (exit status $?)"
}

# ---- native mode --------------------------------------------------------

# pin CPUS: the taskset prefix that keeps a process on CPUS (nothing when
# taskset is missing or there is only one CPU).
pinning=0
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -gt 1 ]; then
    pinning=1
fi
pin() {
    [ "$pinning" = 1 ] && printf '%s\n' taskset -c "$1"
    return 0
}

# start_server NAME PROGRAM [ARG...|VAR=VALUE...]: start build/bin/PROGRAM
# (environment VAR=VALUE, then flags ARG) on 127.0.0.1, any free port, and
# wait (bounded) on its ready pipe; sets $port.
start_server() {
    local name=$1 program=$2 fifo=$work_dir/$1.ready cpus env=() args=()
    shift 2
    for arg in "$@"; do
        case $arg in *=*) env+=("$arg") ;; *) args+=("$arg") ;; esac
    done
    case $name in slowapi) cpus=$slowapi_cpus ;; *) cpus=$server_cpus ;; esac
    mkfifo "$fifo"
    # shellcheck disable=SC2046 # pin's words are meant to split
    env "${env[@]}" $(pin "$cpus") "$lab_dir/build/bin/$program" "${args[@]}" \
        --host 127.0.0.1 --port 0 --ready-fd 3 3>"$fifo" &
    pids+=($!)
    # The read ends at once with nothing if the server dies before it is
    # ready (the pipe's only writer closes); -t bounds a hung start.
    port=
    read -r -t "$ready_timeout_s" port <"$fifo" || true
    [[ $port =~ ^[0-9]+$ ]] || die "$name did not report a port within ${ready_timeout_s} s"
}

run_native() {
    if ! make -q --no-print-directory -C "$lab_dir" all 2>/dev/null; then
        say "building programs (make)"
        in_background make -s --no-print-directory -C "$lab_dir" all >/dev/null ||
            die "make failed"
    fi
    if [ "$pinning" = 1 ]; then
        LAB_CPUS="taskset: server $server_cpus, loadgen $loadgen_cpus, slowapi $slowapi_cpus"
    else
        LAB_CPUS="shared: $(nproc) CPU(s), not pinned"
    fi
    export LAB_CPUS

    say "starting slowapi and $variant on 127.0.0.1"
    start_server slowapi slowapi "WORKERS=$slowapi_workers"
    local slowapi_port=$port
    # shellcheck disable=SC2086 # the settings are words
    start_server "$variant" "$program" $settings \
        "SLOW_API_URL=http://127.0.0.1:$slowapi_port/?delay=$delay" \
        "FANOUT=$fanout" "UPSTREAM_TIMEOUT=$upstream_timeout" "UPSTREAM_HTTP=$upstream_http"

    local args=(--mode native --out "$out" -c "$concurrency" -d "$duration"
                --timeout "$timeout" --fanout "$fanout" --delay "$delay")
    [ -z "$requests" ] || args+=(-n "$requests")
    args+=(--warmup "$warmup")
    [ -z "$loadgen_protocol" ] || args+=("$loadgen_protocol")
    say "running $load_shown: $concurrency clients on /$workload"
    local server_pid=${pids[${#pids[@]} - 1]}
    # shellcheck disable=SC2046 # pin's words are meant to split
    in_background $(pin "$loadgen_cpus") "$lab_dir/build/bin/loadgen" "${args[@]}" \
        "http://127.0.0.1:$port/$workload" || die "loadgen failed (exit status $?)"
    native_usage "$server_pid"
}

# ---- the run ------------------------------------------------------------

if [ "$native" = 1 ]; then
    run_native
elif ! docker info >/dev/null 2>&1; then
    echo "run.sh: no Docker engine reachable (docker info failed); running natively" >&2
    run_native
elif docker compose version >/dev/null 2>&1; then
    run_docker docker compose
elif command -v docker-compose >/dev/null 2>&1; then
    run_docker docker-compose
else
    echo "run.sh: Docker Compose is missing (neither 'docker compose' nor docker-compose); running natively" >&2
    run_native
fi
report=$(report_path) || exit 1
say "report: $report"
# The server's resources beside the report, as <report>.server.json.
if [ -s "$usage_file" ]; then
    read -r cpu_s peak_mib usage_what <"$usage_file"
    say "server: $cpu_s CPU seconds, peak memory $peak_mib MiB ($usage_what)"
    server_json=${report%.json}.server.json
    printf '{"variant":"%s","workload":"%s","cpu_seconds":%s,"peak_memory_mib":%s,"measured":"%s"}\n' \
        "$variant" "$workload" "$cpu_s" "$peak_mib" "$usage_what" >"$server_json.tmp" &&
        mv -n "$server_json.tmp" "$server_json" && rm -f "$server_json.tmp"
fi
