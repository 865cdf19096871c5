#!/usr/bin/env bash
# run.sh's matrix, natively with a 0.1 s upstream: a two-variant matrix
# writes its runs, report.md, report.json and the charts; a sweep draws its
# charts and states why a point was skipped; `report` rebuilds every
# Markdown and SVG byte for byte; `compare` calls threadpool-5 against
# event-loop "changed" and two repeats of one configuration "within noise";
# every JSON the runs wrote validates against the schemas.
# The variants are the small ones of tests/fixtures/variants.tsv.
set -uo pipefail
cd "$(dirname "$0")/../.."

for tool in gnuplot /usr/bin/python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is missing (make deps)"; exit 77; }
done

# shellcheck source=tests/harness/checks.sh
. tests/harness/checks.sh
# jqe FILTER FILE: jq's verdict alone.
jqe() { jq -e "$@" >/dev/null; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lab-matrix.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export LAB_VARIANTS_TABLE=$PWD/tests/fixtures/variants.tsv
short=(--native -c 10 -d 2 --delay 0.1 --timeout 5)

# lab RUN-NAME ARGS...: ./run.sh ARGS, its output in $tmp/RUN-NAME.log.
lab() {
    local name=$1
    shift
    if ./run.sh "$@" >"$tmp/$name.log" 2>&1; then
        pass "./run.sh $*"
    else
        fail "./run.sh $* (exit $?)"
        show_log "$tmp/$name.log"
    fi
}

# matrix_dir OUT: the one matrix folder under OUT.
matrix_dir() {
    local dirs=("$1"/*_matrix_io*)
    [ ${#dirs[@]} -eq 1 ] && [ -d "${dirs[0]}" ] && echo "${dirs[0]}"
}

# has_files DIR FILE...: each FILE is in DIR and not empty.
has_files() {
    local dir=$1 f
    shift
    for f in "$@"; do
        [ -s "$dir/$f" ] || { echo "    | missing: $dir/$f"; return 1; }
    done
}

# ---- two variants -------------------------------------------------------
lab two all io --only threadpool-5,event-loop "${short[@]}" --out "$tmp/two"
two=$(matrix_dir "$tmp/two") || two=$tmp/none
check "a matrix folder <UTC>_matrix_io" test -d "$two"
check "report.md, report.json, plan.json and the charts" \
    has_files "$two" report.md report.json plan.json rps.svg latency.svg cpu.svg
check "each run: JSON, Markdown, resources and logs" \
    test "$(ls "$two"/*_threadpool-5_io.{json,md,server.json,log} "$two"/*_event-loop_io.{json,md,server.json,log} 2>/dev/null | wc -l)" = 8
check "report.json has a row per variant, in the plan's order" \
    jqe '[.rows[].variant] == ["threadpool-5", "event-loop"]' "$two/report.json"
check "threadpool-5 at its ceiling of 50 rps, not over it by more than its stated error" \
    jqe '.rows[0].rps.median as $r | .rows[0].rps_error.median as $e
           | $r > 40 and $r <= 50 + $e + 0.01' "$two/report.json"
check "the verify phase counted 10 upstream calls per answer" \
    jqe '[.rows[].calls_per_answer.median] | all(. >= 9.9 and . <= 10.1)' "$two/report.json"
check "report.md embeds the charts" grep -q '](rps.svg)' "$two/report.md"
check "the results table was printed" grep -q '^| `threadpool-5`' "$tmp/two.log"

# ---- report rebuilds byte for byte --------------------------------------
mkdir "$tmp/before"
cp "$two"/*.md "$two"/*.svg "$tmp/before/"
rm "$two"/*.md "$two"/*.svg
lab report report "$two"
check "report rebuilt every Markdown and SVG, byte-identical" \
    diff -r -x '*.json' -x '*.log' -x points "$tmp/before" "$two"

# The archive too: a copy of results/ rebuilt is results/ again (schema 3
# Markdown from its JSON, older reports' Markdown left as it was).
cp -r results "$tmp/archive"
lab archive report "$tmp/archive"
check "report results/ (a copy) is byte-identical, its index included" diff -r results "$tmp/archive"

# ---- compare ------------------------------------------------------------
pool=$(ls "$two"/*_threadpool-5_io.json) loop=$(ls "$two"/*_event-loop_io.json)
./run.sh compare "$pool" "$loop" >"$tmp/compare.log" 2>&1
check "compare threadpool-5 against event-loop: rps changed" \
    grep -Eq '^\| *rps .*\| *changed' "$tmp/compare.log"
./run.sh compare "$loop" "$pool" --fail-on-regression >"$tmp/regress.log" 2>&1
check "--fail-on-regression exits 1 when rps got worse" test $? = 1

lab repeats event-loop io "${short[@]}" --repeat 2 --ramp 0.5 --out "$tmp/repeats"
reps=$(matrix_dir "$tmp/repeats") || reps=$tmp/none
readarray -t runs < <(ls "$reps"/*_event-loop_io.json 2>/dev/null)
check "--repeat 2 made two runs" test ${#runs[@]} = 2
if [ ${#runs[@]} = 2 ]; then
    ./run.sh compare "${runs[0]}" "${runs[1]}" --fail-on-regression >"$tmp/same.log" 2>&1
    status=$?
    check "compare two repeats: rps within noise" grep -Eq '^\| *rps .*\| *within noise' "$tmp/same.log"
    check "compare two repeats: no regression beyond noise in rps" \
        bash -c "! grep -Eq '^\| *rps .*\| *changed' '$tmp/same.log'"
    [ $status = 0 ] || [ $status = 1 ] || fail "compare exit status $status"
fi
check "a repeated matrix gives min and max" \
    jqe '.rows[0].runs == 2 and .rows[0].rps.min <= .rows[0].rps.max' "$reps/report.json"
check "--ramp is in the plan, the matrix report and its Markdown; absent where not given" \
    bash -c "jq -e '.settings.ramp_s == 0.5' '$reps/plan.json' >/dev/null &&
             jq -e '.settings.ramp_s == 0.5' '$reps/report.json' >/dev/null &&
             grep -q 'clients started over' '$reps/report.md' &&
             jq -e '.settings | has(\"ramp_s\") | not' '$two/plan.json' >/dev/null"

# ---- a sweep, with a point that cannot run ------------------------------
# 40 event-loop clients need 40 x 11 sockets, over a limit of 300.
NOFILE=300 lab sweep all io --only threadpool-5,event-loop "${short[@]}" --sweep c=5,40 \
    --out "$tmp/sweep"
sweep=$(matrix_dir "$tmp/sweep") || sweep=$tmp/none
check "a sweep draws rps and p99 against concurrency" has_files "$sweep" sweep_rps.svg sweep_p99.svg
check "the skipped point states its reason in the plan and the report" \
    jqe '.skipped | length == 1 and (.[0].variant == "event-loop") and (.[0].concurrency == 40)
           and (.[0].reason | test("descriptors"))' "$sweep/report.json"
check "report.md names the skipped point and why" grep -q 'descriptors' "$sweep/report.md"
check "run.sh said what it skipped" grep -q 'skipped: event-loop at c=40' "$tmp/sweep.log"

# ---- a run that fails ---------------------------------------------------
# threadpool-broken's server refuses its settings: that run fails, the
# matrix goes on, says so, and exits 1.
./run.sh all io --only threadpool-broken,event-loop "${short[@]}" --out "$tmp/broken" \
    >"$tmp/broken.log" 2>&1
check "a matrix with a failed run exits 1" test $? = 1
broken=$(matrix_dir "$tmp/broken") || broken=$tmp/none
check "the failed run is recorded with its reason, the other run is done" \
    jqe '(.failed | length == 1) and .failed[0].variant == "threadpool-broken"
         and (.failed[0].reason | test("exited with status 1")) and .rows[1].runs == 1' \
        "$broken/report.json"

# ---- a matrix stopped halfway -------------------------------------------
# SIGTERM once the first point has ended (its points/001.json is there):
# the report covers the runs done, the rest reads as failed.
./run.sh all io --only threadpool-5,event-loop "${short[@]}" --out "$tmp/stopped" \
    >"$tmp/stopped.log" 2>&1 &
matrix_pid=$!
for _ in $(seq 1 300); do
    compgen -G "$tmp/stopped/*_matrix_io/points/001.json" >/dev/null && break
    kill -0 "$matrix_pid" 2>/dev/null || break
    sleep 0.1 # polling the file, bounded: 30 s at most
done
kill -TERM "$matrix_pid" 2>/dev/null
wait "$matrix_pid"
check "a stopped matrix exits 143" test $? = 143
stopped=$(matrix_dir "$tmp/stopped") || stopped=$tmp/none
check "a stopped matrix still writes its report: one run done, the other failed" \
    jqe '[.rows[].runs] == [1, 0] and (.failed | length == 1)' "$stopped/report.json"
check "run.sh said where that report is" grep -q 'stopped; the report of the runs done' \
    "$tmp/stopped.log"
check "nothing of the stopped matrix is left running" \
    bash -c "! pgrep -f -- '[-]-out $tmp/stopped' >/dev/null" ||
    pgrep -af -- "[-]-out $tmp/stopped" | sed 's/^/  left: /'

# ---- the cpu workload: no ceiling, and no service time ------------------
lab cpu event-loop cpu --native -c 2 -d 1 --out "$tmp/cpu"
cpu=$(ls "$tmp"/cpu/*_event-loop_cpu.json 2>/dev/null | head -n 1)
check "a cpu run's rate is the time share: no service time, no ceiling" \
    jqe '.summary.service_s == null and .ceiling == null and .summary.ok > 0
         and .summary.rps == .summary.rps_time_share' "${cpu:-/nonexistent}"

# ---- every JSON written validates ---------------------------------------
if /usr/bin/python3 tests/scripts/validate_reports.py "$tmp/two" "$tmp/repeats" "$tmp/sweep" "$tmp/cpu" "$tmp/broken" \
        >"$tmp/validate.log" 2>&1; then
    pass "every report, plan, point and matrix report validates against schemas/"
else
    fail "every report, plan, point and matrix report validates against schemas/"
    show_log "$tmp/validate.log"
fi

echo "run_matrix: $passed passed, $failed failed"
[ "$failed" = 0 ]
