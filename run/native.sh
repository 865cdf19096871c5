# Sourced by run.sh: one run as local processes from $bin_dir (build/bin) on
# 127.0.0.1, each started with lab_start (run/ready.sh) and pinned with
# taskset to the same CPU sets as in Docker.

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

# build_programs: make every program (quietly; make's own output on failure).
build_programs() {
    make -q --no-print-directory -C "$lab_dir" all 2>/dev/null && return 0
    say "building programs (make)"
    local log=$work_dir/make.log
    if ! in_background make -s --no-print-directory -C "$lab_dir" -j"$(nproc)" all >"$log" 2>&1; then
        cat "$log" >&2
        die "make failed"
    fi
}

# program_path PROGRAM: $bin_dir/PROGRAM, or the Python deployments'
# launcher, which runs from the tree.
program_path() {
    if [ "$1" = lab-python ]; then
        echo "$lab_dir/services/python/lab-python"
    else
        echo "$bin_dir/$1"
    fi
}

# free_ports N [RUN]: N TCP ports that no socket of the host holds
# (listening or connected: /proc/net/tcp and tcp6), outside the ephemeral
# range (no client's connect takes one meanwhile), searched from a start
# that differs from run to run (two runs at once do not race for the same
# one). RUN: the first one printed starts RUN consecutive free ports
# (slowapi --ports), the others after the run. For --network host, and
# for slowapi's ports natively when there are several (its own pick, port
# 0, finds few free runs in an ephemeral range that a big run fills).
free_ports() {
    local n=$1 run=${2:-1} low high first last port used=() found=0 tries=0 hex i
    read -r low high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || { low=32768 high=60999; }
    if [ "$low" -gt 12000 ]; then first=10000 last=$((low - 1)); else first=$((high + 1)) last=65535; fi
    [ "$last" -gt "$first" ] || die "no port range outside the ephemeral ports ($low-$high) to pick from"
    while read -r hex; do used[16#$hex]=1; done < <(awk 'FNR > 1 { split($2, a, ":"); print a[2] }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null)
    port=$((first + ($$ * 97 + RANDOM) % (last - first + 1)))
    while [ "$found" -lt "$n" ]; do
        tries=$((tries + 1))
        [ "$tries" -le $((last - first + 1)) ] || die "no $n free ports in $first-$last"
        local want=1
        [ "$found" -gt 0 ] || want=$run
        for ((i = 0; i < want; i++)); do
            [ $((port + i)) -le "$last" ] && [ -z "${used[port + i]:-}" ] || break
        done
        if [ "$i" = "$want" ]; then
            echo "$port"
            for ((i = 0; i < want; i++)); do used[port + i]=1; done
            found=$((found + 1))
        fi
        port=$((port + 1))
        [ "$port" -le "$last" ] || port=$first
    done
}

# start_native NAME CPUS PROGRAM [VAR=VALUE...] [ARG...]: start PROGRAM
# (program_path) on CPUS, its stderr in $work_dir/NAME.log; sets $port.
start_native() {
    local name=$1 cpus=$2 program=$3 env=() args=()
    shift 3
    for arg in "$@"; do
        case $arg in *=*) env+=("$arg") ;; *) args+=("$arg") ;; esac
    done
    LAB_READY_TIMEOUT_S=$ready_timeout_s
    # An interpreter and its workers take longer to answer their health check.
    [ "$program" != lab-python ] || LAB_READY_TIMEOUT_S=$python_ready_timeout_s
    # shellcheck disable=SC2046 # pin's words are meant to split
    lab_start "$name" "$work_dir" env "${env[@]}" $(pin "$cpus") \
        "$(program_path "$program")" "${args[@]}" ||
        die "$name did not start (its log is above)"
    pids+=("$started_pid")
    sample_process "$name" "$started_pid"
}

# python_check: the Debian packages of the Python deployments are here, for
# Debian's interpreter (services/python/lab-python's; not a python3 that
# comes first on PATH).
python_check() {
    local log=$work_dir/python-check.log
    /usr/bin/python3 -c 'import flask, gunicorn, gevent, uvicorn, fastapi, grpc, aiohttp, numpy, requests' \
        >"$log" 2>&1 && command -v uwsgi-core >/dev/null 2>&1 ||
        die "the Python deployments need Debian's Python packages ($(tail -n 1 "$log"; command -v uwsgi-core >/dev/null || echo "no uwsgi-core")): run 'sudo make deps'"
}

run_native() {
    [ "$in_matrix" = 1 ] || build_programs
    if [ "$pinning" = 1 ]; then
        LAB_CPUS="taskset: server $server_cpus, loadgen $loadgen_cpus, slowapi $slowapi_cpus"
    else
        LAB_CPUS="shared: $(nproc) CPU(s), not pinned"
    fi
    export LAB_CPUS

    [ "$program" != lab-python ] || python_check
    say "starting slowapi and $variant on 127.0.0.1"
    local LAB_PORT=0
    [ "$slowapi_ports" = 1 ] || LAB_PORT=$(free_ports 1 "$slowapi_ports") || exit 1
    start_native slowapi "$slowapi_cpus" slowapi "WORKERS=$slowapi_workers" "PORTS=$slowapi_ports" \
        "FAULTS=$faults" "FAULT_SEED=$fault_seed"
    LAB_PORT=0
    local slowapi_port=$port
    # shellcheck disable=SC2086 # the settings are words
    start_native server "$server_cpus" "$program" $settings \
        "SLOW_API_URL=http://127.0.0.1:$slowapi_port/?delay=$delay" "SLOW_API_PORTS=$slowapi_ports" \
        "FANOUT=$fanout" "UPSTREAM_TIMEOUT=$upstream_timeout" "UPSTREAM_HTTP=$upstream_http" \
        "LAB_MODEL=$(variant_field "$variant" 4)"
    local server_pid=$started_pid
    check_killable "$server_pid"

    local progress=$work_dir/progress.json
    local args=(--mode native --out "$out" -c "$concurrency" -d "$duration"
                --timeout "$timeout" --fanout "$fanout" --delay "$delay" --warmup "$warmup" --ramp "$ramp"
                --no-markdown --upstream "http://127.0.0.1:$slowapi_port"
                --progress-file "$progress")
    [ -z "$requests" ] || args+=(-n "$requests")
    [ -z "$loadgen_protocol" ] || args+=("$loadgen_protocol")
    readarray -t -O ${#args[@]} args < <(loadgen_open_loop_args)
    if [ "$samples" = 1 ]; then
        args+=(--samples "$out/$(samples_name)")
    fi
    say "running $load_shown: $clients_shown on /$workload"
    start_progress "$progress"
    # shellcheck disable=SC2046 # pin's words are meant to split
    $(pin "$loadgen_cpus") "$bin_dir/loadgen" "${args[@]}" \
        "http://127.0.0.1:$port/$workload" >"$work_dir/loadgen.log" 2>&1 &
    local loadgen_pid=$! status=0
    pids+=("$loadgen_pid")
    sample_process loadgen "$loadgen_pid"
    start_killer "$server_pid" "$progress"
    wait "$loadgen_pid" || status=$?
    stop_progress
    loadgen_outcome "$status" "$work_dir/loadgen.log"
    usage_what="processes: CPU time, summed peak RSS (VmHWM)"
}
