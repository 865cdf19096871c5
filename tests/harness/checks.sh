# Sourced by the shell tests (docker_e2e.sh, scripts/run_matrix.sh): PASS
# and FAIL lines, counted in $passed and $failed.

passed=0
failed=0
pass() { echo "PASS $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
# check NAME COMMAND...: PASS or FAIL by the command's status.
check() {
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
# jq_true ARGS... FILE: jq -e, quietly (its status is the check).
jq_true() { jq -e "$@" >/dev/null; }
# show_log FILE: the end of a log, after a failure.
show_log() { tail -n 30 "$1" | sed 's/^/    | /'; }
