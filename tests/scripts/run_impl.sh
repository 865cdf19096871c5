#!/usr/bin/env bash
# run.sh's --impl, natively: what a classic name and 'all' select for c,
# python and both (run/cli.sh's expand, sourced), the refusals, `list`, and
# one real `--impl both` run of a classic name (its C variant and its Python
# deployment against slowapi on 127.0.0.1) that writes both reports and the
# C and Python table.
set -euo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=tests/harness/checks.sh
. tests/harness/checks.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lab-impl.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# selects IMPL NAME: the variants run.sh's selection gives, on one line.
selects() {
    bash -c '. run/cli.sh
             variants_table=services/variants.tsv classic_table=services/classic-names.tsv
             impl=$1; expand "$2" | paste -sd" " -' _ "$1" "$2"
}

check "a classic name runs its C variants by default" \
    test "$(selects c sync-uwsgi)" = "threadpool-50 threadpool-200 prefork-4x50"
check "--impl python: the study's own deployments of that name" \
    test "$(selects python sync-uwsgi)" = "py-uwsgi-1x50 py-uwsgi-1x200 py-uwsgi-4x50"
check "--impl both: each C variant, then its Python deployment" \
    test "$(selects both async-fastapi)" = "event-loop py-uvicorn-1 event-loop-4 py-uvicorn-4"
check "'all' is the 15 C variants, 'all --impl python' the 19 Python ones" \
    test "$(selects c all | wc -w) $(selects python all | wc -w)" = "15 19"
both=$(selects both all)
check "'all --impl both' is all 34 once, the pairs side by side" \
    bash -c '[ "$(wc -w <<<"$1")" = 34 ] && [ "$(tr " " "\n" <<<"$1" | sort -u | wc -l)" = 34 ] &&
             [[ " $1 " == *" grpc-sync py-grpc-sync "* ]]' _ "$both"

./run.sh list >"$tmp/list" 2>&1
check "list shows the Python deployments apart" \
    bash -c "grep -q 'Python deployments' '$tmp/list' && grep -q '^  py-gunicorn-1x50 ' '$tmp/list'"

status=0
./run.sh sync-uwsgi io --impl rust --native >"$tmp/bad" 2>&1 || status=$?
check "--impl rust: exit 2 and the choices" \
    bash -c "[ $status = 2 ] && grep -q 'c, python or both' '$tmp/bad'"

# One real run of each implementation (natively: no images needed).
if ./run.sh sync-devserver-threaded io --impl both --native -c 10 -d 2 --delay 0.1 \
        --out "$tmp/out" >"$tmp/both.log" 2>&1; then
    pass "run.sh sync-devserver-threaded io --impl both --native exits 0"
else
    fail "run.sh sync-devserver-threaded io --impl both --native exits 0"
    show_log "$tmp/both.log"
fi
matrix=$(find "$tmp/out" -maxdepth 1 -type d -name '*_matrix_io' | head -n 1)
py=$(find "$matrix" -name '*_py-flask-dev-threaded_io.json' | head -n 1)
check "a report of the C variant and one of the Python deployment" \
    test -n "$py" -a -n "$(find "$matrix" -name '*_thread-per-request_io.json')"
check "the Python report: answered, 10 calls each, impl python, Flask's server" \
    jq_true '.summary.ok > 0 and .verify.calls_per_answer == 10
           and .server.impl == "python" and (.server.server | test("[Ww]erkzeug|[Ff]lask"))' "$py"
check "slowapi's CPU model, from its /healthz, is this machine's (loadgen's)" \
    jq_true '.environment.upstream_cpu_model == .environment.cpu_model
           and (.environment.cpu_model | length > 0)' "$py"
check "the Python server's CPU was sampled (its launcher's process tree)" \
    jq_true '.cpu_seconds > 0' "${py%.json}.server.json"
check "the matrix report has the C and Python table" \
    grep -q '^## C and Python' "$matrix/report.md"

echo "run_impl: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
