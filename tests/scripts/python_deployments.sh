#!/usr/bin/env bash
# The classic study's own Python deployments (services/python/), natively:
# every lab-python row of services/variants.tsv is started by lab-python
# against slowapi (0.05 s) and must keep the lab's contract: /healthz names
# it (variant, capacity, impl python), /io answers 200 with FANOUT of FANOUT
# calls ok, /cpu 200, an unknown path 404, and a short loadgen run has no
# failure and 10 upstream calls per answer, at the capacity the row declares
# (gRPC: Describe, Io and Cpu through loadgen --grpc, and docker/lab-health's
# curl health check). An upstream that is down gives 502 and UNAVAILABLE.
# Each deployment stops on SIGTERM with status 0 and leaves no process.
#   BUILD=build/h-py tests/scripts/python_deployments.sh   (BUILD: build)
# Exit: 0 all passed, 1 otherwise (a missing package too: sudo make deps).
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}

# shellcheck source=tests/harness/checks.sh
. tests/harness/checks.sh
# shellcheck source=run/ready.sh
. run/ready.sh

# Debian's interpreter, as lab-python's own #! line: another python3 on
# PATH (pyenv) would not have Debian's packages.
modules=flask,gunicorn,gevent,uvicorn,fastapi,starlette,grpc,google.protobuf,requests,aiohttp,numpy
missing=$(/usr/bin/python3 -c "import $modules" 2>&1 | tail -n 1)
for file in /usr/bin/uwsgi-core /usr/lib/uwsgi/plugins/python3_plugin.so \
    /usr/lib/uwsgi/plugins/gevent_python3_plugin.so; do
    [ -e "$file" ] || missing="$missing${missing:+; }no $file"
done
if [ -n "$missing" ]; then
    echo "FAIL: the Python deployments need Debian's packages (the Makefile's PYTHON_PACKAGES):" \
        "$missing: run 'sudo make deps'"
    exit 1
fi
if ! make -s BUILD="$BUILD" "$BUILD/bin/slowapi" "$BUILD/bin/loadgen" \
        "$BUILD/gen/python/bench_pb2.py" "$BUILD/gen/python/health_pb2.py"; then
    echo "FAIL: make (BUILD=$BUILD) could not build slowapi, loadgen and the protobuf modules"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lab-python.XXXXXX")
launchers=() # "NAME PID SESSION": every deployment started, stopped at the end
slowapi_pid=
started_pid=
cleanup() {
    local entry pid pids=()
    # A second signal must not cut cleanup short (timeout(1) sends its
    # signal to the script and again to its process group).
    trap '' TERM INT
    for entry in "${launchers[@]}"; do
        read -r _ pid _ <<<"$entry"
        pids+=("$pid")
    done
    # One may be starting still, not yet in the list (lab_start sets started_pid).
    [ -z "$started_pid" ] || pids+=("$started_pid")
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    # lab-python kills its server 10 s after the signal: this wait ends.
    [ ${#pids[@]} = 0 ] || wait "${pids[@]}" 2>/dev/null
    [ -z "$slowapi_pid" ] || { kill "$slowapi_pid" 2>/dev/null; wait "$slowapi_pid" 2>/dev/null; }
    rm -rf "$tmp"
}
trap cleanup EXIT
# A signal becomes a plain exit, so that cleanup runs whole (in bash's own
# handling of a deadly signal, its waits are cut short).
trap 'exit 143' TERM
trap 'exit 130' INT

case $BUILD in /*) build_dir=$BUILD ;; *) build_dir=$PWD/$BUILD ;; esac
export LAB_PYTHON_GEN_DIR=$build_dir/gen/python LOG_LEVEL=warn FANOUT=10 LAB_READY_TIMEOUT_S=40
delay=0.05
bin=$BUILD/bin
lab_start slowapi "$tmp" "$bin/slowapi" || { echo "FAIL: slowapi did not start"; exit 1; }
slowapi_pid=$started_pid upstream=http://127.0.0.1:$port

# get PATH: GET it from the deployment into $tmp/body; prints the status.
get() { curl -s -o "$tmp/body" -w '%{http_code}' --max-time 20 "http://127.0.0.1:$port$1"; }
# grpc_status METHOD: the grpc-status of an empty bench.Bench call, by curl.
grpc_status() {
    printf '\0\0\0\0\0' | curl -sS --max-time 20 --http2-prior-knowledge -o /dev/null -v \
        -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @- \
        "http://127.0.0.1:$port/bench.Bench/$1" 2>&1 | sed -n 's/^< grpc-status: \([0-9]*\).*/\1/p'
}

# start NAME SETTINGS [VAR=VALUE...]: start the deployment; sets $port.
start() {
    local name=$1 settings=$2 session
    shift 2
    # shellcheck disable=SC2086 # the settings are words
    if ! lab_start "$name" "$tmp" env SLOW_API_URL="$upstream/?delay=$delay" "$@" READY_TIMEOUT=30 \
            services/python/lab-python --variant "$name" $settings; then
        fail "$name: lab-python reported no port"
        return 1
    fi
    # The server leads a session of its own: what is left of it is in there.
    session=$(pgrep -P "$started_pid" | head -n 1)
    launchers+=("$name $started_pid ${session:-none}")
    [ -n "$session" ] || fail "$name: no server process under lab-python"
}

# loadgen_io NAME CAPACITY [--grpc]: a short run on /io, checked.
loadgen_io() {
    local name=$1 capacity=$2 report=$tmp/$1.json
    shift 2
    "$bin/loadgen" "$@" -c 10 -n 40 --timeout 20 --fanout 10 --delay "$delay" \
        --upstream "$upstream" --json "$report" "http://127.0.0.1:$port/io" \
        >"$tmp/$name.loadgen" 2>&1
    if jq_true --argjson cap "$capacity" '.summary.ok == 40 and .summary.failures == 0
            and .verify.calls_per_answer == 10 and .ceiling.capacity == $cap' "$report"; then
        pass "$name: loadgen 40 of 40 ok, 10 upstream calls per answer, capacity $capacity"
    else
        fail "$name: loadgen on /io"
        jq -c '{summary: .summary | {ok, failures, http_errors, timeouts, errors},
                verify: .verify.calls_per_answer, ceiling}' "$report" 2>&1 | sed 's/^/    | /'
        show_log "$tmp/$name.loadgen"
        show_log "$tmp/$name.log"
    fi
}

# healthz_names NAME CAPACITY TRANSPORT: /healthz answers 200 and says so.
healthz_names() {
    [ "$(get /healthz)" = 200 ] &&
        jq_true --arg v "$1" --argjson cap "$2" --arg t "$3" \
            '.variant == $v and .capacity == $cap and .impl == "python" and .transport == $t' \
            "$tmp/body"
}
io_all_ok() { [ "$(get /io)" = 200 ] && jq_true '.calls == 10 and .ok == 10' "$tmp/body"; }

check_http() {
    local name=$1 capacity=$2
    check "$name: GET /healthz 200: variant, capacity $capacity, impl python" \
        healthz_names "$name" "$capacity" http
    check "$name: GET /io 200 with 10 of 10 calls ok" io_all_ok
    check "$name: GET /cpu 200" test "$(get /cpu)" = 200
    check "$name: GET /nope 404" test "$(get /nope)" = 404
    loadgen_io "$name" "$capacity"
}

check_grpc() {
    local name=$1 capacity=$2
    check "$name: docker/lab-health's gRPC check passes" \
        env LAB_HEALTH=grpc PORT="$port" sh docker/lab-health
    # Two connections (-t 2), as run.sh's loadgen has: grpc.server, its
    # threads busy with the first connection's calls, can be slow to send
    # a second one its SETTINGS (lib/grpc_unary.c's MIN_CONNECT_TIMEOUT_MS).
    loadgen_io "$name" "$capacity" --grpc -t 2
    check "$name: Describe names it (variant, capacity $capacity, impl python)" \
        jq_true --arg v "$name" --argjson cap "$capacity" \
            '.server.variant == $v and .server.capacity == $cap and .server.impl == "python"' \
            "$tmp/$name.json"
    check "$name: Cpu answers OK" test "$(grpc_status Cpu)" = 0
}

# ---- every lab-python row of the variants table -------------------------
while IFS=$'\t' read -r name settings; do
    capacity=$(sed -n 's/.*--capacity \([0-9]*\).*/\1/p' <<<"$settings")
    start "$name" "$settings" || continue
    case $settings in
    *--server\ grpc*) check_grpc "$name" "$capacity" ;;
    *) check_http "$name" "$capacity" ;;
    esac
    # Stopped now, awaited at the end: its graceful stop overlaps the next start.
    kill -TERM "$started_pid"
done < <(awk -F'\t' '$2 == "lab-python" { print $1 "\t" $3 }' services/variants.tsv)

# ---- an upstream that is down -------------------------------------------
down=(SLOW_API_URL=http://127.0.0.1:1/)
io_down() {
    [ "$(get /io)" = 502 ] &&
        jq_true '.error == "upstream failed" and .ok == 0 and .failed == 10' "$tmp/body"
}
if start py-down-http "--server uvicorn" "${down[@]}"; then
    check "upstream down: GET /io 502, upstream failed, 0 of 10 ok" io_down
    kill -TERM "$started_pid"
fi
if start py-down-grpc "--server grpc-aio" "${down[@]}"; then
    check "upstream down: Io ends UNAVAILABLE (14)" test "$(grpc_status Io)" = 14
    kill -TERM "$started_pid"
fi

# ---- every deployment stopped cleanly -----------------------------------
for entry in "${launchers[@]}"; do
    read -r name pid session <<<"$entry"
    wait "$pid"
    status=$?
    if [ "$status" = 0 ]; then
        pass "$name: stopped on SIGTERM, status 0"
    else
        fail "$name: stopped on SIGTERM with status $status"
        show_log "$tmp/$name.log"
    fi
    [ "$session" = none ] ||
        check "$name: no process of it left" bash -c "! pgrep -s '$session' >/dev/null"
done
launchers=() started_pid=

echo "python_deployments: $passed passed, $failed failed"
[ "$failed" = 0 ]
