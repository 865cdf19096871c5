#!/usr/bin/env bash
# Soak (issue 13): does a model leak descriptors or memory over a long run
# with failures? Each model serves the io workload (delay 1 s, c=100) for
# -d seconds against a slowapi that injects faults (-f: errors, resets and
# hangs, so that every failure path runs thousands of times), natively on
# 127.0.0.1. Every second the server's descriptors (entries of
# /proc/PID/fd) and RSS (VmRSS) are read, summed over all its processes (a
# master and its workers), with its sockets sorted by /proc/net: the listen
# socket, clients (loadgen), the upstream (to slowapi), CLOSE_WAIT, sockets
# no table knows (closed but held). Three phases: a baseline (the server
# idle after its /healthz answered), the load (and loadgen's drain), and
# the settle after loadgen has gone: at least 10 s, until no client socket
# is left and the count of descriptors has held for 5 s (30 s at most).
#
# The verdict per model is "no growth" unless one of these fails (the
# thresholds are stated again in the output):
#   descriptors  after − baseline, the kept-alive upstream connections
#                left out (an idle pool the models keep by design: at most
#                FANOUT per call in flight, c × FANOUT, or per thread for
#                the blocking models, whose threads each keep their own curl
#                connections: FANOUT × max(c, threads × workers)), at most
#                FD_SLACK; no client socket, no CLOSE_WAIT and no
#                closed-but-held socket after the load
#   memory       over the steady state, from the end of the first minute
#                or, later, from the last time a thread was engaged (ran
#                for the first time since the baseline: a pool thread's
#                first requests cost memory once, its stack's pages and its
#                own connections): RSS's least-squares slope at most
#                RSS_SLOPE_MAX_KIB_MIN; the mean of the last minute minus
#                that of the steady state's first at most RSS_TREND_MAX_KIB;
#                the RSS after the load minus that at the steady state's
#                start at most RSS_AFTER_MAX_KIB. A steady state shorter
#                than two minutes cannot be judged and fails. (A run under
#                3 min uses windows of a third of it instead of minutes.)
#
# usage: bench/soak.sh [-m MODELS] [-d SECONDS] [-c N] [-f FAULTS]
#                      [-s SEED] [-o DIR] [-h|--help]
#   -m  comma-separated variants (event-loop,coroutine-1x2000,
#       threadpool-200,prefork-4x50,grpc-async)
#   -d  seconds of load per model (600)
#   -c  concurrent clients (100)
#   -f  slowapi's faults ('error=5%,reset=3%,hang=2%': 10% of the upstream
#       calls in all; 'none' for none)
#   -s  the faults' seed (1)
#   -o  output folder (results/<UTC>_soak; must not hold a soak.json)
# Writes DIR/soak.json, DIR/soak.md, DIR/<model>.samples.csv (every
# second), DIR/<model>.log (the programs' logs, shortened) and loadgen's
# reports (DIR/<UTC>_<model>_io.{json,md}); each file written whole and
# renamed, never replacing one. CPU sets as run.sh's (SERVER_CPUS 1,
# LOADGEN_CPUS 0, SLOWAPI_CPUS 0; this script samples from loadgen's).
# Exit status: 0 when every model ran (whatever the verdicts), 1 when one
# could not, 2 on bad usage.
set -euo pipefail

FD_SLACK=2
RSS_SLOPE_MAX_KIB_MIN=256
RSS_TREND_MAX_KIB=1024
RSS_AFTER_MAX_KIB=2048
BASELINE_S=10
SETTLE_MIN_S=10
SETTLE_STABLE_S=5
SETTLE_MAX_S=30
DELAY_S=1
FANOUT=10
UPSTREAM_TIMEOUT_S=5
LOADGEN_TIMEOUT_S=30
LOADGEN_DRAIN_S=5
LOG_KEEP_LINES=200 # of each program's log, first and last

models=event-loop,coroutine-1x2000,threadpool-200,prefork-4x50,grpc-async
duration=600
concurrency=100
faults='error=5%,reset=3%,hang=2%'
seed=1
out=

shown_command="bench/soak.sh${*:+ $*}"
usage() { sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; } # the header comment
bad_usage() {
    echo "soak.sh: $1" >&2
    echo "try 'bench/soak.sh --help'" >&2
    exit 2
}
die() { echo "soak.sh: $*" >&2; exit 1; }

for arg in "$@"; do
    case $arg in
        --help) usage; exit 0 ;;
        --) break ;;
        --*) bad_usage "unknown option $arg" ;;
    esac
done
while getopts ":m:d:c:f:s:o:h" opt; do
    case $opt in
    m) models=$OPTARG ;;
    d) duration=$OPTARG ;;
    c) concurrency=$OPTARG ;;
    f) faults=$OPTARG ;;
    s) seed=$OPTARG ;;
    o) out=$OPTARG ;;
    h) usage; exit 0 ;;
    :) bad_usage "-$OPTARG needs a value" ;;
    *) bad_usage "unknown option -$OPTARG" ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || bad_usage "unexpected argument '$1'"
[[ $duration =~ ^[1-9][0-9]*$ ]] || bad_usage "-d takes whole seconds (> 0), not '$duration'"
[[ $concurrency =~ ^[1-9][0-9]*$ ]] || bad_usage "-c takes a positive integer, not '$concurrency'"
[[ $seed =~ ^[0-9]+$ ]] || bad_usage "-s takes a whole number, not '$seed'"
[ "$faults" != none ] || faults=
fault_re='(error|reset|hang|jitter)=[0-9]+(\.[0-9]+)?%?'
[ -z "$faults" ] || [[ $faults =~ ^$fault_re(,$fault_re)*$ ]] ||
    bad_usage "-f takes NAME=PERCENT,... of error, reset, hang and jitter (or none), not '$faults'"
[[ $models =~ ^[a-z0-9x-]+(,[a-z0-9x-]+)*$ ]] || bad_usage "-m takes a comma-separated list of variants, not '$models'"

lab_dir=$(cd "$(dirname "$0")/.." && pwd)
variants_table=$lab_dir/services/variants.tsv
# variant_field NAME COLUMN: a column of the variant's line in variants.tsv.
variant_field() { awk -F'\t' -v n="$1" -v c="$2" '!/^#/ && $1 == n { print $c }' "$variants_table"; }
IFS=, read -r -a model_list <<<"$models"
for model in "${model_list[@]}"; do
    program=$(variant_field "$model" 2)
    [ -n "$program" ] || bad_usage "-m: no variant '$model' (./run.sh list shows them)"
    [ "$program" != lab-python ] ||
        bad_usage "-m: $model is a Python deployment; the soak runs the C variants"
done

# The machine: descriptors for the server (a process may hold all of c x
# (1 + FANOUT)) and loadgen.
fd_need=$((concurrency * (1 + FANOUT) + 64))
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
ulimit -n "$hard" 2>/dev/null || true
[ "$(ulimit -n)" -ge "$fd_need" ] ||
    die "c=$concurrency needs an open-file limit of $fd_need; this shell's is $(ulimit -n) (hard $hard)"
command -v jq >/dev/null || die "jq is missing (apt-get install jq)"
command -v curl >/dev/null || die "curl is missing (apt-get install curl)"

# The output folder: made now, refused when it holds a soak already.
stamp=$(date -u +%Y%m%dT%H%M%SZ)
if [ -z "$out" ]; then
    out=$lab_dir/results/${stamp}_soak
    mkdir "$out" || die "cannot make $out"
else
    mkdir -p "$out" || die "cannot make $out"
    [ ! -e "$out/soak.json" ] || bad_usage "-o: $out holds a soak.json already (never replaced)"
fi
out=$(cd "$out" && pwd)

# ---- programs, pinning, clean-up ----------------------------------------

# One build for the whole soak: the programs are copied, so that a rebuild
# by someone else during the hour changes nothing under the run.
make -s --no-print-directory -C "$lab_dir" -j"$(nproc)" all >/dev/null ||
    die "make failed (its messages are above)"
work=$(mktemp -d "${TMPDIR:-/tmp}/soak.XXXXXX")
mkdir "$work/bin"
for model in "${model_list[@]}"; do
    cp "$lab_dir/build/bin/$(variant_field "$model" 2)" "$work/bin/"
done
cp "$lab_dir/build/bin/slowapi" "$lab_dir/build/bin/loadgen" "$work/bin/"
git_commit=$(git -C "$lab_dir" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$lab_dir" diff --quiet HEAD -- services lib slowapi loadgen 2>/dev/null || git_commit+=-dirty
export LAB_GIT_COMMIT=$git_commit

server_cpus=${SERVER_CPUS:-1}
loadgen_cpus=${LOADGEN_CPUS:-0}
slowapi_cpus=${SLOWAPI_CPUS:-0}
pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -gt 1 ]; then
    pin=(taskset -c)
    export LAB_CPUS="taskset: server $server_cpus, loadgen $loadgen_cpus, slowapi $slowapi_cpus"
    taskset -cp "$loadgen_cpus" $$ >/dev/null # the sampler stays off the server's CPU
else
    export LAB_CPUS="shared: $(nproc) CPU(s), not pinned"
fi

# shellcheck source=../run/ready.sh
. "$lab_dir/run/ready.sh"

pids=() # started here, stopped newest first
stop_all() {
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" 2>/dev/null || true
    done
    pids=()
}
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    [ ! -t 1 ] || printf '\r\033[K'
    stop_all
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# publish TMP FINAL: rename TMP to FINAL, never over an existing file.
publish() {
    [ ! -e "$2" ] || die "$2 exists: not replaced (the new one is lost)"
    mv -n "$1" "$2"
    [ ! -e "$1" ] || die "$2 appeared meanwhile: not replaced"
}

# ---- sampling -------------------------------------------------------------

# uptime_cs: the monotonic clock (CLOCK_BOOTTIME) in hundredths of a second.
uptime_cs() {
    local up rest
    read -r up rest </proc/uptime
    echo $((10#${up/./}))
}

# proc_tree PID: PID and its descendants (a master's workers).
proc_tree() {
    local child
    [ -d /proc/"$1" ] || return 0
    echo "$1"
    for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do proc_tree "$child"; done
}

csv_header=t_s,phase,procs,threads,engaged,fds,rss_kib,rss_anon_kib,listen,clients,upstream,close_wait,tcp_other,unix,sock_other,other
ENGAGED_NS=1000000 # a thread's CPU time since the baseline that counts it as engaged

# sample T PHASE: one CSV line of the server's process tree, or nothing
# when it is gone. Its sockets by /proc/net: listen and clients on the
# server's port, upstream to slowapi's, CLOSE_WAIT (of any), other TCP,
# unix, sockets no table has (closed, held by a descriptor); other: pipes,
# eventfds, epoll, files. engaged: threads that have run more than
# ENGAGED_NS since the baseline (schedstat's CPU time; a thread born
# later counts from 0): a pool thread's first requests cost memory once
# (its stack's pages, its own upstream connections), which a soak must
# tell from a leak. Each baseline sample writes the threads' CPU times to
# $work/threads.base.
sample() {
    local t=$1 phase=$2 tree=() fd_dirs=() status_files=() sched_files=() p
    readarray -t tree < <(proc_tree "$server_pid")
    [ ${#tree[@]} -gt 0 ] || return 1
    for p in "${tree[@]}"; do
        fd_dirs+=("/proc/$p/fd")
        status_files+=("/proc/$p/status")
        sched_files+=("/proc/$p/task/"*/schedstat)
    done
    {
        find "${fd_dirs[@]}" -mindepth 1 -maxdepth 1 -printf 'fd %l\n' 2>/dev/null || true
        cat "${status_files[@]}" 2>/dev/null || true
        grep -H . "${sched_files[@]}" 2>/dev/null || true
    } | awk -v t="$t" -v phase="$phase" -v procs=${#tree[@]} -v base_file="$work/threads.base" \
            -v sport="$server_port_hex" -v uport="$slowapi_port_hex" -v engaged_ns="$ENGAGED_NS" '
        function port(addr,   n) { n = split(addr, a, ":"); return a[n] }
        function table(file, kind,   line, f, n) {
            while ((getline line < file) > 0) {
                n = split(line, f, " ")
                if (kind == "tcp" && f[1] ~ /:$/) {
                    tcp_state[f[10]] = f[4]; tcp_local[f[10]] = port(f[2]); tcp_remote[f[10]] = port(f[3])
                } else if (kind == "unix" && f[1] ~ /:$/) unix_inode[f[7]] = 1
            }
            close(file)
        }
        BEGIN {
            table("/proc/net/tcp", "tcp"); table("/proc/net/tcp6", "tcp"); table("/proc/net/unix", "unix")
            if (phase != "baseline")
                while ((getline line < base_file) > 0) { split(line, f, " "); base[f[1]] = f[2] }
        }
        /^\/proc\/[0-9]+\/task\/[0-9]+\/schedstat:/ {
            split($1, f, "[/:]"); tid = f[5]; ns = f[7]
            if (phase == "baseline") bases = bases tid " " ns "\n"
            else if (ns - (tid in base ? base[tid] : 0) > engaged_ns) engaged++
            next
        }
        $1 == "fd" {
            fds++
            if ($2 !~ /^socket:\[/) { other++; next }
            inode = substr($2, 9, length($2) - 9)
            if (inode in tcp_state) {
                if (tcp_state[inode] == "08") close_wait++
                if (tcp_local[inode] == sport) { if (tcp_state[inode] == "0A") listen++; else clients++ }
                else if (tcp_remote[inode] == uport) upstream++
                else tcp_other++
            } else if (inode in unix_inode) unix++
            else sock_other++
            next
        }
        $1 == "VmRSS:" { rss += $2 }
        $1 == "RssAnon:" { anon += $2 }
        $1 == "Threads:" { threads += $2 }
        END {
            if (phase == "baseline") { printf "%s", bases > base_file; close(base_file) }
            printf "%s,%s,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d\n", t, phase, procs, threads,
                engaged, fds, rss, anon, listen, clients, upstream, close_wait, tcp_other, unix,
                sock_other, other
        }'
}

# show_status LINE: the status line, redrawn on a terminal, or a line
# every 30 s otherwise (a log).
last_shown_cs=0
show_status() {
    local now
    if [ -t 1 ]; then
        printf '\r%s\033[K' "$1"
        return
    fi
    now=$(uptime_cs)
    [ $((now - last_shown_cs)) -ge 3000 ] || return 0
    last_shown_cs=$now
    printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$1"
}

# status_text CSV_LINE: what the status line says of a sample (and of
# loadgen's progress file while it runs).
status_text() {
    local f progress=
    IFS=, read -r -a f <<<"$1"
    if [ "${f[1]}" = load ] || [ "${f[1]}" = drain ]; then
        progress=$(jq -r '"; requests done \(.done // "?"), errors \(.errors // "?")"' \
            "$work/progress.json" 2>/dev/null) || progress=
    fi
    printf '[%d/%d] %s %s t=%ss: fds %s (upstream %s, clients %s), RSS %s MiB, threads engaged %s%s' \
        "$model_index" "${#model_list[@]}" "$model" "${f[1]}" "${f[0]%.*}" "${f[5]}" "${f[10]}" "${f[9]}" \
        "$(awk -v k="${f[6]}" 'BEGIN { printf "%.1f", k / 1024 }')" "${f[4]}" "$progress"
}

# sampling DONE: a sample a second (on the monotonic clock) into $csv,
# named $phase (load turns to drain at the duration's end), until the
# function DONE says stop (0) or the server is gone (returns 1). The time
# column counts from $load_cs.
sampling() {
    local done_fn=$1 now next t line
    next=$(uptime_cs)
    while :; do
        now=$(uptime_cs)
        [ "$phase" != load ] || [ $((now - load_cs)) -lt $((duration * 100)) ] || phase=drain
        t=$(awk -v n="$now" -v l="$load_cs" 'BEGIN { printf "%.2f", (n - l) / 100 }')
        line=$(sample "$t" "$phase") || return 1
        [ -n "$line" ] || return 1
        echo "$line" >>"$csv"
        show_status "$(status_text "$line")"
        "$done_fn" && return 0
        next=$((next + 100))
        now=$(uptime_cs)
        [ "$next" -gt "$now" ] || next=$now
        sleep "$(awk -v d=$((next - now)) 'BEGIN { printf "%.2f", d / 100 }')"
    done
}

# The ends of the phases, asked after each sample.
baseline_done() { [ "$(awk -F, '$2 == "baseline"' "$csv" | wc -l)" -ge "$BASELINE_S" ]; }
# load_done: loadgen has exited; bounded by its own bounds (the duration,
# a request's timeout, the drain) and a margin: a hung loadgen is stopped
# and the model marked.
load_done() {
    kill -0 "$loadgen_pid" 2>/dev/null || return 0
    if [ $(($(uptime_cs) - load_cs)) -gt $(((duration + LOADGEN_TIMEOUT_S + LOADGEN_DRAIN_S + 60) * 100)) ]; then
        kill "$loadgen_pid" 2>/dev/null || true
        loadgen_hung=1
        return 0
    fi
    return 1
}
# settle_done: SETTLE_MIN_S samples at least, no client socket left and
# the same count of descriptors for SETTLE_STABLE_S samples; or
# SETTLE_MAX_S samples.
settle_done() {
    awk -F, -v min="$SETTLE_MIN_S" -v stable="$SETTLE_STABLE_S" -v max="$SETTLE_MAX_S" '
        $2 == "after" { n++; fds[n] = $6; clients[n] = $10 }
        END {
            if (n >= max) exit 0
            if (n < min || clients[n] > 0) exit 1
            for (i = n - stable + 1; i < n; i++) if (fds[i] != fds[n]) exit 1
            exit 0
        }' "$csv"
}

# describe PORT GRPC: the server's self-description (GET /healthz, or the
# gRPC Describe method over h2c), one line of JSON.
describe() {
    if [ "$2" = 1 ]; then
        printf '\0\0\0\0\0' | curl -s --max-time 5 --http2-prior-knowledge \
            -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @- \
            "http://127.0.0.1:$1/bench.Bench/Describe" | grep -ao '{.*}'
    else
        curl -s --max-time 5 --fail "http://127.0.0.1:$1/healthz"
    fi
}

# shorten_log FILE: its first and last LOG_KEEP_LINES lines, and how many
# were left out (a soak with faults logs a line per failed call).
shorten_log() {
    local n
    n=$(wc -l <"$1")
    if [ "$n" -le $((2 * LOG_KEEP_LINES)) ]; then
        cat "$1"
    else
        head -n "$LOG_KEEP_LINES" "$1"
        echo "[... $((n - 2 * LOG_KEEP_LINES)) lines left out of $n ...]"
        tail -n "$LOG_KEEP_LINES" "$1"
    fi
}

run_model() {
    local program settings grpc=0 slowapi_port healthz loadgen_status=0 report
    program=$(variant_field "$model" 2)
    settings=$(variant_field "$model" 3)
    [ "$settings" != - ] || settings=
    [ "$program" = "$model" ] && [ -z "$settings" ] || settings="--variant $model $settings"
    case $program in grpc-*) grpc=1 ;; esac
    csv=$work/$model.samples.csv
    echo "$csv_header" >"$csv"
    rm -f "$work"/*.log "$work/progress.json" "$work/report.json"
    loadgen_hung=0
    server_died=0

    LAB_PORT=0
    # shellcheck disable=SC2086 # settings are words
    lab_start slowapi "$work" env "WORKERS=1" "PORTS=1" "FAULTS=$faults" "FAULT_SEED=$seed" \
        "${pin[@]}" ${pin:+"$slowapi_cpus"} "$work/bin/slowapi" || die "$model: slowapi did not start"
    pids+=("$started_pid")
    slowapi_port=$port
    # shellcheck disable=SC2086 # settings are words
    lab_start server "$work" env "SLOW_API_URL=http://127.0.0.1:$slowapi_port/?delay=$DELAY_S" \
        "SLOW_API_PORTS=1" "FANOUT=$FANOUT" "UPSTREAM_TIMEOUT=$UPSTREAM_TIMEOUT_S" "UPSTREAM_HTTP=1.1" \
        "LAB_MODEL=$(variant_field "$model" 4)" \
        "${pin[@]}" ${pin:+"$server_cpus"} "$work/bin/$program" $settings ||
        die "$model: the server did not start"
    pids+=("$started_pid")
    server_pid=$started_pid
    server_port=$port
    server_port_hex=$(printf '%04X' "$server_port")
    slowapi_port_hex=$(printf '%04X' "$slowapi_port")
    healthz=$(describe "$server_port" "$grpc") && [ -n "$healthz" ] ||
        die "$model: its self-description (/healthz or Describe) did not answer"
    # The answering process is the server or one of its workers.
    local answering
    answering=$(jq -r '.pid' <<<"$healthz")
    [[ $'\n'$(proc_tree "$server_pid")$'\n' == *$'\n'"$answering"$'\n'* ]] ||
        die "$model: /healthz answered from pid $answering, not in the tree of $server_pid"

    load_cs=$(uptime_cs) # until the load starts, baseline times count back from here
    local base_start=$load_cs
    phase=baseline
    sampling baseline_done || die "$model: the server exited while idle"
    # Baseline times are relative to the load's start: shift them once it is known.
    local args=(--mode native --out "$out" --variant "$model" -c "$concurrency" -d "$duration"
                --timeout "$LOADGEN_TIMEOUT_S" --drain "$LOADGEN_DRAIN_S" --fanout "$FANOUT"
                --delay "$DELAY_S" --upstream "http://127.0.0.1:$slowapi_port"
                --progress-file "$work/progress.json" --json "$work/report.json")
    [ "$grpc" = 0 ] || args+=(--grpc)
    touch "$work/marker"
    load_cs=$(uptime_cs)
    "${pin[@]}" ${pin:+"$loadgen_cpus"} "$work/bin/loadgen" "${args[@]}" \
        "http://127.0.0.1:$server_port/io" >"$work/loadgen.log" 2>&1 &
    loadgen_pid=$!
    pids+=("$loadgen_pid")
    awk -F, -v OFS=, -v shift_s="$(awk -v a="$load_cs" -v b="$base_start" 'BEGIN { print (a - b) / 100 }')" \
        'NR > 1 { $1 = sprintf("%.2f", $1 - shift_s) } 1' "$csv" >"$csv.tmp" && mv "$csv.tmp" "$csv"
    phase=load
    sampling load_done || server_died=1
    wait "$loadgen_pid" || loadgen_status=$?
    unset 'pids[${#pids[@]}-1]'
    if [ "$server_died" = 0 ]; then
        phase=after
        sampling settle_done || server_died=1
    fi
    [ ! -t 1 ] || printf '\r\033[K'
    stop_all

    # The report loadgen wrote (its name is the run's UTC start).
    [ -s "$work/report.json" ] || {
        tail -n 20 "$work/loadgen.log" >&2
        die "$model: loadgen wrote no report (exit status $loadgen_status)"
    }
    report=$(find "$out" -maxdepth 1 -name "*_${model}_io.json" -newer "$work/marker" -printf '%f\n' | sort | tail -n 1)
    {
        for log in slowapi server loadgen; do
            echo "==== $log"
            shorten_log "$work/$log.log"
        done
    } >"$out/.$model.log.tmp"
    publish "$out/.$model.log.tmp" "$out/$model.log"
    cp "$csv" "$out/.$model.samples.csv.tmp"
    publish "$out/.$model.samples.csv.tmp" "$out/$model.samples.csv"
    analyse "$csv" "$work/report.json" "$healthz" "$report" "$loadgen_status" >"$work/$model.result.json"
    jq -r '"\(.model): \(.verdict)  (fds \(.fds.baseline) -> \(.fds.after), RSS \(.rss_kib.baseline) -> \(.rss_kib.after) KiB, slope \(.rss_kib.slope_kib_per_min) KiB/min; rps \(.load.rps), failures \(.load.failures))"' \
        "$work/$model.result.json"
}

# analyse CSV REPORT HEALTHZ REPORT_NAME LOADGEN_STATUS: the model's figures
# and verdict, one JSON object.
analyse() {
    jq -n --rawfile csv "$1" --slurpfile report "$2" --argjson healthz "$3" \
        --arg report_name "$4" --argjson loadgen_status "$5" --arg model "$model" \
        --argjson d "$duration" --argjson c "$concurrency" --argjson fanout "$FANOUT" \
        --argjson fd_slack "$FD_SLACK" --argjson slope_max "$RSS_SLOPE_MAX_KIB_MIN" \
        --argjson trend_max "$RSS_TREND_MAX_KIB" --argjson after_max "$RSS_AFTER_MAX_KIB" \
        --argjson hung "$loadgen_hung" --argjson died "$server_died" '
    def mean: if length == 0 then null else add / length end;
    def slope: # least squares of [x, y] pairs: y per x
        length as $n
        | if $n < 2 then null else
            (map(.[0]) | add / $n) as $mx | (map(.[1]) | add / $n) as $my
            | (map((.[0] - $mx) * (.[1] - $my)) | add) as $sxy
            | (map((.[0] - $mx) * (.[0] - $mx)) | add) as $sxx
            | if $sxx == 0 then null else $sxy / $sxx end
          end;
    def r1: if . == null then null else (. * 10 | round) / 10 end;
    ($csv | split("\n") | map(select(length > 0))) as $lines
    | ($lines[0] | split(",")) as $cols
    | [$lines[1:][] | split(",") as $v
        | reduce range(0; $cols | length) as $i ({};
            .[$cols[$i]] = (if $cols[$i] == "phase" then $v[$i] else ($v[$i] | tonumber) end))] as $s
    | (if $d >= 180 then 60 else ([1, ($d / 3 | floor)] | max) end) as $w
    | ($s | map(select(.phase == "baseline")) | last) as $base
    | ($s | map(select(.phase == "load"))) as $load
    | ($s | map(select(.phase == "load" or .phase == "drain"))) as $during
    | ($s | map(select(.phase == "after"))) as $after_all
    | ($after_all | last) as $after
    # The steady state: from the end of the first window, or from the
    # last sample where another thread was engaged, if later.
    | ($load | [range(1; length) as $i | select(.[$i].engaged > .[$i - 1].engaged) | .[$i].t_s]
        | max // 0) as $last_engaged
    | ([$w, $last_engaged] | max) as $steady
    | ($d - $steady >= 2 * $w) as $judged
    | ($load | map(select(.t_s >= $steady and .t_s < $steady + $w) | .rss_kib) | mean) as $first_w
    | ($load | map(select(.t_s >= $d - $w) | .rss_kib) | mean) as $last_w
    | ([$load[] | select(.t_s >= $steady)] | first // ($load | last)) as $at_steady
    | ($load | map(select(.t_s >= $steady) | [.t_s / 60, .rss_kib]) | slope) as $slope
    | ($load | map(select(.t_s >= $steady) | [.t_s / 60, .fds]) | slope) as $fd_slope
    # The same from minute 2 whatever the threads did, for comparison.
    | ($load | map(select(.t_s >= $w) | [.t_s / 60, .rss_kib]) | slope) as $slope_min2
    | ($load | map(select(.t_s >= $w and .t_s < 2 * $w) | .rss_kib) | mean) as $second_w
    | ($report[0].summary) as $sum
    | ($fanout * ([$c, ($healthz.threads // 1) * ($healthz.workers // 1)] | max)) as $pool_max
    | (if $after == null or $base == null then null
       else ($after.fds - $after.upstream) - ($base.fds - $base.upstream) end) as $fd_other_growth
    | [ (if $died == 1 then "the server exited" else empty end),
        (if $hung == 1 then "loadgen did not end (stopped)" else empty end),
        (if $after == null then empty else
          (if $fd_other_growth > $fd_slack then "descriptors +\($fd_other_growth) besides the upstream pool (> \($fd_slack))" else empty end),
          (if $after.clients > 0 then "\($after.clients) client sockets left" else empty end),
          (if $after.close_wait > $base.close_wait then "\($after.close_wait) sockets in CLOSE_WAIT" else empty end),
          (if $after.sock_other > $base.sock_other then "\($after.sock_other - $base.sock_other) closed sockets held" else empty end),
          (if $after.upstream > $pool_max then "upstream pool \($after.upstream) > \($pool_max)" else empty end),
          (if $judged and $after.rss_kib - $at_steady.rss_kib > $after_max then "RSS after the load \($after.rss_kib - $at_steady.rss_kib) KiB above the steady state'"'"'s start (> \($after_max))" else empty end)
        end),
        (if $judged | not then "threads engaged until t=\($last_engaged | floor) s: under two minutes of steady state to judge memory by" else empty end),
        (if $judged and $slope != null and $slope > $slope_max then "RSS slope \($slope | r1) KiB/min (> \($slope_max))" else empty end),
        (if $judged and $first_w != null and $last_w != null and $last_w - $first_w > $trend_max then "RSS last minute \(($last_w - $first_w) | r1) KiB above the steady state'"'"'s first (> \($trend_max))" else empty end)
      ] as $fails
    | {
        model: $model,
        variant: $healthz.variant, program_model: $healthz.model, transport: $healthz.transport,
        processes: {baseline: $base.procs, after: $after.procs},
        threads: {baseline: $base.threads, after: $after.threads,
                  engaged_end_first_window: ([$load[] | select(.t_s >= $w)] | first // ($load | last) | .engaged),
                  engaged_end: ($load | last | .engaged), last_engaged_s: $last_engaged},
        window_s: $w, steady_from_s: $steady, memory_judged: $judged,
        fds: {
          baseline: $base.fds, peak: ($during | map(.fds) | max), after: $after.fds,
          growth: (if $after == null then null else $after.fds - $base.fds end),
          upstream_baseline: $base.upstream, upstream_peak: ($during | map(.upstream) | max),
          upstream_after: $after.upstream, upstream_pool_max: $pool_max,
          growth_besides_upstream: $fd_other_growth,
          clients_after: $after.clients, close_wait_after: $after.close_wait,
          closed_sockets_after: $after.sock_other,
          slope_per_min: ($fd_slope | r1)
        },
        rss_kib: {
          baseline: $base.rss_kib, peak: ($during | map(.rss_kib) | max), after: $after.rss_kib,
          at_steady_start: $at_steady.rss_kib,
          steady_first_window_mean: ($first_w | r1), last_window_mean: ($last_w | r1),
          trend: (if $first_w == null or $last_w == null then null else ($last_w - $first_w) | r1 end),
          slope_kib_per_min: ($slope | r1),
          after_minus_steady_start: (if $after == null then null else $after.rss_kib - $at_steady.rss_kib end),
          from_minute_2: {slope_kib_per_min: ($slope_min2 | r1),
                          trend: (if $second_w == null or $last_w == null then null else ($last_w - $second_w) | r1 end)},
          anon_baseline: $base.rss_anon_kib, anon_after: $after.rss_anon_kib
        },
        settle_s: ($after_all | length),
        load: {
          report: $report_name, loadgen_status: $loadgen_status,
          rps: $sum.rps, issued: $sum.issued, ok: $sum.ok, failures: $sum.failures,
          http_errors: $sum.http_errors, timeouts: $sum.timeouts, errors: $sum.errors,
          unfinished: $sum.unfinished, p50_ms: $report[0].percentiles_ms["50"],
          p99_ms: $report[0].percentiles_ms["99"]
        },
        verdict: (if ($fails | length) == 0 then "no growth" else "GROWTH: " + ($fails | join("; ")) end)
      }'
}

# ---- the soak ---------------------------------------------------------------

# render_markdown SOAK_JSON: soak.md.
render_markdown() {
    jq -r --arg command "$shown_command" '
    def mib: if . == null then "–" else (. / 1024 * 10 | round / 10 | tostring) end;
    def num: if . == null then "–" else tostring end;
    def signed: if . == null then "–" elif . > 0 then "+\(.)" else tostring end;
    def grpc_names: with_entries(.key |= ({"1": "1 CANCELLED", "2": "2 UNKNOWN",
        "4": "4 DEADLINE_EXCEEDED", "8": "8 RESOURCE_EXHAUSTED", "13": "13 INTERNAL",
        "14": "14 UNAVAILABLE"}[.] // .));
    def kinds: to_entries | map("\(.key): \(.value)") | join(", ") | if . == "" then "–" else . end;
    .settings as $s | .thresholds as $t |
    "# Soak: \(.models | map(.model) | join(", "))",
    "",
    "`\($command)`: \($s.duration_s) s of load per model at c=\($s.concurrency), natively on 127.0.0.1 (\(.cpus)); GET /io fans out \($s.fanout) calls to slowapi (delay \($s.delay_s) s) with faults `\($s.faults)` (seed \($s.fault_seed)), the server'"'"'s upstream timeout \($s.upstream_timeout_s) s. From \(.start) to \(.end), commit \(.git_commit).",
    "",
    "Every second, the server'"'"'s descriptors (entries of /proc/PID/fd) and RSS (VmRSS), summed over its processes (a master and its workers): \($s.baseline_s) samples idle after /healthz answered (baseline), the load and loadgen'"'"'s drain, then after loadgen has gone, \($s.settle_min_s) samples at least, until no client socket is left and the count has held for \($s.settle_stable_s) s (\($s.settle_max_s) at most; the last sample is \"after\"). Sockets are sorted by /proc/net: the kept-alive connections to slowapi (the upstream pool, which every model keeps open by design) are counted apart; at most FANOUT per call in flight (c × FANOUT), or, in the blocking models, whose pool threads each keep their own curl connections, FANOUT per thread: FANOUT × max(c, threads × workers). A thread is engaged once it has run more than 1 ms since the baseline (/proc/PID/task/TID/schedstat): at c=100 a pool of 200 threads has about half of them busy, and the others serve their first request at random moments, each paying once for its stack'"'"'s pages and its own connections; memory is judged over the steady state, from the end of the first minute or from the last newly engaged thread if later. The \"minutes\" are windows of \(.models[0].window_s) s (a minute; a third of the load in a run under 3 min).",
    "",
    "Verdict \"no growth\" unless: descriptors after − baseline besides the upstream pool > \($t.fd_growth_besides_upstream_max); a client socket, a CLOSE_WAIT or a closed socket held after the load; the pool above its bound; over the steady state, RSS'"'"'s least-squares slope > \($t.rss_slope_max_kib_per_min) KiB/min, the last minute'"'"'s mean RSS − the steady state'"'"'s first minute'"'"'s > \($t.rss_trend_max_kib) KiB, or RSS after the load − RSS at the steady state'"'"'s start > \($t.rss_after_minus_steady_start_max_kib) KiB; or a steady state under two minutes.",
    "",
    "| model | processes, threads | threads engaged: 1st min, end | steady from s | fds baseline | fds peak | fds after | after − baseline | of it upstream pool (max) | RSS baseline MiB | RSS peak MiB | RSS after MiB | last − first steady min KiB | slope KiB/min | after − steady start KiB | verdict |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    (.models[] |
     "| \(.model) | \(.processes.after | num), \(.threads.after | num) | \(.threads.engaged_end_first_window | num), \(.threads.engaged_end | num) | \(.steady_from_s | floor) | \(.fds.baseline) | \(.fds.peak) | \(.fds.after | num) | \(.fds.growth | signed) | \((.fds.upstream_after // null) as $a | if $a == null then "–" else "\($a - .fds.upstream_baseline) (\(.fds.upstream_pool_max))" end) | \(.rss_kib.baseline | mib) | \(.rss_kib.peak | mib) | \(.rss_kib.after | mib) | \(.rss_kib.trend | signed) | \(.rss_kib.slope_kib_per_min | signed) | \(.rss_kib.after_minus_steady_start | signed) | \(.verdict) |"),
    "",
    "The load (loadgen'"'"'s reports beside this file; failures by kind: HTTP statuses (gRPC codes for grpc-*), timeouts, connection errors):",
    "",
    "| model | rps | issued | ok | failures | by status | timeouts | connection errors | unfinished | p50 ms | p99 ms | report |",
    "|---|--:|--:|--:|--:|---|--:|---|--:|--:|--:|---|",
    (.models[] | .model as $model | .transport as $transport | .load |
     "| \($model) | \(.rps) | \(.issued) | \(.ok) | \(.failures) | \(.http_errors | if $transport == "grpc" then grpc_names else . end | kinds) | \(.timeouts) | \(.errors | with_entries(select(.value > 0)) | kinds) | \(.unfinished) | \(.p50_ms | num) | \(.p99_ms | num) | [\(.report)](\(.report)) |"),
    "",
    "Per model: `<model>.samples.csv` (every second: phase, processes, threads, threads engaged, fds, RSS and anonymous RSS in KiB, sockets by kind), `<model>.log` (the programs'"'"' logs, shortened), and the figures above in soak.json."
    ' "$1"
}

echo "soak.sh: ${model_list[*]}: ${duration} s each at c=$concurrency, delay ${DELAY_S} s, faults '${faults:-none}' (seed $seed); into ${out#"$PWD"/}"
start_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)
model_index=0
results=()
for model in "${model_list[@]}"; do
    model_index=$((model_index + 1))
    run_model
    results+=("$work/$model.result.json")
done

jq -s --arg start "$start_utc" --arg finish "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --arg command "$shown_command" --arg faults "${faults:-none}" --argjson seed "$seed" \
    --argjson d "$duration" --argjson c "$concurrency" --argjson fanout "$FANOUT" \
    --argjson delay "$DELAY_S" --argjson upstream_timeout "$UPSTREAM_TIMEOUT_S" \
    --arg commit "$git_commit" --arg cpus "$LAB_CPUS" \
    --argjson fd_slack "$FD_SLACK" --argjson slope_max "$RSS_SLOPE_MAX_KIB_MIN" \
    --argjson trend_max "$RSS_TREND_MAX_KIB" --argjson after_max "$RSS_AFTER_MAX_KIB" \
    --argjson baseline_s "$BASELINE_S" --argjson settle_min "$SETTLE_MIN_S" \
    --argjson settle_stable "$SETTLE_STABLE_S" --argjson settle_max "$SETTLE_MAX_S" '{
        "soak": 1, "command": $command, "start": $start, "end": $finish, "git_commit": $commit,
        mode: "native", cpus: $cpus,
        settings: {duration_s: $d, concurrency: $c, fanout: $fanout, delay_s: $delay,
                   upstream_timeout_s: $upstream_timeout, faults: $faults, fault_seed: $seed,
                   baseline_s: $baseline_s, settle_min_s: $settle_min,
                   settle_stable_s: $settle_stable, settle_max_s: $settle_max},
        thresholds: {fd_growth_besides_upstream_max: $fd_slack,
                     rss_slope_max_kib_per_min: $slope_max, rss_trend_max_kib: $trend_max,
                     rss_after_minus_steady_start_max_kib: $after_max},
        models: .
    }' "${results[@]}" >"$out/.soak.json.tmp"
publish "$out/.soak.json.tmp" "$out/soak.json"
render_markdown "$out/soak.json" >"$out/.soak.md.tmp"
publish "$out/.soak.md.tmp" "$out/soak.md"
echo
sed -n '/^| model | processes/,/^$/p' "$out/soak.md"
echo "soak.sh: ${out#"$PWD"/}/soak.md, soak.json, <model>.samples.csv"
