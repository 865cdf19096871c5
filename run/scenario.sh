# Sourced by run.sh: a run's scenario beside its load (README, "Faults and
# hostile clients"): slowapi's injected faults (--faults, passed to slowapi
# by native.sh and docker.sh), slow clients (--slow-clients: loadgen opens
# them) and worker kills (--kill-worker-every: here). What happened is
# recorded in the run's server.json (scenario_json), and the report states
# what each part should do to the model beside what it did.

# scenario_loadgen_args: loadgen's options of the scenario, one per line.
scenario_loadgen_args() {
    [ -z "$slow_clients" ] || printf '%s\n' --slow-clients "$slow_clients"
}

# server_workers PID: the worker processes of the server whose outermost
# process is PID (a C server itself, natively and as a container's PID 1;
# a Python deployment's launcher, whose child is the server), one per
# line: the master's children; nothing when the server is one process.
server_workers() {
    local pid=$1
    if [ "$program" = lab-python ]; then
        pid=$(pgrep -P "$pid" | head -n 1)
        [ -n "$pid" ] || return 0
    fi
    pgrep -P "$pid" || true
}

# check_killable PID: a server that --kill-worker-every can act on has
# worker processes under a master that restarts them; refuse the run
# otherwise, before its load.
check_killable() {
    [ -n "$kill_every" ] || return 0
    [ -n "$(server_workers "$1")" ] ||
        die "--kill-worker-every: $variant runs as one process, with no master to restart a worker (try prefork-4x50, event-loop-4 or coroutine-4x2000)"
}

# load_phase FILE: the phase in loadgen's progress file (nothing before
# loadgen wrote it).
load_phase() {
    sed -n 's/.*"phase":"\([a-z]*\)".*/\1/p' "$1" 2>/dev/null || true
}

# kill_workers SERVER-PID PROGRESS-FILE: once loadgen's progress file says
# the load started, kill -9 one worker every $kill_every seconds (the
# oldest first, round the workers) until the load ends; each kill is one
# line "SECONDS-INTO-THE-LOAD PID" in $work_dir/kills. Bounded: it stops
# with the load, or after the planned run and its drain.
kill_workers() {
    local server=$1 progress=$2 phase= start next victim limit
    limit=$((SECONDS + ${duration%.*} + 120))
    : >"$work_dir/kills"
    while [ "$SECONDS" -lt "$limit" ]; do
        phase=$(load_phase "$progress")
        case $phase in warmup | load) break ;; drain | done) return 0 ;; esac
        sleep 0.1
    done
    start=$EPOCHREALTIME
    next=$kill_every
    while [ "$SECONDS" -lt "$limit" ]; do
        phase=$(load_phase "$progress")
        case $phase in drain | done) return 0 ;; esac
        if awk -v s="$start" -v now="$EPOCHREALTIME" -v n="$next" 'BEGIN { exit !(now - s >= n) }'; then
            victim=$(server_workers "$server" | head -n 1)
            if [ -n "$victim" ] && kill -9 "$victim" 2>/dev/null; then
                printf '%s %s\n' "$(awk -v s="$start" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.2f", now - s }')" \
                    "$victim" >>"$work_dir/kills"
            fi
            next=$(awk -v n="$next" -v k="$kill_every" 'BEGIN { print n + k }')
        fi
        sleep 0.1
    done
}

# start_killer SERVER-PID PROGRESS-FILE: kill_workers in the background.
start_killer() {
    [ -n "$kill_every" ] || return 0
    kill_workers "$@" &
    pids+=($!)
}

# scenario_json: server.json's members of the scenario, each with a
# leading comma; nothing without one (cli.sh keeps quotes and blanks out
# of the values).
scenario_json() {
    [ -z "$faults" ] || printf ',"faults":"%s","fault_seed":%s' "$faults" "$fault_seed"
    [ -n "$kill_every" ] || return 0
    printf ',"kill_worker_every_s":%s,"worker_kills":[%s]' \
        "$(awk -v s="$kill_every" 'BEGIN { printf "%.10g", s }')" \
        "$(awk '{ printf "%s{\"at_s\":%s,\"pid\":%s}", (NR > 1 ? "," : ""), $1, $2 }' "$work_dir/kills" 2>/dev/null)"
}
