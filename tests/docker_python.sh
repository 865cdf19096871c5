#!/usr/bin/env bash
# Docker test of the classic study's Python deployments: every lab/py-* image
# (make images) becomes healthy by its own HEALTHCHECK (gRPC: a
# grpc.health.v1 call) and answers loadgen's /io (gRPC: Io) against a real
# slowapi with a short delay, with no failure and FANOUT upstream calls per
# answer, and describes itself as the deployment it is; the HTTP ones also
# answer /cpu. Then `./run.sh sync-devserver-threaded io --impl both` in
# Docker writes the C and the Python report and the C and Python table.
#
# Prints PASS/FAIL lines and "N passed, N failed"; exits 0 when all passed,
# 1 otherwise, 77 (skipped) when no Docker engine is reachable.
set -euo pipefail

cd "$(dirname "$0")/.."

if ! docker info >/dev/null 2>&1; then
    echo "SKIP docker python: no Docker engine reachable"
    exit 77
fi

# shellcheck source=tests/harness/checks.sh
. tests/harness/checks.sh
finish() {
    echo "docker python: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

FANOUT=10
HEALTHY_TIMEOUT_S=60
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lab-pytest.XXXXXX")
chmod 755 "$tmp"
net=lab-pytest-$$
containers=()
cleanup() {
    [ ${#containers[@]} -eq 0 ] || docker rm -f "${containers[@]}" >/dev/null 2>&1 || true
    docker network rm "$net" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

# start NAME IMAGE ALIAS [ENV...]: a container on the test's network.
start() {
    local name=$1 image=$2 alias=$3 args=()
    shift 3
    for env in "$@"; do args+=(--env "$env"); done
    containers+=("$name")
    docker run --detach --name "$name" --network "$net" --network-alias "$alias" \
        --cap-drop ALL "${args[@]}" "$image" >/dev/null
}

# healthy NAME: wait (at most HEALTHY_TIMEOUT_S) for the container's own
# HEALTHCHECK to say healthy; 1 when it exits or the time runs out.
healthy() {
    local status deadline=$((SECONDS + HEALTHY_TIMEOUT_S))
    while [ $SECONDS -lt $deadline ]; do
        status=$(docker inspect --format '{{.State.Status}} {{.State.Health.Status}}' "$1")
        case $status in
            "running healthy") return 0 ;;
            exited* | dead*) return 1 ;;
        esac
        sleep 0.5 # between polls of the health endpoint's verdict
    done
    return 1
}

# loadgen_report DIR: the one JSON report loadgen wrote to DIR.
loadgen_report() { find "$1" -maxdepth 1 -name '*.json' | head -n 1; }

# ---- images -------------------------------------------------------------

echo "docker python: make images (cached: seconds; lab/python from nothing: about 2 minutes)"
if make -s images >"$tmp/images.log" 2>&1; then
    pass "make images (the Python deployments' images too)"
else
    fail "make images"
    show_log "$tmp/images.log"
    finish
    exit 1
fi

docker network create --internal "$net" >/dev/null
start "$net-slowapi" lab/slowapi:latest slowapi PORT=8001
check "slowapi is healthy" healthy "$net-slowapi"

# ---- every Python deployment --------------------------------------------

deployments=$(awk -F'\t' '!/^#/ && NF && $2 == "lab-python" { print $1 }' services/variants.tsv)
check "services/variants.tsv lists the 19 Python deployments" \
    test "$(wc -w <<<"$deployments")" = 19
for v in $deployments; do
    settings=$(awk -F'\t' -v n="$v" '$1 == n { print $3 }' services/variants.tsv)
    capacity=$(sed -n 's/.*--capacity \([0-9]*\).*/\1/p' <<<"$settings")
    grpc=
    case $settings in *"--server grpc-"*) grpc=--grpc ;; esac
    sut=$net-$v
    start "$sut" "lab/$v:latest" sut PORT=3000 FANOUT=$FANOUT \
        "SLOW_API_URL=http://slowapi:8001/?delay=0.05"
    if ! healthy "$sut"; then
        fail "$v: healthy by its HEALTHCHECK"
        docker logs "$sut" 2>&1 | tail -n 20 | sed 's/^/    | /'
        docker rm -f "$sut" >/dev/null 2>&1
        continue
    fi
    pass "$v: healthy by its HEALTHCHECK"
    out=$tmp/$v
    mkdir "$out"
    chmod 1777 "$out"
    if docker run --rm --network "$net" --cap-drop ALL --volume "$out:/results" \
            lab/loadgen:latest --mode docker -c 5 -n 40 --fanout "$FANOUT" --delay 0.05 \
            --upstream http://slowapi:8001 --no-markdown --out /results $grpc \
            http://sut:3000/io >"$out.log" 2>&1 &&
        report=$(loadgen_report "$out") && [ -n "$report" ]; then
        check "$v: 40 of 40 /io answered, $FANOUT upstream calls each, described as itself (capacity $capacity)" \
            jq_true --arg v "$v" --argjson cap "$capacity" --argjson f "$FANOUT" '
                .summary.ok == 40 and .summary.issued == 40 and .verify.verdict == "ok"
                and .verify.calls_per_answer == $f and .server.impl == "python"
                and .server.variant == $v and .ceiling.capacity == $cap' "$report"
    else
        fail "$v: loadgen's run on /io"
        show_log "$out.log"
    fi
    if [ -z "$grpc" ]; then
        check "$v: /cpu answers the iterations" bash -c \
            "docker exec '$sut' curl -fsS http://127.0.0.1:3000/cpu | jq -e '.iterations == 1000' >/dev/null"
    fi
    docker rm -f "$sut" >/dev/null
done

# ---- --impl both --------------------------------------------------------

if ./run.sh sync-devserver-threaded io --impl both -c 10 -d 3 --delay 0.1 --no-build \
        --out "$tmp/both" >"$tmp/both.log" 2>&1; then
    pass "run.sh sync-devserver-threaded io --impl both exits 0"
else
    fail "run.sh sync-devserver-threaded io --impl both exits 0"
    show_log "$tmp/both.log"
fi
matrix=$(find "$tmp/both" -maxdepth 1 -type d -name '*_matrix_io' | head -n 1)
check "--impl both ran the C variant and the Python deployment, a report each" \
    test "$(find "$matrix" -name '*_thread-per-request_io.json' -o -name '*_py-flask-dev-threaded_io.json' | wc -l)" = 2
check "the matrix report sets them side by side (C and Python)" \
    grep -q '^## C and Python' "$matrix/report.md"
check "report.json pairs thread-per-request with py-flask-dev-threaded" \
    jq_true '[.pairs[] | select(.c.variant == "thread-per-request"
                              and .python.variant == "py-flask-dev-threaded")] | length == 1' \
        "$matrix/report.json"
check "every JSON of the runs validates against schemas/" \
    /usr/bin/python3 tests/scripts/validate_reports.py "$tmp/both"

finish
