# Sourced by run.sh: what one run needs of the machine, checked before
# anything starts, so that a run that cannot fit is refused with its
# figures (exit 1) rather than started to half-fail, and a matrix skips such
# a point in its plan. --no-limit-check leaves it out.
#
# limits_check VARIANT C prints one line per finding, "refuse<TAB>text",
# "busy<TAB>text" (what earlier runs hold for a while yet: waited out) or
# "warn<TAB>text". The arithmetic, per run (README, "Limits"):
#
# Descriptors, per server process. A request in flight holds its inbound
# socket and, over an HTTP/1.1 upstream, one connection per concurrent call:
# held / processes x (1 + FANOUT), + 64 for the process's own (listening
# socket, epoll, pipes, curl's). Over h2c (--upstream-http 2) calls are
# streams: a blocking thread (a client of its own) holds one connection, a
# loop's calls share a few, about held x FANOUT / 100 (slowapi allows 1000
# streams a connection; a client assumes 100 until it has said so). Held:
# the requests the variant serves at once, min(c, capacity): the other
# clients of a pool or a coroutine limit wait in the listen queue, which
# costs the server no descriptor. gRPC: loadgen's calls share a few HTTP/2 connections. The
# limit a process gets: natively `ulimit -Hn` (the C programs raise their
# soft limit to it; a Python deployment keeps `ulimit -Sn`), NOFILE when
# given (run.sh then sets it with ulimit -n); in Docker the containers'
# ulimits.nofile, NOFILE (20000), which the engine's own hard limit bounds.
# loadgen is one process: c sockets (a few for gRPC) + 64.
#
# Ephemeral ports, per destination address and port: a client has the
# size of ip_local_port_range for each. server -> slowapi: held x FANOUT
# connections over HTTP/1.1, few over h2c; run.sh gives slowapi a port for
# every half of the range (limits_slowapi_ports; slowapi --ports, the
# servers' SLOW_API_PORTS), 16 at most; a Python deployment calls one.
# loadgen -> server, c. Natively and with --network host the host's range;
# on Docker's bridge the containers' own network namespace's, a new
# namespace's default 32768-60999 (28,232).
#
# Memory (resident, rough, on the high side): a C server ~20 KiB per socket
# of a request in flight, 20 x (1 + FANOUT) KiB a request, + 8 MiB a
# process (measured natively at c=1000 over HTTP/1.1: thread-per-request
# 232 MiB, its stacks touched a few pages each; coroutine-1x2000 203 MiB,
# stacks of 256 KiB of address space of which 12-20 KiB touched,
# services/core/coro.c; event-loop 210 MiB in docs/PERFORMANCE.md, 33 MiB
# with issue 12's own upstream client); a Python deployment ~350 KiB a
# request (uvicorn and gevent at c=1000) + 100 MiB a process; slowapi 8 KiB
# an upstream connection (47 MiB for 10,000); loadgen 16 KiB a connection;
# the kernel ~4 KiB a socket end. Against MemAvailable: refused above it,
# a warning above half of it.
# Thread stacks (thread-per-request: c threads x `ulimit -s`, 8 MiB) are
# address space; they count only under strict overcommit
# (vm.overcommit_memory=2: CommitLimit - Committed_AS).
#
# Threads and mappings: thread-per-request (and a Python thread per
# connection) needs c threads: kernel.pid_max and kernel.threads-max less
# the tasks running, and natively `ulimit -u` for a user other than root.
# A thread's stack or a coroutine's is two mappings (stack, guard): 2 x held
# per process + 1000 against vm.max_map_count.
#
# Connection tracking: every connection (loadgen's c and the upstream's) is
# an entry of nf_conntrack while open: refused above the free entries
# (nf_conntrack_max - nf_conntrack_count), when the table is there.
#
# Warnings only: clients of a bounded model waiting in the listen queue
# beyond min(backlog 4096, somaxconn) (their connects are retried, 1 s, 3 s:
# latency, not failures); memory above half of MemAvailable.
#
# LAB_MEM_AVAILABLE_MIB stands in for MemAvailable (the tests' refusal),
# LAB_EPHEMERAL_PORTS for the size of the ephemeral range (the tests' runs
# on several slowapi ports, at a concurrency a test can afford),
# LAB_CONNTRACK ("count max") for the connection-tracking table and
# LAB_BUSY_WAIT_S for how long limits_enforce waits (the tests' refusal
# and wait).

limits_fd_margin=64
# slowapi's ports at most (slowapi/slowapi.h), and the connections a run
# puts on one: half the ephemeral range (limits_read). The kernel looks for
# a free port on each connect, and the fuller the range the longer it
# looks: event-loop-4 at c=2000 over HTTP/1.1 made 0.874 of its ceiling
# with its 20,000 connections on one port (0.55 ms of server CPU a
# request) and 0.996 on two (0.26 ms); at c=5000, two ports of 25,000 gave
# nothing but 504s, four of 12,500 none.
limits_slowapi_ports_max=16
# Streams a loop puts on one h2c connection: slowapi takes 1000
# (slowapi/h2.c), a client assumes 100 until slowapi's SETTINGS come.
limits_h2_streams=100

# group N: 22064 -> 22,064, whatever the locale.
group() {
    local n=$1 out=
    while [ ${#n} -gt 3 ]; do
        out=,${n: -3}$out
        n=${n:0:${#n}-3}
    done
    printf '%s%s' "$n" "$out"
}

# mib KIB: KiB as "420 MiB" or "4.2 GiB".
mib() {
    awk -v k="$1" 'BEGIN { if (k >= 1048576) printf "%.1f GiB", k / 1048576; else printf "%d MiB", k / 1024 }'
}

# limits_read: the machine's figures, once per run.sh.
limits_read() {
    [ -z "${limits_ready:-}" ] || return 0
    limits_ready=1
    local low high
    if [ "$lab_mode" = docker ]; then
        lim_nofile=$nofile_limit
        lim_nofile_soft=$nofile_limit
        lim_nofile_what="NOFILE, the containers' ulimits.nofile"
        lim_engine_nofile=$(engine_nofile)
    else
        lim_nofile=$(ulimit -Hn)
        lim_nofile_soft=$(ulimit -Sn)
        lim_nofile_what="ulimit -Hn"
        lim_engine_nofile=
    fi
    [ "$lim_nofile" != unlimited ] || lim_nofile=$(cat /proc/sys/fs/nr_open)
    [ "$lim_nofile_soft" != unlimited ] || lim_nofile_soft=$lim_nofile
    if [ "$lab_mode" = docker ] && { [ "$network" = bridge ] || [ "$network" = overlay ]; }; then
        low=32768 high=60999
        lim_ports_what="the containers' own ip_local_port_range, a new network namespace's $low-$high"
    else
        read -r low high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || { low=32768 high=60999; }
        lim_ports_what="ip_local_port_range $low-$high"
    fi
    lim_ports=$((high - low + 1))
    [ -z "${LAB_EPHEMERAL_PORTS:-}" ] || lim_ports=$LAB_EPHEMERAL_PORTS
    limits_port_share=$((lim_ports / 2))
    lim_mem_kib=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo 2>/dev/null)
    [ -z "${LAB_MEM_AVAILABLE_MIB:-}" ] || lim_mem_kib=$((LAB_MEM_AVAILABLE_MIB * 1024))
    lim_somaxconn=$(somaxconn)
    local pid_max threads_max running
    pid_max=$(cat /proc/sys/kernel/pid_max 2>/dev/null || echo 32768)
    threads_max=$(cat /proc/sys/kernel/threads-max 2>/dev/null || echo "$pid_max")
    running=$(awk '{ split($4, t, "/"); print t[2] }' /proc/loadavg 2>/dev/null || echo 0)
    if [ "$threads_max" -lt "$pid_max" ]; then
        lim_tasks=$threads_max lim_tasks_what="kernel.threads-max"
    else
        lim_tasks=$pid_max lim_tasks_what="kernel.pid_max"
    fi
    lim_tasks_running=${running:-0}
    lim_nproc=
    if [ "$lab_mode" = native ] && [ "$(id -u)" != 0 ] && [ "$(ulimit -u)" != unlimited ]; then
        lim_nproc=$(ulimit -u)
    fi
    lim_map_count=$(cat /proc/sys/vm/max_map_count 2>/dev/null || echo 65530)
    lim_stack_kib=8192
    if [ "$lab_mode" = native ] && [ "$(ulimit -s)" != unlimited ]; then lim_stack_kib=$(ulimit -s); fi
    lim_commit_free_kib=
    if [ "$(cat /proc/sys/vm/overcommit_memory 2>/dev/null)" = 2 ]; then
        lim_commit_free_kib=$(awk '/^CommitLimit:/ { l = $2 } /^Committed_AS:/ { c = $2 } END { print l - c }' /proc/meminfo)
    fi
    lim_conntrack_free=
    local count
    if [ -n "${LAB_CONNTRACK:-}" ]; then
        read -r count lim_conntrack_max <<<"$LAB_CONNTRACK"
        lim_conntrack_free=$((lim_conntrack_max - count))
    elif [ -r /proc/sys/net/netfilter/nf_conntrack_max ] && [ -r /proc/sys/net/netfilter/nf_conntrack_count ]; then
        lim_conntrack_max=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
        lim_conntrack_free=$((lim_conntrack_max - $(cat /proc/sys/net/netfilter/nf_conntrack_count)))
    fi
}

# engine_nofile: the Docker engine's hard limit of open files (a container
# can get no more), or nothing when it cannot be read.
engine_nofile() {
    local pid
    pid=$(pgrep -xo dockerd 2>/dev/null) || return 0
    awk '/^Max open files/ { print $5 }' /proc/"$pid"/limits 2>/dev/null || true
}

# somaxconn: the accept queue's bound the servers get: on Docker's bridge
# the containers' sysctl (SOMAXCONN, 4096), else the host's.
somaxconn() {
    if [ "$lab_mode" = docker ] && [ "$network" = bridge ]; then
        echo "${SOMAXCONN:-4096}"
    else
        cat /proc/sys/net/core/somaxconn 2>/dev/null || echo 4096
    fi
}

# limits_model VARIANT C: what the variant holds at concurrency C, in
# m_processes (serving processes), m_held (requests served at once),
# m_capacity (0: unbounded), m_kind (thread: a blocking thread per request
# held, each its own upstream client; loop: one loop per process), m_threads
# (threads started per request: thread per connection), m_grpc, m_python.
limits_model() {
    local v=$1 c=$2 program threads
    program=$(variant_field "$v" 2)
    m_processes=$(variant_setting "$v" --workers 1)
    m_kind=loop m_threads=0 m_grpc=0 m_python=0 m_capacity=0
    case $program in
        single-thread) m_kind=thread m_capacity=1 ;;
        threadpool | prefork)
            threads=$(variant_setting "$v" --threads 1)
            m_kind=thread m_capacity=$((m_processes * threads)) ;;
        thread-per-request) m_kind=thread m_threads=1 ;;
        coroutine) m_capacity=$((m_processes * $(variant_setting "$v" --connections 1000))) ;;
        grpc-sync) m_kind=thread m_grpc=1 m_capacity=$(variant_setting "$v" --threads 10) ;;
        grpc-async) m_grpc=1 ;;
        lab-python)
            m_python=1
            m_capacity=$(variant_setting "$v" --capacity 0)
            case $(variant_setting "$v" --server '') in
                grpc-*) m_grpc=1 ;;
            esac
            case $(variant_setting "$v" --server '') in
                flask-dev-threaded) m_kind=thread m_threads=1 ;;
                flask-dev | uwsgi | gunicorn | grpc-sync) m_kind=thread ;;
            esac ;;
    esac
    m_held=$c
    [ "$m_capacity" = 0 ] || [ "$m_capacity" -ge "$c" ] || m_held=$m_capacity
}

# limits_need VARIANT C [UPSTREAM_HTTP]: the figures of one variant at C,
# in n_held_pp, n_upstream_pp (connections to slowapi per process),
# n_fds_pp, n_upstream (all processes'), n_loadgen_fds.
limits_need() {
    local http=${3:-$upstream_http}
    limits_model "$1" "$2"
    n_held_pp=$(( (m_held + m_processes - 1) / m_processes ))
    if [ "$workload" != io ]; then
        n_upstream_pp=0
    elif [ "$http" = 1.1 ]; then
        n_upstream_pp=$((n_held_pp * fanout))
    elif [ "$m_kind" = thread ]; then
        n_upstream_pp=$n_held_pp
    else
        n_upstream_pp=$(( (n_held_pp * fanout + limits_h2_streams - 1) / limits_h2_streams ))
    fi
    local inbound=$n_held_pp
    [ "$m_grpc" = 0 ] || inbound=0
    n_fds_pp=$((inbound + n_upstream_pp + limits_fd_margin))
    n_upstream=$((n_upstream_pp * m_processes))
    n_loadgen_fds=$((2 + limits_fd_margin))
    [ "$m_grpc" = 1 ] || n_loadgen_fds=$(($2 + limits_fd_margin))
}

# limits_slowapi_ports VARIANT C: slowapi's ports for the run, one for
# every limits_port_share connections the server keeps to it.
limits_slowapi_ports() {
    limits_read
    limits_need "$1" "$2"
    local ports=$(( (n_upstream + limits_port_share - 1) / limits_port_share ))
    echo $((ports > 1 ? ports : 1))
}

# limits_slowapi_workers VARIANT C: slowapi's processes: one for every
# slowapi_conns_per_worker connections (an HTTP/1.1 call is one; over h2c
# the calls are streams of a few, and one process holds them all), as
# many on each port.
limits_slowapi_workers() {
    local ports workers
    ports=$(limits_slowapi_ports "$1" "$2")
    limits_need "$1" "$2"
    workers=$(( (n_upstream + slowapi_conns_per_worker - 1) / slowapi_conns_per_worker ))
    [ "$workers" -ge 1 ] || workers=1
    echo $(( (workers + ports - 1) / ports * ports ))
}

# over_http TEXT: "over HTTP/1.1" or "over h2c" for the io workload.
over_http() {
    [ "$workload" = io ] || return 0
    if [ "$upstream_http" = 1.1 ]; then printf ' over HTTP/1.1'; else printf ' over h2c'; fi
}

# siblings VARIANT: the variants of the same program with more processes.
siblings() {
    local v=$1 program workers
    program=$(variant_field "$v" 2)
    workers=$(variant_setting "$v" --workers 1)
    rows "$variants_table" | awk -F'\t' -v p="$program" -v v="$v" '$2 == p && $1 != v { print $1 }' |
        while read -r name; do
            [ "$(variant_setting "$name" --workers 1)" -gt "$workers" ] && echo "$name"
        done
    return 0
}

# limits_check VARIANT C: the findings, "refuse<TAB>text" or "warn<TAB>text".
limits_check() {
    local v=$1 c=$2 limit what text remedies=() name fds_h2 cmax sib=()
    limits_read
    limits_need "$v" "$c"
    local held_pp=$n_held_pp upstream_pp=$n_upstream_pp fds_pp=$n_fds_pp upstream=$n_upstream
    local processes=$m_processes held=$m_held capacity=$m_capacity python=$m_python
    local threads=$m_threads grpc=$m_grpc loadgen_fds=$n_loadgen_fds
    local where="in one process"
    [ "$processes" = 1 ] || where="in each of its $processes processes"

    if [ "$python" = 1 ] && [ "$upstream_http" != 1.1 ] && [ "$workload" = io ]; then
        printf 'refuse\t%s calls the upstream over HTTP/1.1 only (a Python deployment): leave --upstream-http 2 out\n' "$v"
    fi
    if [ -n "${lim_engine_nofile:-}" ] && [ "$lim_nofile" -gt "$lim_engine_nofile" ]; then
        printf 'refuse\tNOFILE=%s is above the Docker engine'"'"'s own hard limit of %s open files: a container gets no more (runc: "error setting rlimit type 7"): use NOFILE=%s or less\n' \
            "$lim_nofile" "$(group "$lim_engine_nofile")" "$lim_engine_nofile"
    fi

    # Descriptors per server process.
    limit=$lim_nofile what=$lim_nofile_what
    if [ "$python" = 1 ] && [ "$lab_mode" = native ]; then
        limit=$lim_nofile_soft what="ulimit -Sn (a Python deployment keeps its soft limit)"
    fi
    if [ "$fds_pp" -gt "$limit" ]; then
        text="$v at c=$c$(over_http) needs ~$(group "$fds_pp") descriptors $where"
        if [ "$grpc" = 1 ]; then
            text+=" ($(group "$held_pp") requests in flight x $fanout upstream connections + $limits_fd_margin)"
        elif [ "$upstream_pp" -gt 0 ]; then
            text+=" ($(group "$held_pp") clients + $(group "$upstream_pp") upstream connections + $limits_fd_margin)"
        fi
        text+="; the hard limit is $(group "$limit") ($what)"
        remedies=()
        if [ "$upstream_http" = 1.1 ] && [ "$workload" = io ] && [ "$python" = 0 ]; then
            limits_need "$v" "$c" 2
            fds_h2=$n_fds_pp
            remedies+=("--upstream-http 2 (~$(group "$fds_h2")$([ "$fds_h2" -le "$limit" ] || echo ", still too many"))")
        fi
        sib=()
        for name in $(siblings "$v"); do
            limits_need "$name" "$c"
            sib+=("$name needs ~$(group "$n_fds_pp") each$([ "$n_fds_pp" -le "$limit" ] || echo ", still too many")")
        done
        [ ${#sib[@]} -eq 0 ] || remedies+=("a variant with more processes ($(joined '; ' "${sib[@]}"))")
        if [ "$capacity" = 0 ] || [ "$capacity" -ge "$c" ]; then
            cmax=$(( (limit - limits_fd_margin) * processes / (1 + upstream_pp / (held_pp > 0 ? held_pp : 1)) ))
            [ "$grpc" = 1 ] && [ "$fanout" -gt 0 ] && cmax=$(( (limit - limits_fd_margin) * processes / fanout ))
            [ "$cmax" -lt 1 ] || remedies+=("at most c=$(group "$cmax")")
        fi
        if [ "$lab_mode" = docker ] && [ -n "${lim_engine_nofile:-}" ] && [ "$lim_engine_nofile" -gt "$limit" ]; then
            remedies+=("NOFILE up to the engine's $(group "$lim_engine_nofile")")
        fi
        printf 'refuse\t%s: use %s\n' "$text" "$(remedy_list "${remedies[@]}")"
    fi

    # Ephemeral ports to slowapi: a port of its own for every ~25,000
    # connections (limits_slowapi_ports), 16 at most.
    local ports
    ports=$(limits_slowapi_ports "$v" "$c")
    if [ "$ports" -gt "$limits_slowapi_ports_max" ]; then
        text="$v at c=$c$(over_http) opens ~$(group "$upstream") connections to slowapi; a client has $(group "$lim_ports") ephemeral ports for each of slowapi's ports ($lim_ports_what), and slowapi listens on $limits_slowapi_ports_max at most"
        remedies=()
        if [ "$upstream_http" = 1.1 ]; then
            limits_need "$v" "$c" 2
            remedies+=("--upstream-http 2 (~$(group "$n_upstream") connections)")
        fi
        printf 'refuse\t%s: use %s\n' "$text" "$(remedy_list "${remedies[@]}")"
    elif [ "$ports" -gt 1 ] && [ "$python" = 1 ]; then
        printf 'refuse\t%s at c=%s opens ~%s connections to slowapi, more than one port'"'"'s %s ephemeral ports (%s), and a Python deployment calls one port: use at most c=%s\n' \
            "$v" "$c" "$(group "$upstream")" "$(group "$lim_ports")" "$lim_ports_what" \
            "$(group $((limits_port_share / (fanout > 0 ? fanout : 1))))"
    fi

    # loadgen, one process.
    if [ "$loadgen_fds" -gt "$lim_nofile" ]; then
        printf 'refuse\tloadgen at c=%s needs ~%s descriptors in its one process; the hard limit is %s (%s): use at most c=%s\n' \
            "$c" "$(group "$loadgen_fds")" "$(group "$lim_nofile")" "$lim_nofile_what" "$(group $((lim_nofile - limits_fd_margin)))"
    fi
    if [ "$grpc" = 0 ] && [ "$c" -gt "$lim_ports" ]; then
        printf 'refuse\tloadgen at c=%s opens %s connections to the server'"'"'s one address; a client has %s ephemeral ports for it (%s)\n' \
            "$c" "$(group "$c")" "$(group "$lim_ports")" "$lim_ports_what"
    fi

        if [ $(( (c * fanout + slowapi_conns_per_worker - 1) / slowapi_conns_per_worker )) -gt 64 ]; then
        printf 'refuse\tslowapi would need more than 64 processes for c=%s x %s calls\n' "$c" "$fanout"
    fi

    # Threads started per connection, and mappings.
    if [ "$threads" = 1 ]; then
        local free=$((lim_tasks - lim_tasks_running))
        if [ $((held + 64)) -gt "$free" ]; then
            printf 'refuse\t%s at c=%s starts a thread per client, %s; the machine has room for %s more tasks (%s %s, %s running): use a thread pool (threadpool-200) or at most c=%s\n' \
                "$v" "$c" "$(group "$held")" "$(group "$free")" "$lim_tasks_what" "$(group "$lim_tasks")" \
                "$(group "$lim_tasks_running")" "$(group $((free > 64 ? free - 64 : 0)))"
        fi
        if [ -n "$lim_nproc" ] && [ $((held + 64)) -gt "$lim_nproc" ]; then
            printf 'refuse\t%s at c=%s starts %s threads; this user may have %s (ulimit -u)\n' \
                "$v" "$c" "$(group "$held")" "$(group "$lim_nproc")"
        fi
    fi
    if [ "$threads" = 1 ] || { [ "$(variant_field "$v" 2)" = coroutine ] && [ "$python" = 0 ]; }; then
        local maps=$((2 * held_pp + 1000))
        if [ "$maps" -gt "$lim_map_count" ]; then
            printf 'refuse\t%s at c=%s needs ~%s memory mappings %s (a stack and its guard per %s); vm.max_map_count is %s\n' \
                "$v" "$c" "$(group "$maps")" "$where" "$([ "$threads" = 1 ] && echo thread || echo coroutine)" \
                "$(group "$lim_map_count")"
        fi
    fi

    # Memory, KiB.
    local per_request server_kib rest_kib total_kib
    if [ "$python" = 1 ]; then
        per_request=350
        server_kib=$((processes * 102400 + held * per_request))
    else
        per_request=$((20 * (1 + fanout)))
        [ "$workload" = io ] || per_request=64
        server_kib=$((processes * 8192 + held * per_request))
    fi
    rest_kib=$((16384 + upstream * 8 + 32768 + c * 16 + 2 * (c + upstream) * 4))
    total_kib=$((server_kib + rest_kib))
    if [ -n "$lim_mem_kib" ]; then
        text="$v at c=$c needs about $(mib "$total_kib") of memory (the server ~$(mib "$server_kib"), $(group "$held") requests x ~$per_request KiB; slowapi, loadgen and the kernel's sockets ~$(mib "$rest_kib"))"
        if [ "$total_kib" -gt "$lim_mem_kib" ]; then
            printf 'refuse\t%s; MemAvailable is %s: use a lower -c\n' "$text" "$(mib "$lim_mem_kib")"
        elif [ "$total_kib" -gt $((lim_mem_kib / 2)) ]; then
            printf 'warn\t%s, more than half of MemAvailable (%s)\n' "$text" "$(mib "$lim_mem_kib")"
        fi
    fi
    if [ "$threads" = 1 ] && [ -n "$lim_commit_free_kib" ] && [ $((held * lim_stack_kib)) -gt "$lim_commit_free_kib" ]; then
        printf 'refuse\t%s at c=%s reserves %s of thread stacks (%s x %s KiB), and strict overcommit (vm.overcommit_memory=2) leaves %s\n' \
            "$v" "$c" "$(mib $((held * lim_stack_kib)))" "$(group "$held")" "$lim_stack_kib" "$(mib "$lim_commit_free_kib")"
    fi

    # Connection tracking. Above the table's size: refused. Above its free
    # entries: "busy", what earlier runs left (a closed connection's entry
    # stays 120 s in TIME_WAIT; a run at c=5000 over HTTP/1.1 leaves
    # 55,000), which limits_enforce waits out.
    local tracked=$((upstream + (grpc == 1 ? 2 : c)))
    if [ -n "$lim_conntrack_free" ] && [ "$tracked" -gt "$lim_conntrack_max" ]; then
        printf 'refuse\t%s at c=%s keeps ~%s connections open; the connection-tracking table holds %s (nf_conntrack_max)\n' \
            "$v" "$c" "$(group "$tracked")" "$(group "$lim_conntrack_max")"
    elif [ -n "$lim_conntrack_free" ] && [ "$tracked" -gt "$lim_conntrack_free" ]; then
        printf 'busy\t%s at c=%s keeps ~%s connections open; the connection-tracking table has %s free entries of %s (nf_conntrack_max): the rest are connections of earlier runs, kept 120 s after they closed\n' \
            "$v" "$c" "$(group "$tracked")" "$(group "$lim_conntrack_free")" "$(group "$lim_conntrack_max")"
    fi

    # Clients of a bounded model waiting in the listen queue.
    if [ "$capacity" != 0 ] && [ "$c" -gt "$capacity" ]; then
        local queue=$lim_somaxconn
        [ "$queue" -le 4096 ] || queue=4096
        if [ $((c - capacity)) -gt "$queue" ]; then
            printf 'warn\t%s serves %s at once: %s clients wait in a listen queue of %s (somaxconn %s, backlog 4096); connects beyond it are retried (1 s, 3 s, ...), latency rather than failures\n' \
                "$v" "$(group "$capacity")" "$(group $((c - capacity)))" "$(group "$queue")" "$(group "$lim_somaxconn")"
        fi
    fi
    return 0
}

# joined SEP ITEM...: the items with SEP between them.
joined() {
    local sep=$1 out=$2 item
    shift 2
    for item in "$@"; do out+=$sep$item; done
    printf '%s' "$out"
}

# remedy_list A B C: "A, B, or C".
remedy_list() {
    local n=$# i=0 out='' item
    for item in "$@"; do
        i=$((i + 1))
        if [ $i = 1 ]; then out=$item
        elif [ $i = "$n" ]; then out+=", or $item"
        else out+=", $item"; fi
    done
    printf '%s' "${out:-a lower -c}"
}

# point_check VARIANT C: why the point cannot run here (its refusals, joined
# with "; "), or nothing; its warnings go to stderr. For the matrix's plan.
point_check() {
    local kind text reasons=()
    [ "$limit_check" = 1 ] || return 0
    while IFS=$'\t' read -r kind text; do
        case $kind in
            refuse) reasons+=("$text") ;;
            warn) printf 'run.sh: warning: %s\n' "$text" >&2 ;;
            busy) ;; # waited out when the point starts (limits_enforce)
        esac
    done < <(limits_check "$1" "$2")
    [ ${#reasons[@]} -eq 0 ] || joined '; ' "${reasons[@]}"
}

# limits_enforce VARIANT C: a single run, or a point of a matrix when it
# starts: its warnings, and exit 1 with every refusal when it cannot fit.
# What earlier runs hold and will let go (busy) is waited out, at most
# limits_busy_wait_s, showing what it waits for.
limits_busy_wait_s=${LAB_BUSY_WAIT_S:-150}
limits_enforce() {
    local kind text refused busy waited=0 shown=
    [ "$limit_check" = 1 ] || return 0
    while :; do
        refused=0 busy=
        while IFS=$'\t' read -r kind text; do
            case $kind in
                refuse) printf 'run.sh: cannot run: %s\n' "$text" >&2; refused=1 ;;
                busy) busy=$text ;;
                # (a matrix gave its points' warnings with its plan)
                warn) [ "$waited" -gt 0 ] || [ "$in_matrix" = 1 ] || printf 'run.sh: warning: %s\n' "$text" >&2 ;;
            esac
        done < <(limits_ready=; limits_check "$1" "$2")
        [ "$refused" = 0 ] || die "nothing was started (the limits were checked before the run; --no-limit-check skips the check)"
        [ -n "$busy" ] || return 0
        if [ "$waited" -ge "$limits_busy_wait_s" ]; then
            printf 'run.sh: cannot run: %s (waited %s s)\n' "$busy" "$waited" >&2
            die "nothing was started (the limits were checked before the run; --no-limit-check skips the check)"
        fi
        [ -n "$shown" ] || { say "waiting (at most $limits_busy_wait_s s): $busy"; shown=1; }
        sleep 2
        waited=$((waited + 2))
    done
}
