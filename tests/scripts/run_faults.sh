#!/usr/bin/env bash
# run.sh --faults: slowapi's injected faults through a whole run, natively
# with a 0.1 s upstream and the small variants of tests/fixtures/
# variants.tsv. A malformed spec exits 2 before anything starts; a run with
# errors and hangs has its failures in their buckets (502 for an upstream
# error, 504 for a hang at the upstream timeout), issued = the sum of the
# buckets, the faults and their seed in server.json and the Markdown; one
# client and a fixed number of requests make the draws land on the same
# requests again with the same seed (the same 502s and 504s), and
# elsewhere with another; a matrix records the faults in its plan.
#
# run_faults.sh --docker: instead, one run in Docker (the docker suite's
# tests/docker_e2e.sh runs it after make images): event-loop at c=20 for
# 4 s on a 0.2 s upstream that errs, resets and hangs; its 502s and 504s
# are in their buckets and nothing else failed, issued = the sum of the
# buckets, the faults and their seed in server.json and the Markdown, no
# container left. Exits 77 (skipped, saying why) without a Docker engine,
# Compose or the lab's images: it builds none (--no-build).
set -uo pipefail
cd "$(dirname "$0")/../.."

mode=native
case ${1:-} in
"") ;;
--docker) mode=docker ;;
*) echo "usage: $0 [--docker]" >&2; exit 2 ;;
esac

tools=(jq /usr/bin/python3)
[ "$mode" = docker ] || tools+=(gnuplot)
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is missing (make deps)"; exit 77; }
done

# shellcheck source=tests/harness/checks.sh
. tests/harness/checks.sh
jqe() { jq -e "$@" >/dev/null; }
[ "$mode" = native ] || need_docker lab/event-loop lab/slowapi lab/loadgen lab/labreport
make -s all >/dev/null 2>&1 || { echo "run_faults: make failed"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lab-faults.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# ---- in Docker (--docker) -------------------------------------------------
# 10 calls a request: 1 in 10 requests with a hang (504 at the 0.5 s
# upstream timeout), about 1 in 4 with an error (502), the rest ok. A reset
# rarely makes a 502: it comes before any byte of the answer, which on a
# kept-alive connection looks like one the upstream closed meanwhile, and
# the server sends the call again once on a new one, as curl does
# (upstream_h1.c), with another draw. At c=20 for 4 s some 300 requests,
# so every bucket has dozens whichever requests the draws fall on (the
# calls of 20 clients reach slowapi in no fixed order: the seed fixes the
# draws, not which request gets them).
if [ "$mode" = docker ]; then
    spec='error=3%,reset=2%,hang=1%'
    started=$(date +%s)
    ./run.sh event-loop io -c 20 -d 4 --delay 0.2 --timeout 5 --upstream-timeout 0.5 --no-build \
        --faults "$spec" --fault-seed 7 --out "$tmp/docker" >"$tmp/docker.log" 2>&1
    status=$?
    check "run.sh event-loop io --faults ... in Docker exits 0 (in $(($(date +%s) - started)) s)" \
        test "$status" = 0
    [ "$status" = 0 ] || show_log "$tmp/docker.log"
    report=$(find "$tmp/docker" -maxdepth 1 -name '*_event-loop_io.json' | head -n 1)
    report=${report:-/nonexistent}
    jq -c '.summary | {issued, ok, http_errors, timeouts, errors, unfinished}' "$report" 2>&1 |
        sed 's/^/    | /'
    check "Docker: 502s (upstream errors) and 504s (hangs), with requests ok besides" \
        jqe '.mode == "docker" and .summary.http_errors["502"] > 0
             and .summary.http_errors["504"] > 0 and .summary.ok > 0' "$report"
    check "Docker: nothing else failed: no other status, no timeout, no connection error" \
        jqe '(.summary.http_errors | keys - ["502", "504"]) == [] and .summary.timeouts == 0
             and ([.summary.errors[]] | add) == 0' "$report"
    check "Docker: issued = the sum of the buckets" \
        jqe '.summary.issued == .summary.ok + ([.summary.http_errors[]] | add) + .summary.timeouts
             + ([.summary.errors[]] | add) + .summary.unfinished' "$report"
    check "Docker: server.json records the faults and their seed" \
        jqe --arg s "$spec" '.faults == $s and .fault_seed == 7' "${report%.json}.server.json"
    check "Docker: the Markdown says so" \
        grep -qF "Injected faults: $spec (seed 7)" "${report%.json}.md"
    check_project_gone "$tmp/docker.log"
    if /usr/bin/python3 tests/scripts/validate_reports.py "$tmp/docker" >"$tmp/validate.log" 2>&1; then
        pass "Docker: every JSON validates against schemas/"
    else
        fail "Docker: every JSON validates against schemas/"
        show_log "$tmp/validate.log"
    fi
    echo "run_faults --docker: $passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
fi

# ---- natively -------------------------------------------------------------
export LAB_VARIANTS_TABLE=$PWD/tests/fixtures/variants.tsv
short=(--native --delay 0.1 --timeout 5 --upstream-timeout 0.5)
spec='error=20%,hang=5%'

./run.sh threadpool-5 io "${short[@]}" -c 2 -d 2 --faults 'error=5%,crash=1%' \
    --out "$tmp/bad" >"$tmp/bad.log" 2>&1
check "a malformed --faults exits 2, naming what it wants" \
    bash -c "[ $? = 2 ] && grep -q 'NAME one of error, reset, hang, jitter' '$tmp/bad.log' && [ ! -e '$tmp/bad' ]"

# run NAME SEED: one client, 30 requests of 10 calls, into $tmp/NAME.
run() {
    ./run.sh threadpool-5 io "${short[@]}" -c 1 -n 30 --faults "$spec" --fault-seed "$2" \
        --out "$tmp/$1" >"$tmp/$1.log" 2>&1
}
run first 1
check "a run with --faults exits 0" test $? = 0
report=$(find "$tmp/first" -maxdepth 1 -name '*_threadpool-5_io.json' | head -n 1)
report=${report:-/nonexistent}
check "its failures are 502s (upstream errors) and 504s (hangs), with requests ok besides" \
    jqe '.summary.http_errors["502"] > 0 and .summary.http_errors["504"] > 0 and .summary.ok > 0' "$report"
check "issued = the sum of the buckets" \
    jqe '.summary.issued == .summary.ok + .summary.failures + .summary.unfinished' "$report"
check "server.json records the faults and their seed" \
    jqe --arg s "$spec" '.faults == $s and .fault_seed == 1' "${report%.json}.server.json"
check "the Markdown says so" grep -q "Injected faults: $spec (seed 1)" "${report%.json}.md"

# The same seed: the same statuses; another: others.
statuses() { jq -c '[.summary.http_errors["502"], .summary.http_errors["504"], .summary.ok]' "$1"; }
run again 1
run other 2
again=$(find "$tmp/again" -maxdepth 1 -name '*_threadpool-5_io.json' | head -n 1)
other=$(find "$tmp/other" -maxdepth 1 -name '*_threadpool-5_io.json' | head -n 1)
check "the same seed gives the same failures ($(statuses "$report"))" \
    test "$(statuses "$report")" = "$(statuses "${again:-/nonexistent}")"
check "another seed gives others ($(statuses "${other:-/nonexistent}"))" \
    test "$(statuses "$report")" != "$(statuses "${other:-/nonexistent}")"

# A matrix: the faults reach every point and its plan.
./run.sh all io --only threadpool-5,event-loop "${short[@]}" -c 2 -d 2 --faults "$spec" \
    --out "$tmp/matrix" >"$tmp/matrix.log" 2>&1
plan=$(find "$tmp/matrix" -name plan.json | head -n 1)
check "a matrix records the faults in its plan and its report" \
    bash -c "jq -e --arg s '$spec' '.settings.faults == \$s' '${plan:-/nonexistent}' >/dev/null &&
             grep -q 'injected faults (slowapi)' '$(dirname "${plan:-/x}")/report.md'"
check "every point of it ran with them" \
    bash -c "for f in '$(dirname "${plan:-/x}")'/*_io.server.json; do jq -e '.faults' \"\$f\" >/dev/null || exit 1; done"

if /usr/bin/python3 tests/scripts/validate_reports.py "$tmp/first" "$tmp/matrix" >"$tmp/validate.log" 2>&1; then
    pass "every report, plan and matrix report validates against schemas/"
else
    fail "every report, plan and matrix report validates against schemas/"
    show_log "$tmp/validate.log"
fi

echo "run_faults: $passed passed, $failed failed"
[ "$failed" = 0 ]
