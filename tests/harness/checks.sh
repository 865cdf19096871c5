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
# need_docker IMAGE...: exit 77 (skipped, saying why) without a Docker
# engine, Compose or these images of the lab's (it builds none).
need_docker() {
    docker info >/dev/null 2>&1 || { echo "SKIP: no Docker engine reachable"; exit 77; }
    { docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; } ||
        { echo "SKIP: Docker Compose missing (neither 'docker compose' nor docker-compose)"; exit 77; }
    docker image inspect "$@" >/dev/null 2>&1 ||
        { echo "SKIP: the lab's images are missing (make images)"; exit 77; }
}
# check_project_gone LOG: run.sh's Compose project (named in its LOG) left
# no container or network behind.
check_project_gone() {
    local project
    project=$(grep -o 'project lab-run-[0-9]*' "$1" | head -n 1 | cut -d' ' -f2)
    check "Docker: no container or network of the run left (${project:-no project named})" \
        bash -c "[ -n '$project' ] &&
                 [ -z \"\$(docker ps -aq --filter label=com.docker.compose.project=$project)\" ] &&
                 [ -z \"\$(docker network ls -q --filter label=com.docker.compose.project=$project)\" ]"
}
