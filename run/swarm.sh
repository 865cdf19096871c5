# Sourced by run.sh: one run as a Docker Swarm stack (--swarm): slowapi, the
# variant and loadgen as services placed by node label (lab.role=upstream,
# server, load), run once (restart policy none), the stack removed
# afterwards, also on Ctrl-C or failure (run.sh's cleanup calls
# swarm_remove). The stack file is made from docker-compose.yml by
# run/stack.py, so both share one definition. Nothing is shared between
# the nodes but the swarm itself: loadgen's progress and its report files
# come back in its tasks' logs (docker/lab-ship), from whichever node.

swarm_stack=       # the stack deployed, removed by the clean-up
swarm_registry=    # the registry service started for the run, removed too
swarm_pushed=()    # the image tags pushed to it, untagged afterwards
swarm_images_used=local
swarm_tasks=()     # the loadgen tasks, their logs read (swarm_task_logs)
swarm_timeout_s=120 # how long tasks may take to start, and the stack to go

# swarm_check: this engine is a manager of an active swarm; says what to do
# otherwise.
swarm_check() {
    local state
    state=$(docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}' 2>/dev/null) ||
        die "--swarm: no Docker engine reachable (docker info failed)"
    [ "$state" = "active true" ] ||
        die "--swarm: this engine is not a swarm manager ($state): 'docker swarm init --advertise-addr 127.0.0.1' makes a one-node swarm (README, \"Docker Swarm\")"
}

# swarm_nodes: "ID HOSTNAME ROLE-LABEL CPUS MEMORY-MIB" of every ready node.
swarm_nodes() {
    local ids
    ids=$(docker node ls --filter role=manager -q; docker node ls --filter role=worker -q)
    # shellcheck disable=SC2086 # one word per node
    docker node inspect --format '{{.ID}} {{.Description.Hostname}} {{if index .Spec.Labels "lab.role"}}{{index .Spec.Labels "lab.role"}}{{else}}-{{end}} {{.Description.Resources.NanoCPUs}} {{.Description.Resources.MemoryBytes}} {{.Status.State}}' \
        $(sort -u <<<"$ids") 2>/dev/null |
        awk '$6 == "ready" { printf "%s %s %s %g %.0f\n", $1, $2, $3, $4 / 1e9, $5 / 1048576 }'
}

# swarm_placement: --no-placement when no node has a lab.role label and
# there is one node (everything runs there); nothing when every role has a
# node; else it stops, saying which label to add.
swarm_placement() {
    local nodes roles role
    nodes=$(swarm_nodes)
    [ -n "$nodes" ] || die "--swarm: no ready node in the swarm"
    roles=$(awk '$3 != "-" { print $3 }' <<<"$nodes" | sort -u)
    if [ -z "$roles" ]; then
        [ "$(wc -l <<<"$nodes")" = 1 ] ||
            die "--swarm: $(wc -l <<<"$nodes") nodes and none labelled: docker node update --label-add lab.role=server|upstream|load NODE (README, \"Docker Swarm\")"
        echo --no-placement
        return
    fi
    for role in server upstream load; do
        grep -qx "$role" <<<"$roles" ||
            die "--swarm: no node has the label lab.role=$role: docker node update --label-add lab.role=$role NODE"
    done
}

# swarm_task_state SERVICE: the state of the service's newest task
# ("Running", "Complete", "Failed", ...) and its error, if any.
swarm_task_state() {
    docker service ps --no-trunc --format '{{.CurrentState}}|{{.Error}}' "$1" 2>/dev/null | head -n 1
}

# swarm_wait_running SERVICE: until its task runs (or fails to start).
swarm_wait_running() {
    local state limit=$((SECONDS + swarm_timeout_s))
    while [ "$SECONDS" -lt "$limit" ]; do
        state=$(swarm_task_state "$1")
        case $state in
            Running* | Complete*) return 0 ;;
            Failed* | Rejected* | Shutdown*)
                die "--swarm: $1 did not start: $state" ;;
        esac
        sleep 0.5
    done
    die "--swarm: $1 not running after ${swarm_timeout_s} s ($(swarm_task_state "$1"))"
}

# swarm_wait_done SERVICE TASKS LIMIT-S FILE [LOAD-S]: until its TASKS
# tasks end; writes the exit status to FILE (0 when all are Complete, N
# from the first "non-zero exit (N)", 124 past the limit). Run in the
# background (in_background), so that a signal to run.sh is handled at
# once. Each look is a docker CLI run and the engine's work, beside the
# load on the same CPUs: twice a second while the tasks start and once
# the load should be over, every 5 s for the LOAD-S seconds (warm-up and
# load) after all run, which still finds a failure soon.
swarm_wait_done() {
    local limit=$((SECONDS + $3)) load_s=${5:-0} status=124 states state failed
    local complete running quiet_until= pause pause_fd
    pause_open || { echo 1 >"$4"; return 1; }
    while [ "$SECONDS" -lt "$limit" ]; do
        states=$(docker service ps --no-trunc --format '{{.CurrentState}}|{{.Error}}' "$1" 2>/dev/null) || true
        complete=0 running=0 failed=
        while IFS= read -r state; do
            case $state in
                Failed* | Rejected* | Shutdown*) failed=$state; break ;;
                Complete*) complete=$((complete + 1)) ;;
                Running*) running=$((running + 1)) ;;
            esac
        done <<<"$states"
        if [ -n "$failed" ]; then
            status=1
            [[ ! $failed =~ non-zero\ exit\ \(([0-9]+)\) ]] || status=${BASH_REMATCH[1]}
            break
        fi
        [ "$complete" -lt "$2" ] || { status=0; break; }
        [ -n "$quiet_until" ] || [ "$running" -lt "$2" ] || quiet_until=$((SECONDS + load_s))
        pause=0.5
        [ -z "$quiet_until" ] || [ "$SECONDS" -ge $((quiet_until - 5)) ] || pause=5
        read -r -t "$pause" -u "$pause_fd" _ || true
    done
    echo "$status" >"$4"
}

# swarm_container SERVICE: the ID of the service's task container on this
# node (the samplers read it), or nothing.
swarm_container() {
    docker ps -q --no-trunc --filter "label=com.docker.swarm.service.name=$1" 2>/dev/null | head -n 1
}

# swarm_node_json HOSTNAME: {"node":..,"cpus":..,"memory_mib":..}.
swarm_node_json() {
    awk -v n="$1" '$2 == n && !found { printf "{\"node\":\"%s\",\"cpus\":%s,\"memory_mib\":%s}", $2, $4, $5; found = 1 }
        END { if (!found) printf "{\"node\":\"%s\"}", n }' <<<"$swarm_nodes_seen"
}

# swarm_where SERVICE: swarm_node_json of the node its (first) task ran on.
swarm_where() {
    swarm_node_json "$(docker service ps --format '{{.Node}}' "$1" 2>/dev/null | head -n 1)"
}

# swarm_follow_progress SERVICE FILE: the loadgen tasks' progress lines
# (loadgen --progress-file -, in their logs, from any node) summed into
# FILE as one line of the same form, for show_progress; until killed (its
# PID is docker's own, so a kill ends the follow and the sum with it).
swarm_follow_progress() {
    # 2>&1: the CLI writes what the task wrote to stderr to its own stderr.
    exec docker service logs --follow --no-trunc "$1" > >(swarm_progress_sum "$2") 2>&1
}

# swarm_progress_sum FILE: each task's newest line (the task is the log
# line's first word, service.slot.id@node) summed into FILE at each line:
# the most elapsed, the sums of done, ok, errors and rps. Read by bash, a
# line at a time (Debian's awk, mawk, reads a pipe in blocks), and summed
# by bash: nothing is started per line (run/progress.sh).
swarm_progress_sum() {
    local line task value tenths phase elapsed done ok errors rps
    local -A last=()
    while IFS= read -r line; do
        [[ $line == *'{"phase":'* ]] || continue
        last[${line%% *}]={\"phase\":${line#*\{\"phase\":}
        phase= elapsed=0 done=0 ok=0 errors=0 rps=0
        for task in "${last[@]}"; do
            progress_field "$task" phase; phase=$value
            progress_field "$task" elapsed_s; tenths "$value"
            [ "$tenths" -le "$elapsed" ] || elapsed=$tenths
            progress_field "$task" rps; tenths "$value"; rps=$((rps + tenths))
            progress_field "$task" done; [[ $value =~ ^[0-9]+$ ]] && done=$((done + value))
            progress_field "$task" ok; [[ $value =~ ^[0-9]+$ ]] && ok=$((ok + value))
            progress_field "$task" errors; [[ $value =~ ^[0-9]+$ ]] && errors=$((errors + value))
        done
        # One write, then closed: a reader finds the line or nothing.
        printf '{"phase":"%s","elapsed_s":%d.%d,"done":%d,"ok":%d,"errors":%d,"rps":%d.%d}\n' \
            "$phase" $((elapsed / 10)) $((elapsed % 10)) "$done" "$ok" "$errors" \
            $((rps / 10)) $((rps % 10)) >"$1"
    done
}

# swarm_task_log TASK FILE: the task's log into FILE, within a minute.
# Always a task's own: on Docker 20.10 `docker service logs SERVICE` of
# several tasks with large logs was seen to stop halfway and never end
# (two loadgens' shipped samples, 2026-12-01), while each task's log came
# at once.
swarm_task_log() {
    timeout 60 docker service logs --raw --no-trunc "$1" >"$2" 2>&1 || true
}

# swarm_unship TASK DIR: the files loadgen left in its task's report
# folder, from the task's log in DIR.log (docker/lab-ship: a gzipped tar
# in base64 between marker lines, the end line with its SHA-256 and size),
# unpacked into DIR, made now. A log read while the engine still gathers
# it from the node can come short: read again, three reads at most.
swarm_unship() {
    local task=$1 dir=$2 log=$2.log tries end sum size
    for tries in 1 2 3; do
        [ "$tries" = 1 ] && [ -s "$log" ] || swarm_task_log "$task" "$log"
        end=$(grep -m 1 '^lab-ship: end ' "$log" || true)
        if [ -n "$end" ]; then
            read -r _ _ sum size <<<"$end"
            awk '/^lab-ship: end / { exit } on; /^lab-ship: begin / { on = 1 }' "$log" |
                base64 -d >"$dir.tgz" 2>/dev/null || true
            if [ "$(wc -c <"$dir.tgz")" = "$size" ] &&
                [ "$(sha256sum <"$dir.tgz" | cut -d' ' -f1)" = "$sum" ]; then
                mkdir -p "$dir" && tar -xzmf "$dir.tgz" -C "$dir" && return 0
            fi
        fi
        [ "$tries" = 3 ] || sleep 1
    done
    return 1
}

# swarm_task_logs LOG: each loadgen task's log read once (into
# $work_dir/task-N.log, for swarm_collect) and appended to LOG without the
# shipped files and the progress lines. Sets swarm_tasks.
swarm_task_logs() {
    local task n=0
    swarm_tasks=()
    for task in $(docker service ps -q --no-trunc "${swarm_stack}_loadgen" 2>/dev/null); do
        n=$((n + 1))
        swarm_tasks+=("$task")
        swarm_task_log "$task" "$work_dir/task-$n.log"
        awk '/^lab-ship: begin / { skip = 1 } !skip && !/^\{"phase":/; /^lab-ship: end / { skip = 0 }' \
            "$work_dir/task-$n.log" >>"$1"
    done
}

# swarm_collect: every loadgen task's files into the report folder (a name
# that is there already stops the run: results are never overwritten).
swarm_collect() {
    local n file
    [ "${#swarm_tasks[@]}" -ge 1 ] || die "--swarm: no loadgen task to collect from"
    for n in "${!swarm_tasks[@]}"; do
        swarm_unship "${swarm_tasks[n]}" "$work_dir/task-$((n + 1))" ||
            die "--swarm: loadgen task ${swarm_tasks[n]}: its files did not come back whole in its log (docker service logs ${swarm_tasks[n]})"
        for file in "$work_dir/task-$((n + 1))"/*; do
            [ -e "$file" ] || continue
            [ ! -e "$out/${file##*/}" ] || die "--swarm: $shown_out/${file##*/} exists already"
            mv "$file" "$out/" || die "--swarm: could not move ${file##*/} into $shown_out"
        done
    done
}

# share_rate SPEC N: a --rate spec with every rate divided by N (R, R0:R1:Ts
# with T kept, R1,R2,...): each of N loadgens offers its share.
share_rate() {
    awk -v spec="$1" -v n="$2" 'BEGIN {
        if (split(spec, ramp, ":") == 3) { printf "%.10g:%.10g:%s\n", ramp[1] / n, ramp[2] / n, ramp[3]; exit }
        k = split(spec, list, ",")
        for (i = 1; i <= k; i++) printf "%s%.10g", i > 1 ? "," : "", list[i] / n
        printf "\n" }'
}

# swarm_merge: the loadgens' reports of this run (newer than the run's
# marker) merged into one, the run's report; each one's Markdown beside.
swarm_merge() {
    local parts=() part name
    while IFS= read -r part; do parts+=("$out/$part"); done < <(
        find "$out" -maxdepth 1 -type f -name "*_${variant}_${workload}_[0-9]*.json" \
            ! -name '*.server.json' -newer "$work_dir/marker" -printf '%f\n' | sort)
    [ "${#parts[@]}" = "$load_nodes" ] ||
        die "--load-nodes $load_nodes: found ${#parts[@]} loadgen reports in $shown_out"
    name=$(date -u +%Y%m%dT%H%M%SZ)_${variant}_$workload
    [ ! -e "$out/$name.json" ] || name=$name-$$
    labreport merge "$out/$name.json" "${parts[@]}" >>"$work_dir/containers.log" 2>&1 ||
        { tail -n 5 "$work_dir/containers.log" >&2; die "could not merge the loadgens' reports"; }
    for part in "${parts[@]}"; do
        labreport run "$part" >/dev/null 2>>"$work_dir/labreport.log" || true
    done
}

# swarm_json: server.json's member "swarm": the stack, how it was placed,
# where each service ran (every loadgen's node with --load-nodes).
swarm_json() {
    [ -n "$swarm_stack" ] || return 0
    local loadgens=() node
    for node in $(docker service ps --format '{{.Node}}' "${swarm_stack}_loadgen" 2>/dev/null); do
        loadgens+=("$(swarm_node_json "$node")")
    done
    local replaced="cpuset as deploy.resources.limits.cpus (slowapi $(cpu_count "$slowapi_cpus"), sut $(cpu_count "$server_cpus"), loadgen $(cpu_count "$loadgen_cpus")) and placement by lab.role; ulimits dropped (the engine's own nofile limit applies); depends_on dropped (loadgen --wait); loadgen's report folder a tmpfs, its files back in the task's log (lab-ship)"
    printf ',"swarm":{"stack":"%s","placement":"%s","replaced":"%s","images":"%s","load_nodes":%s,"services":{"slowapi":%s,"sut":%s,"loadgen":%s},"loadgens":[%s]}' \
        "$swarm_stack" "$swarm_placed" "$replaced" "$swarm_images_used" "$load_nodes" \
        "$(swarm_where "${swarm_stack}_slowapi")" \
        "$(swarm_where "${swarm_stack}_sut")" "$(swarm_where "${swarm_stack}_loadgen")" \
        "$(IFS=,; echo "${loadgens[*]}")"
}

# swarm_registry_up: the images reach the nodes through a registry of the
# lab's own (lab/registry, Debian's docker-registry) run as a service on
# this manager, its port published on this host; the run's images pushed
# to it as REGISTRY/lab/NAME. The tasks pull from LAB_REGISTRY_HOST (this
# host's address as the other nodes reach it; 127.0.0.1 on one node, which
# an engine trusts without TLS; another address must be in each engine's
# insecure-registries). Sets swarm_images_used ("registry HOST:PORT") and
# the caller's registry_args (stack.py's --registry).
swarm_registry_up() {
    local log=$work_dir/registry.log port image limit registry
    # Built (or found in the layer cache) each time: a changed Dockerfile
    # or configuration is not missed.
    docker build --quiet --tag lab/registry:latest --file "$lab_dir/docker/registry.Dockerfile" \
        "$lab_dir/docker" >"$log" 2>&1 || { cat "$log" >&2; die "--images registry: could not build lab/registry"; }
    port=$(free_ports 1) || exit 1
    swarm_registry=lab-registry-$$
    docker service create --detach --name "$swarm_registry" --constraint node.role==manager \
        --restart-condition none --publish "published=$port,target=5000,mode=host" \
        lab/registry:latest >"$log" 2>&1 || { cat "$log" >&2; die "--images registry: could not start the registry service"; }
    limit=$((SECONDS + swarm_timeout_s))
    until curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null; do
        [ "$SECONDS" -lt "$limit" ] || die "--images registry: no answer on 127.0.0.1:$port after ${swarm_timeout_s} s"
        sleep 0.5
    done
    local registry=${LAB_REGISTRY_HOST:-127.0.0.1}:$port
    for image in slowapi loadgen "$variant"; do
        docker tag "lab/$image:latest" "127.0.0.1:$port/lab/$image:latest" >>"$log" 2>&1 &&
            swarm_pushed+=("127.0.0.1:$port/lab/$image:latest") &&
            docker push "127.0.0.1:$port/lab/$image:latest" >>"$log" 2>&1 ||
            { tail -n 5 "$log" >&2; die "--images registry: could not push lab/$image"; }
        # This node has the image under the name the tasks use, whatever
        # its engine trusts (it pushed over 127.0.0.1).
        [ "$registry" = "127.0.0.1:$port" ] ||
            { docker tag "lab/$image:latest" "$registry/lab/$image:latest" >>"$log" 2>&1 &&
                  swarm_pushed+=("$registry/lab/$image:latest"); } ||
            die "--images registry: could not tag lab/$image as $registry/lab/$image"
    done
    swarm_images_used="registry $registry"
    registry_args=(--registry "$registry")
}

# swarm_remove: the stack and everything of it gone (bounded), the registry
# service and the tags pushed to it too; the clean-up calls it whatever
# happened.
swarm_remove() {
    if [ -n "$swarm_registry" ]; then
        docker service rm "$swarm_registry" >/dev/null 2>&1 ||
            echo "run.sh: could not remove the registry service $swarm_registry" >&2
        [ ${#swarm_pushed[@]} = 0 ] || docker rmi "${swarm_pushed[@]}" >/dev/null 2>&1 || true
    fi
    [ -n "$swarm_stack" ] || return 0
    local log=$work_dir/stack-rm.log limit=$((SECONDS + swarm_timeout_s))
    docker stack rm "$swarm_stack" >"$log" 2>&1 || cat "$log" >&2
    while [ "$SECONDS" -lt "$limit" ]; do
        [ -z "$(docker ps -aq --filter "label=com.docker.stack.namespace=$swarm_stack")" ] &&
            [ -z "$(docker network ls -q --filter "label=com.docker.stack.namespace=$swarm_stack")" ] &&
            return 0
        sleep 0.5
    done
    echo "run.sh: stack $swarm_stack: containers or networks left after ${swarm_timeout_s} s" >&2
}

# run_swarm: one run of $variant as a stack; the report lands in $out.
run_swarm() {
    docker_versions
    swarm_check
    local placement
    placement=$(swarm_placement) || exit 1
    swarm_nodes_seen=$(swarm_nodes)
    swarm_placed=labels
    [ -z "$placement" ] || swarm_placed="one node, no labels"
    [ "$in_matrix" = 1 ] || build_images "$variant"
    # The images: local on one node, else (or with --images registry) the
    # lab's registry.
    local registry_args=()
    [ -n "$swarm_images" ] || swarm_images=local
    [ "$(wc -l <<<"$swarm_nodes_seen")" = 1 ] || [ "$images_given" = 1 ] || swarm_images=registry
    if [ "$swarm_images" = registry ]; then
        say "starting the lab's registry and pushing the run's images to it"
        swarm_registry_up
    fi
    local progress=$work_dir/progress.json spread=
    # --load-nodes: each loadgen its share, and its samples for the merge;
    # one per node when there are as many labelled load nodes.
    local concurrency=$((concurrency / load_nodes)) samples=$samples rate=$rate
    if [ "$load_nodes" -gt 1 ]; then
        samples=1
        [ -z "$rate" ] || rate=$(share_rate "$rate" "$load_nodes")
        [ "$(awk '$3 == "load"' <<<"$swarm_nodes_seen" | wc -l)" -lt "$load_nodes" ] || spread=--spread
    fi
    # Progress comes in loadgen's log, as its files do (lab-ship).
    compose_env -
    local stack_file=$work_dir/stack.yml log=$work_dir/containers.log
    # shellcheck disable=SC2046 # the Compose files' words are meant to split
    if ! "${compose_cmd[@]}" --project-directory "$lab_dir" $(compose_files) config 2>"$log" |
        /usr/bin/python3 "$lab_dir/run/stack.py" $placement $spread --load-nodes "$load_nodes" \
            "${registry_args[@]}" >"$stack_file" 2>>"$log"; then
        cat "$log" >&2
        die "--swarm: could not make the stack file from docker-compose.yml"
    fi
    swarm_stack=lab-swarm-$$
    say "deploying stack $swarm_stack ($swarm_placed; $(wc -l <<<"$swarm_nodes_seen") node(s))"
    if ! in_background docker stack deploy --compose-file "$stack_file" "$swarm_stack" >>"$log" 2>&1; then
        cat "$log" >&2
        die "--swarm: docker stack deploy failed"
    fi
    local service
    for service in slowapi sut loadgen; do
        swarm_wait_running "${swarm_stack}_$service"
    done
    local id
    id=$(swarm_container "${swarm_stack}_sut")
    [ -z "$id" ] || sample_container server "$id"
    id=$(swarm_container "${swarm_stack}_slowapi")
    [ -z "$id" ] || sample_container slowapi "$id"
    id=$(swarm_container "${swarm_stack}_loadgen")
    [ -z "$id" ] || sample_container loadgen "$id"
    say "running $load_shown: $clients_shown on /$workload"
    local follow_pid=
    if [ -t 1 ]; then
        swarm_follow_progress "${swarm_stack}_loadgen" "$progress" &
        follow_pid=$!
        pids+=("$follow_pid")
    fi
    start_progress "$progress"
    local status planned_s load_s
    planned_s=$(awk -v d="${duration:-0}" -v w="$warmup" -v t="$timeout" 'BEGIN { printf "%d", d + w + t + 120 }')
    load_s=$(awk -v d="${duration:-0}" -v w="$warmup" 'BEGIN { printf "%d", d + w }')
    [ -z "$requests" ] || load_s=0
    in_background swarm_wait_done "${swarm_stack}_loadgen" "$load_nodes" "$planned_s" \
        "$work_dir/loadgen.status" "$load_s"
    status=$(cat "$work_dir/loadgen.status")
    stop_progress
    [ -z "$follow_pid" ] || kill "$follow_pid" 2>/dev/null || true
    swarm_task_logs "$log"
    loadgen_outcome "$status" "$log" "the services' logs above"
    swarm_collect
    [ "$load_nodes" = 1 ] || swarm_merge
    usage_what="container processes, not its health checks: CPU time, summed peak RSS (VmHWM)"
}
