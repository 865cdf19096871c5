#!/usr/bin/env bash
# run.sh's open loop (--rate, --step, --check, --samples, --sweep rate=),
# natively with a 0.1 s upstream: the refusals, exit 2 before any load
# (--step without a list of rates, a rate sweep of non-numbers, -n with
# --rate, a malformed check, and loadgen's own refusal of an unknown
# metric); a run with --rate R1,R2 --step S whose options reach loadgen (its
# report's config.rate and checks) and whose samples are kept beside its
# report; a failed check (exit 3, every file written); and a rate sweep:
# plan.json and the points record each rate, the rows carry it and the
# ceiling min(rate, the closed one), the overloaded variant's p99 leaves the
# delay, report.md has "Latency against offered load" and
# latency-vs-rate.svg, failed checks are listed and make the exit status 3,
# and `report` rebuilds it all byte for byte. The variants are the small
# ones of tests/fixtures/variants.tsv.
set -uo pipefail
cd "$(dirname "$0")/../.."

for tool in gnuplot jq /usr/bin/python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is missing (make deps)"; exit 77; }
done
# run.sh runs the programs of the Makefile's BUILD folder (build/ by default).
make -s all >/dev/null 2>&1 || { echo "run_rate: make failed"; exit 1; }
"${BUILD:-build}"/bin/loadgen --help 2>&1 | grep -q -- '--rate' ||
    { echo "SKIP: this loadgen has no --rate"; exit 77; }

# shellcheck source=tests/harness/checks.sh
. tests/harness/checks.sh
jqe() { jq -e "$@" >/dev/null; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lab-rate.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export LAB_VARIANTS_TABLE=$PWD/tests/fixtures/variants.tsv
short=(--native -c 10 --delay 0.1 --timeout 5)

# refused NAME PATTERN ARGS...: ./run.sh ARGS exits 2 and says PATTERN.
refused() {
    local name=$1 pattern=$2 status=0
    shift 2
    ./run.sh "$@" --out "$tmp/refused" >"$tmp/refused.log" 2>&1 || status=$?
    if [ "$status" = 2 ] && grep -q -- "$pattern" "$tmp/refused.log"; then
        pass "$name"
    else
        fail "$name (exit $status)"
        show_log "$tmp/refused.log"
    fi
}

# ---- refusals, before any load ------------------------------------------
refused "--step without a list of rates: exit 2" "--step goes with a list of rates" \
    event-loop io "${short[@]}" --rate 50 --step 10s
refused "a list of rates without --step: exit 2" "needs --step" \
    event-loop io "${short[@]}" --rate 50,100
refused "--sweep rate= with a non-number: exit 2" "--sweep rate= wants numbers" \
    all io --only event-loop "${short[@]}" --sweep rate=20,fast
refused "-n with an open loop: exit 2" "-n goes with the closed loop" \
    event-loop io "${short[@]}" --rate 50 -n 100
refused "a malformed check: exit 2" "is not METRIC OP NUMBER" \
    event-loop io "${short[@]}" --check 'p99<<1s'
refused "loadgen's refusal of an unknown metric: bad usage, exit 2" \
    "loadgen refused its options (exit status 2)" \
    event-loop io "${short[@]}" -d 1 --check 'p99<1100ms,speed>5'
check "no report was written for a refused run" \
    bash -c "! compgen -G '$tmp/refused/*.json' >/dev/null"

# ---- one run: steps, checks and samples reach loadgen --------------------
./run.sh event-loop io "${short[@]}" --rate 20,40 --step 1 --check 'failures = 0' --samples \
    --out "$tmp/single" >"$tmp/single.log" 2>&1
status=$?
check "--rate 20,40 --step 1 --check ... --samples: exit 0" test "$status" = 0
[ "$status" = 0 ] || show_log "$tmp/single.log"
report=$(ls "$tmp"/single/*_event-loop_io.json 2>/dev/null | head -n 1)
check "loadgen ran the steps: config.rate, 2 s (2 x 1 s)" \
    jqe '.config.load == "open" and .config.rate.schedule == "steps"
         and .config.rate.rates == [20, 40] and .config.duration_s == 2' "${report:-/nonexistent}"
check "loadgen made the check, blanks removed" \
    jqe '.checks | length == 1 and .[0].expr == "failures=0" and .[0].pass' "${report:-/nonexistent}"
samples=$(jq -r '.samples.path // "none"' "${report:-/nonexistent}" 2>/dev/null)
check "the report names its samples by name alone, beside it, gzip'd CSV" \
    bash -c "[[ '$samples' == *_event-loop_io.samples.csv.gz ]] &&
             gzip -dc '$tmp/single/$samples' | head -n 1 | grep -q '^# loadgen samples'"

# ---- a failed check: exit 3 once everything is written -------------------
./run.sh event-loop io "${short[@]}" -d 1 --rate 20 --check 'rps>100000' --out "$tmp/failed" \
    >"$tmp/failed.log" 2>&1
check "a failed check: exit 3" test $? = 3
check "run.sh said so" grep -q 'a check failed' "$tmp/failed.log"
check "the run's JSON, Markdown, resources and log are all there" \
    test "$(ls "$tmp"/failed/*_event-loop_io.{json,md,server.json,log} 2>/dev/null | wc -l)" = 4

# ---- a rate sweep -------------------------------------------------------
# threadpool-5 serves 50 rps at 0.1 s (5 threads): at 80 it is overloaded,
# requests queue, and its corrected p99 leaves the delay; event-loop keeps
# up with both rates over its 10 connections (100 rps). Every check fails
# (rps>100000): the matrix still runs every point, then exits 3.
./run.sh all io --only threadpool-5,event-loop "${short[@]}" -d 2 --sweep rate=20,80 \
    --check 'rps>100000' --out "$tmp/sweep" >"$tmp/sweep.log" 2>&1
status=$?
check "a rate sweep whose checks fail: every run done, exit 3" test "$status" = 3
sweep=$(ls -d "$tmp"/sweep/*_matrix_io 2>/dev/null | head -n 1)
sweep=${sweep:-$tmp/none}
check "plan.json records the rates: sweep, points and the check" \
    jqe '.sweep == {"rate": [20, 80]} and ([.points[].rate] == [20, 20, 80, 80])
         and ([.points[].concurrency] | unique == [10]) and .settings.check == "rps>100000"' \
        "$sweep/plan.json"
check "each point file records its rate" \
    bash -c "jq -s -e '[.[].rate] == [20, 20, 80, 80] and all(.[]; .status == \"done\")' '$sweep'/points/*.json >/dev/null"
check "a row per variant and rate, in the plan's order" \
    jqe '[.rows[] | [.variant, .rate]] == [["threadpool-5", 20], ["threadpool-5", 80],
                                           ["event-loop", 20], ["event-loop", 80]]' \
        "$sweep/report.json"
check "the ceiling at rate R is min(R, the closed loop's at c): 20, 50, 20, 80" \
    jqe '[.rows[].ceiling_rps] == [20, 50, 20, 80]' "$sweep/report.json"
check "each row has the uncorrected p99 and the late requests" \
    jqe 'all(.rows[]; .p99_uncorrected_ms.median > 0 and (.late.median >= 0))' "$sweep/report.json"
check "past its ceiling, threadpool-5's corrected p99 leaves the delay" \
    jqe '.rows[1].p99_ms.median > 2 * .rows[0].p99_ms.median and .rows[1].p99_ms.median > 200' \
        "$sweep/report.json"
check "report.md: the latency against offered load, and the chart" \
    bash -c "grep -q '^## Latency against offered load' '$sweep/report.md' &&
             grep -q '](latency-vs-rate.svg)' '$sweep/report.md' && [ -s '$sweep/latency-vs-rate.svg' ]"
check "the failed checks are in report.md's flags" \
    test "$(grep -c 'check failed: rps>100000' "$sweep/report.md")" = 4
check "and listed at the end of the matrix" grep -q '4 of 4 run(s) failed a check' "$tmp/sweep.log"

mkdir "$tmp/before"
cp "$sweep"/*.md "$sweep"/*.svg "$tmp/before/"
rm "$sweep"/*.md "$sweep"/*.svg
./run.sh report "$sweep" >"$tmp/rebuild.log" 2>&1
check "report rebuilt every Markdown and SVG of the rate sweep, byte-identical" \
    diff -r -x '*.json' -x '*.log' -x '*.gz' -x points "$tmp/before" "$sweep"

# ---- every JSON written validates ---------------------------------------
if /usr/bin/python3 tests/scripts/validate_reports.py "$tmp/single" "$tmp/failed" "$sweep" \
        >"$tmp/validate.log" 2>&1; then
    pass "every report, plan, point and matrix report validates against schemas/"
else
    fail "every report, plan, point and matrix report validates against schemas/"
    show_log "$tmp/validate.log"
fi

echo "run_rate: $passed passed, $failed failed"
[ "$failed" = 0 ]
