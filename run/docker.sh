# Sourced by run.sh: the images and one run in Docker (Compose v1 or v2).

# compose_command: the Compose command words, or nothing without Compose.
compose_command() {
    if docker compose version >/dev/null 2>&1; then
        echo docker compose
    elif command -v docker-compose >/dev/null 2>&1; then
        echo docker-compose
    fi
}

# build_images VARIANT...: make images for these variants (and slowapi,
# loadgen, labreport), the build's progress on the terminal; --no-build:
# check that they are there.
build_images() {
    local images=() name log=$work_dir/images.log
    for name in "$@"; do images+=("lab/$name"); done
    images+=(lab/slowapi lab/loadgen lab/labreport)
    if [ "$build" = 0 ]; then
        docker image inspect "${images[@]}" >/dev/null 2>&1 ||
            die "--no-build: the images are missing (make images)"
        say "using the images as they are (--no-build)"
        return
    fi
    if docker image inspect "${images[@]}" >/dev/null 2>&1; then
        say "building images (cached: only what changed)"
    else
        say "building images (the first build takes a few minutes; the step being built is shown)"
    fi
    # build-images.sh draws its own progress line on a terminal.
    if ! in_background make -s --no-print-directory -C "$lab_dir" images IMAGES="$*" \
            2>"$log"; then
        cat "$log" >&2
        die "could not build the images"
    fi
}

# docker_versions: the engine's and Compose's versions, for the report;
# asked once per matrix (its points inherit them): each asking costs.
docker_versions() {
    : "${LAB_DOCKER_VERSION:=docker $(docker version --format '{{.Server.Version}}')}"
    : "${LAB_COMPOSE_VERSION:=${compose_cmd[*]} $("${compose_cmd[@]}" version --short)}"
    export LAB_DOCKER_VERSION LAB_COMPOSE_VERSION
}

# compose_files: the Compose files of the run's network (docker-compose.yml
# says how they go together).
compose_files() {
    printf '%s\n' --file "$lab_dir/docker-compose.yml"
    if [ "$network" = host ]; then
        printf '%s\n' --file "$lab_dir/docker-compose.host.yml"
    else
        printf '%s\n' --file "$lab_dir/docker-compose.override.yml"
    fi
}

# compose_env PROGRESS: the settings of docker-compose.yml's header for
# this run, exported (Compose and the Swarm stack read them); loadgen's
# --progress-file is PROGRESS (a path in its container, or - for its log).
compose_env() {
    local progress=$1
    export LAB_UID LAB_GID
    LAB_UID=$(id -u)
    LAB_GID=$(id -g)
    export VARIANT=$variant
    export RESULTS_DIR=$out WORKLOAD=$workload CONCURRENCY=$concurrency
    export DURATION=$duration TIMEOUT=$timeout FANOUT=$fanout DELAY=$delay
    export UPSTREAM_TIMEOUT=$upstream_timeout UPSTREAM_HTTP=$upstream_http
    export SERVER_CPUS=$server_cpus
    export SLOWAPI_WORKERS=$slowapi_workers SLOWAPI_PORTS=$slowapi_ports
    export FAULTS=$faults FAULT_SEED=$fault_seed
    export SLOWAPI_PORT=8001 SUT_PORT=3000
    export LOADGEN_CPUS=$loadgen_cpus SLOWAPI_CPUS=$slowapi_cpus
    export LOADGEN_EXTRA_ARGS="--warmup $warmup --ramp $ramp${requests:+ -n $requests}${loadgen_protocol:+ $loadgen_protocol} --no-markdown --progress-file $progress"
    # Compose splits the command like a shell; the checks' < and > are
    # quoted (Compose v2 would take them for redirections). cli.sh keeps
    # quotes and blanks out of every value.
    LOADGEN_EXTRA_ARGS+="${rate:+ --rate $rate}${step:+ --step $step}${check:+ --check '$check'}"
    LOADGEN_EXTRA_ARGS+="${slow_clients:+ --slow-clients $slow_clients}"
    if [ "$samples" = 1 ]; then
        # Under /results, the report folder in the container.
        LOADGEN_EXTRA_ARGS+=" --samples /results/$(samples_name)"
    fi
}

# run_docker: one run of $variant; the report lands in $out.
run_docker() {
    docker_versions
    [ "$in_matrix" = 1 ] || build_images "$variant"

    # Compose settings: see the header of docker-compose.yml.
    local progress=.progress-$$.json
    compose_env "/results/$progress"
    export COMPOSE_PROJECT_NAME=lab-run-$$
    # The ports: the bridge network is the run's own (8001 and 3000); on the
    # host's, ports free there.
    local network_shown="bridge network"
    if [ "$network" = host ]; then
        local ports
        ports=$(free_ports 2 "$slowapi_ports") || exit 1
        SLOWAPI_PORT=${ports%%$'\n'*} SUT_PORT=${ports##*$'\n'}
        network_shown="host network, ports $SLOWAPI_PORT and $SUT_PORT, somaxconn $(somaxconn)"
    fi
    compose=("${compose_cmd[@]}" --project-directory "$lab_dir")
    readarray -t -O ${#compose[@]} compose < <(compose_files)
    temporary+=("$out/$progress")

    say "starting slowapi and $variant (project $COMPOSE_PROJECT_NAME, $network_shown)"
    local log=$work_dir/containers.log
    if ! in_background "${compose[@]}" up --detach --no-build slowapi sut >"$log" 2>&1; then
        cat "$log" >&2
        die "could not start slowapi and $variant"
    fi
    local id server_pid=
    id=$(container_id sut)
    [ -z "$id" ] || sample_container server "$id"
    # The container's PID 1, seen from here: the server (or its launcher).
    [ -z "$id" ] || server_pid=$(docker inspect --format '{{.State.Pid}}' "$id" 2>/dev/null) || true
    [ -z "$kill_every" ] || [ -n "$server_pid" ] || die "--kill-worker-every: cannot find the server's processes"
    [ -z "$kill_every" ] || check_killable "$server_pid"
    id=$(container_id slowapi)
    [ -z "$id" ] || sample_container slowapi "$id"
    sample_loadgen_container &
    pids+=($!)
    sampler_pids+=($!)

    say "running $load_shown: $clients_shown on /$workload"
    start_progress "$out/$progress"
    start_killer "$server_pid" "$out/$progress"
    local status=0
    # The exit status is loadgen's (--exit-code-from).
    in_background "${compose[@]}" up --no-build --no-color --abort-on-container-exit \
        --exit-code-from loadgen slowapi sut loadgen >>"$log" 2>&1 || status=$?
    stop_progress
    loadgen_outcome "$status" "$log" "the containers' logs above"
    usage_what="container processes, not its health checks: CPU time, summed peak RSS (VmHWM)"
}

# container_id SERVICE: the full ID of the run's container of SERVICE, or
# nothing (docker ps: a Compose v1 command would cost half a second).
container_id() {
    docker ps -q --no-trunc --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" \
        --filter "label=com.docker.compose.service=$1" 2>/dev/null || true
}

# sample_loadgen_container: loadgen's container exists once `up` made it;
# look for it (a minute at most) and sample it.
sample_loadgen_container() {
    local id= tries=0 files
    while [ -z "$id" ] && [ $tries -lt 300 ]; do
        id=$(container_id loadgen)
        [ -n "$id" ] || sleep 0.2
        tries=$((tries + 1))
    done
    [ -n "$id" ] && read -r -a files < <(cgroup_files "$id") || return 0
    sample loadgen cgroup_usage "${files[@]}"
}
