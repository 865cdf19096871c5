#!/usr/bin/env bash
# The test runner: every test program and script, each with a time limit,
# then one summary line, "N passed, M failed, K skipped".
#   tests/run.sh [unit|integration|san|scripts|docker|all]   (default: all)
# san: the unit and integration tests again, on binaries built with
# AddressSanitizer and UBSan (build/san).
# cmocka binaries count their own tests; a script counts as one test and
# exits 0 (pass), 77 (skipped, with its reason printed) or anything else.
set -uo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
TEST_TIMEOUT_S=${TEST_TIMEOUT_S:-600}
what=${1:-all}
case "$what" in
unit | integration | san | scripts | docker | all) ;;
-h | --help)
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
*)
    echo "tests/run.sh: unknown suite '$what' (unit, integration, san, scripts, docker, all)" >&2
    exit 2
    ;;
esac

passed=0 failed=0 skipped=0
failures=()
logdir=$BUILD/test-logs
mkdir -p "$logdir"

run_cmocka() {
    local bin=$1 name log rc p f
    name=$(basename "$bin")
    case $bin in build/san/*) name=san-$name ;; esac
    log=$logdir/$name.log
    echo "=== $name"
    timeout --kill-after=10 "$TEST_TIMEOUT_S" "$bin" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\..*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
        # Crashed, timed out or failed outside any test: count it once.
        [ "$rc" -eq 124 ] && echo "--- $name: timed out after ${TEST_TIMEOUT_S}s"
        failed=$((failed + 1))
    fi
    [ "$rc" -ne 0 ] && failures+=("$name")
}

run_script() {
    local script=$1 name rc
    name=$(basename "$script")
    echo "=== $name"
    timeout --kill-after=10 "$TEST_TIMEOUT_S" bash "$script"
    rc=$?
    case $rc in
    0) passed=$((passed + 1)) ;;
    77) skipped=$((skipped + 1)); echo "--- $name: SKIPPED" ;;
    *) failed=$((failed + 1)); failures+=("$name"); echo "--- $name: FAILED (exit $rc)" ;;
    esac
}

if ! make -s all tests-build >"$logdir/build.log" 2>&1; then
    cat "$logdir/build.log"
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

# Every report loadgen writes in the integration tests (and their san
# runs) is kept here and validated against schemas/ once they are done
# (tests/harness/loadgen_run.c).
# BUILD may be absolute (a build folder outside the checkout).
case $BUILD in /*) build_dir=$BUILD ;; *) build_dir=$PWD/$BUILD ;; esac
export LAB_TEST_REPORTS_DIR=$build_dir/test-reports
rm -rf "$LAB_TEST_REPORTS_DIR"
mkdir -p "$LAB_TEST_REPORTS_DIR"

# validate_reports: the kept reports against schemas/, as one test.
validate_reports() {
    local count
    count=$(find "$LAB_TEST_REPORTS_DIR" -name '*.json' | wc -l)
    echo "=== schemas: the $count reports the tests wrote"
    if [ "$count" -eq 0 ]; then
        echo "--- schemas: the tests wrote no report to validate"
        failed=$((failed + 1)); failures+=("schemas (no reports)")
    elif /usr/bin/python3 tests/scripts/validate_reports.py "$LAB_TEST_REPORTS_DIR"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); failures+=("schemas")
    fi
}

if [ "$what" = unit ] || [ "$what" = all ]; then
    for bin in "$BUILD"/tests/unit/test_*; do
        [ -x "$bin" ] && run_cmocka "$bin"
    done
fi
if [ "$what" = integration ] || [ "$what" = all ]; then
    for bin in "$BUILD"/tests/integration/test_*; do
        [ -x "$bin" ] && run_cmocka "$bin"
    done
fi
if [ "$what" = san ] || [ "$what" = all ]; then
    if make -s SAN=1 all tests-build >"$logdir/build-san.log" 2>&1; then
        # The harness starts programs from $BUILD/bin: the sanitized ones.
        export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
        export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
        for bin in build/san/tests/unit/test_* build/san/tests/integration/test_*; do
            [ -x "$bin" ] && BUILD=build/san run_cmocka "$bin"
        done
    else
        cat "$logdir/build-san.log"
        failed=$((failed + 1))
        failures+=("san build")
    fi
fi
case $what in integration | san | all) validate_reports ;; esac
if [ "$what" = scripts ] || [ "$what" = all ]; then
    for script in tests/scripts/*.sh; do
        [ -f "$script" ] && run_script "$script"
    done
fi
if [ "$what" = docker ] || [ "$what" = all ]; then
    run_script tests/docker_e2e.sh
    run_script tests/docker_python.sh
    run_script tests/docker_swarm.sh
    run_script tests/docker_swarm_nodes.sh
fi

echo
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
