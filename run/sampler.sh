# Sourced by run.sh: what the server, loadgen and slowapi used over a run,
# CPU seconds and peak memory, written beside the report as
# <report>.server.json (docs/REPORT.md). Each program is sampled twice a
# second into $work_dir/<name>.usage, "CPU_S PEAK_MIB WALL_S", written whole
# and renamed, until its process goes: /proc of the process and its
# children (a master's workers), natively and in Docker alike (there the
# container's first process, found through the engine; loadgen's container
# by its cgroup counters). CPU time after the last sample (at most
# 0.5 s, once the load has ended) is not counted.

# save_usage NAME CPU_S PEAK_MIB WALL_S
save_usage() {
    printf '%s %s %s\n' "$2" "$3" "$4" >"$work_dir/$1.usage.tmp" &&
        mv "$work_dir/$1.usage.tmp" "$work_dir/$1.usage"
}

# cgroup_usage CPU_FILE MEM_FILE: "CPU_S PEAK_MIB" of a container; fails
# once its cgroup is gone. cgroup v1 (cpuacct.usage, ns) or v2 (cpu.stat).
cgroup_usage() {
    local cpu mem
    cpu=$(awk '/^usage_usec/ { printf "%.2f", $2 / 1e6; exit } NF == 1 { printf "%.2f", $1 / 1e9 }' "$1" 2>/dev/null) || return 1
    mem=$(awk '{ printf "%.1f", $1 / 1048576 }' "$2" 2>/dev/null) || return 1
    [ -n "$cpu" ] && [ -n "$mem" ] || return 1
    echo "$cpu $mem"
}

# proc_tree PID: PID and its descendants.
proc_tree() {
    local child
    echo "$1"
    for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do proc_tree "$child"; done
}

# proc_usage PID: "CPU_S PEAK_MIB" of the process tree (CPU time, summed
# VmHWM); fails (1) once PID is gone, and returns 2 without figures when
# nothing of the tree could be read this time (a live process always has
# a peak RSS: an empty reading is no reading, not a zero). A child that
# has exited and been waited for counts in its parent's cutime and cstime.
proc_usage() {
    local ticks=0 hwm_kib=0 pid fields hwm
    [ -d /proc/"$1" ] || return 1
    for pid in $(proc_tree "$1"); do
        read -r -a fields < <(sed 's/.*) //' /proc/"$pid"/stat 2>/dev/null) || continue
        # utime, stime, and cutime, cstime: its children waited for
        ticks=$((ticks + fields[11] + fields[12] + fields[13] + fields[14]))
        hwm=$(awk '/^VmHWM:/ { print $2 }' /proc/"$pid"/status 2>/dev/null) || hwm=0
        hwm_kib=$((hwm_kib + ${hwm:-0}))
    done
    [ "$hwm_kib" -gt 0 ] || return 2
    awk -v t="$ticks" -v hz="$clock_ticks" -v k="$hwm_kib" \
        'BEGIN { printf "%.2f %.1f\n", t / hz, k / 1024 }'
}
clock_ticks=$(getconf CLK_TCK)

# sample NAME READER ARG...: save READER ARG...'s figures and the seconds
# since the first sample until READER fails (a day at most: it ends with
# the program; this only bounds it). CPU time and peak memory only grow:
# a reading below the last one keeps the last one. Such a reading comes
# at the end, when a master's workers have exited and its tree is the
# master alone (coroutine-4x2000 once read 0.05 s and 7.5 MiB so), or
# when a reading is empty (2).
sample() {
    local name=$1 start=$EPOCHREALTIME figures limit=$((SECONDS + 86400))
    shift
    local status cpu peak last_cpu=0 last_peak=0
    while [ "$SECONDS" -lt "$limit" ]; do
        status=0
        figures=$("$@") || status=$?
        [ "$status" -ne 1 ] || break
        if [ "$status" -eq 0 ]; then
            read -r cpu peak <<<"$figures"
            read -r last_cpu last_peak < <(awk -v c="$cpu" -v p="$peak" -v lc="$last_cpu" -v lp="$last_peak" \
                'BEGIN { print (c > lc ? c : lc), (p > lp ? p : lp) }')
            save_usage "$name" "$last_cpu" "$last_peak" "$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')"
        fi
        sleep 0.5
    done
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
}

# sample_process NAME PID: sample a process tree in the background.
sample_process() {
    sample "$1" proc_usage "$2" &
    pids+=($!)
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
