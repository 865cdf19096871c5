# Sourced by run.sh: what the server, loadgen and slowapi used over a run,
# CPU seconds and peak memory, written beside the report as
# <report>.server.json (docs/REPORT.md). Each program is sampled twice a
# second, until its process goes: /proc of the process and its children (a
# master's workers), natively and in Docker alike (there the container's
# first process, found through the engine; loadgen's container by its
# cgroup counters). A sampler writes $work_dir/<name>.usage, "CPU_S
# PEAK_MIB WALL_S", whole and renamed, when its process has gone or when
# stop_samplers asks; CPU time after its last sample (at most 0.5 s) is not
# counted.
#
# A sample forks nothing: bash's own read, arithmetic and a timed read on
# a FIFO instead of sleep. The samplers run beside the load on the same 2
# CPUs; when each sample ran cat, sed, awk, mv and sleep (about 40
# programs a second for three samplers), perf counted them at about a
# quarter of the machine's CPU samples during a c=1000 run
# (docs/PERFORMANCE.md, "The lab's own load").

sampler_pids=()

# save_usage NAME CPU_US PEAK_KIB WALL_US
save_usage() {
    local cpu mem wall
    printf -v cpu '%d.%02d' $((($2 + 5000) / 1000000)) $(((($2 + 5000) / 10000) % 100))
    printf -v mem '%d.%d' $((($3 * 10 + 512) / 10240)) $(((($3 * 10 + 512) / 1024) % 10))
    printf -v wall '%d.%02d' $((($4 + 5000) / 1000000)) $(((($4 + 5000) / 10000) % 100))
    printf '%s %s %s\n' "$cpu" "$mem" "$wall" >"$work_dir/$1.usage.tmp" &&
        mv "$work_dir/$1.usage.tmp" "$work_dir/$1.usage"
}

# first_number FILE [KEY]: sets number to the first whole number of FILE,
# or of its line that starts with KEY; fails when there is none.
first_number() {
    local key value _
    number=
    while read -r key value _; do
        if [ -z "${2:-}" ]; then number=$key; break; fi
        [ "$key" != "$2" ] || { number=$value; break; }
    done 2>/dev/null <"$1"
    [[ $number =~ ^[0-9]+$ ]]
}

# cgroup_usage CPU_FILE MEM_FILE: sets got_cpu_us and got_mem_kib of a
# container; fails once its cgroup is gone. cgroup v1 (cpuacct.usage, ns)
# or v2 (cpu.stat's usage_usec).
cgroup_usage() {
    local number
    if [[ $1 == */cpu.stat ]]; then
        first_number "$1" usage_usec || return 1
        got_cpu_us=$number
    else
        first_number "$1" || return 1
        got_cpu_us=$((number / 1000))
    fi
    first_number "$2" || return 1
    got_mem_kib=$((number / 1024))
}

# proc_tree PID: appends PID and its descendants to the array tree.
proc_tree() {
    local children=() child list
    tree+=("$1")
    for list in /proc/"$1"/task/*/children; do
        children=()
        read -r -a children 2>/dev/null <"$list" || true
        for child in "${children[@]}"; do proc_tree "$child"; done
    done
}

# proc_usage PID: sets got_cpu_us and got_mem_kib of the process tree (CPU
# time, summed VmHWM); fails (1) once PID is gone, and returns 2 without
# figures when nothing of the tree could be read this time (a live process
# always has a peak RSS: an empty reading is no reading, not a zero). A
# child that has exited and been waited for counts in its parent's cutime
# and cstime.
proc_usage() {
    local ticks=0 kib=0 pid line fields number tree=()
    [ -d /proc/"$1" ] || return 1
    proc_tree "$1"
    for pid in "${tree[@]}"; do
        read -r line 2>/dev/null </proc/"$pid"/stat || continue
        read -r -a fields <<<"${line##*) }"
        # utime, stime, and cutime, cstime: its children waited for
        ticks=$((ticks + fields[11] + fields[12] + fields[13] + fields[14]))
        ! first_number /proc/"$pid"/status VmHWM: || kib=$((kib + number))
    done
    [ "$kib" -gt 0 ] || return 2
    got_cpu_us=$((ticks * 1000000 / clock_ticks))
    got_mem_kib=$kib
}
clock_ticks=$(getconf CLK_TCK)

# sample NAME READER ARG...: READER ARG...'s figures until READER fails (a
# day at most: it ends with the program; this only bounds it) or SIGTERM
# comes (then once more), then saved. CPU time and peak memory only grow:
# a reading below the last one keeps the last one. Such a reading comes at
# the end, when a master's workers have exited and its tree is the master
# alone (coroutine-4x2000 once read 0.05 s and 7.5 MiB so), or when a
# reading is empty (2). The pause is a timed read on a FIFO nobody writes.
sample() {
    local name=$1 start_us=${EPOCHREALTIME/./} limit=$((SECONDS + 86400))
    local status cpu_us=0 kib=0 wall_us=0 got_cpu_us got_mem_kib pause_fd sampled=0 stop=0
    shift
    pause_open || return 0
    trap 'stop=1' TERM
    while :; do
        status=0
        "$@" || status=$?
        [ "$status" -ne 1 ] || break
        if [ "$status" -eq 0 ]; then
            [ "$got_cpu_us" -le "$cpu_us" ] || cpu_us=$got_cpu_us
            [ "$got_mem_kib" -le "$kib" ] || kib=$got_mem_kib
            wall_us=$((${EPOCHREALTIME/./} - start_us))
            sampled=1
        fi
        # SIGTERM during the pause ends it: one more sample, the last.
        [ "$stop" = 0 ] && [ "$SECONDS" -lt "$limit" ] || break
        read -r -t 0.5 -u "$pause_fd" _ || true
    done
    [ "$sampled" = 0 ] || save_usage "$name" "$cpu_us" "$kib" "$wall_us"
}

# pause_open: sets pause_fd to a FIFO that nobody writes: `read -t S -u
# "$pause_fd"` pauses S seconds without starting sleep, and a trapped
# signal ends it at once. Several callers start at once: one makes it.
pause_open() {
    mkfifo "$work_dir/pause.fifo" 2>/dev/null || [ -p "$work_dir/pause.fifo" ] || return 1
    exec {pause_fd}<>"$work_dir/pause.fifo"
}

# stop_samplers: each sampler takes its last sample and saves it; back
# when all have.
stop_samplers() {
    local pid
    for pid in "${sampler_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${sampler_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    sampler_pids=()
}

# cgroup_files ID: "CPU_FILE MEM_FILE" of a container (its full ID); fails
# when neither cgroup layout has them. cgroup v1 (cgroupfs or systemd
# driver) or v2.
cgroup_files() {
    local id=$1 dir cpu_file= mem_file=
    for dir in /sys/fs/cgroup/cpuacct/docker/"$id" /sys/fs/cgroup/cpuacct/system.slice/docker-"$id".scope; do
        [ -r "$dir/cpuacct.usage" ] && cpu_file=$dir/cpuacct.usage
    done
    for dir in /sys/fs/cgroup/memory/docker/"$id" /sys/fs/cgroup/memory/system.slice/docker-"$id".scope; do
        [ -r "$dir/memory.max_usage_in_bytes" ] && mem_file=$dir/memory.max_usage_in_bytes
    done
    for dir in /sys/fs/cgroup/docker/"$id" /sys/fs/cgroup/system.slice/docker-"$id".scope; do
        [ -r "$dir/cpu.stat" ] && cpu_file=$dir/cpu.stat mem_file=$dir/memory.peak
    done
    [ -n "$cpu_file" ] && [ -r "$mem_file" ] || return 1
    echo "$cpu_file $mem_file"
}

# sample_container NAME ID: sample a container's processes in the
# background: its first process (the program; no init runs before it) and
# its children, from /proc as natively. Not its cgroup: that also counts
# every health check the engine execs into the container (runc's setup
# included), about 56 ms of CPU a second here (1.12 s of an idle
# event-loop container's 20 s, 0 without the check), which is not the
# server's. The cgroup only when the engine does not name the process.
sample_container() {
    local pid files
    pid=$(docker inspect -f '{{.State.Pid}}' "$2" 2>/dev/null) || pid=0
    if [ "${pid:-0}" -gt 0 ] && [ -d /proc/"$pid" ]; then
        sample "$1" proc_usage "$pid" &
    else
        read -r -a files < <(cgroup_files "$2") || return 0
        sample "$1" cgroup_usage "${files[@]}" &
    fi
    pids+=($!)
    sampler_pids+=($!)
}

# sample_process NAME PID: sample a process tree in the background.
sample_process() {
    sample "$1" proc_usage "$2" &
    pids+=($!)
    sampler_pids+=($!)
}

# cpu_count LIST: how many CPUs a cpuset list names ("0-1,3" -> 3).
cpu_count() {
    awk -v list="$1" 'BEGIN { n = split(list, parts, ","); c = 0
        for (i = 1; i <= n; i++) { if (split(parts[i], r, "-") == 2) c += r[2] - r[1] + 1; else c++ }
        print c }'
}

# usage_json NAME CPUS: {"cpu_seconds":..,"wall_seconds":..,"cpus":..} of a
# sampled program, or nothing when it was not sampled.
usage_json() {
    local cpu mem wall
    [ -s "$work_dir/$1.usage" ] || return 0
    read -r cpu mem wall <"$work_dir/$1.usage"
    printf '{"cpu_seconds":%s,"wall_seconds":%s,"cpus":%s}' "$cpu" "$wall" "$(cpu_count "$2")"
}

# write_resources REPORT WHAT: <REPORT without .json>.server.json (schema 2,
# docs/REPORT.md), never replacing a file; prints the server's line. It
# records the network (native, bridge or host) and the somaxconn the
# servers had, and slowapi's injected faults when there were any.
write_resources() {
    local report=$1 what=$2 cpu=null mem=null wall=null json others= name cpus part
    if [ -s "$work_dir/server.usage" ]; then
        read -r cpu mem wall <"$work_dir/server.usage"
    elif [ -n "${swarm_stack:-}" ]; then
        # A Swarm task on another node: its processes are not this host's.
        what="the server ran on another node of the swarm"
    else
        return 0
    fi
    for name in loadgen slowapi; do
        case $name in loadgen) cpus=$loadgen_cpus ;; *) cpus=$slowapi_cpus ;; esac
        part=$(usage_json "$name" "$cpus")
        [ -z "$part" ] || others+=",\"$name\":$part"
    done
    json=${report%.json}.server.json
    # The scenario, when there was one (run/scenario.sh), and a Swarm
    # stack's placement (run/swarm.sh).
    others+=$(scenario_json)$(swarm_json)
    printf '{"schema_version":2,"variant":"%s","workload":"%s","cpu_seconds":%s,"peak_memory_mib":%s,"wall_seconds":%s,"cpus":%s,"measured":"%s"%s,"network":"%s","somaxconn":%s}\n' \
        "$variant" "$workload" "$cpu" "$mem" "$wall" "$(cpu_count "$server_cpus")" "$what" "$others" \
        "$network" "$(somaxconn)" \
        >"$json.tmp" && mv -n "$json.tmp" "$json" && rm -f "$json.tmp"
}
