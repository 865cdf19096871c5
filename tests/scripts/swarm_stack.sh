#!/usr/bin/env bash
# run/stack.py without an engine: the Swarm stack made from a Compose
# configuration as `docker-compose config` prints it (a fixed one here).
# - each service placed by its lab.role label, its cpuset as a CPU limit,
#   endpoint_mode dnsrr, restart policy none, cpuset/depends_on/ulimits
#   gone, the network an overlay;
# - loadgen's report folder a tmpfs instead of this host's folder, loadgen
#   run under lab-ship (its files come back in its log), other volumes kept;
# - --load-nodes N: N replicas named by slot, --spread one per node;
#   --registry prefixes the images; --no-placement drops the constraints;
# - bad input (not YAML, a service missing, --load-nodes 0) exits 2.
# Exits 77 without python3-yaml.
set -uo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=tests/harness/checks.sh
. tests/harness/checks.sh
/usr/bin/python3 -c 'import yaml' 2>/dev/null || { echo "SKIP: python3-yaml is missing (make deps)"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/swarm_stack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/config.yml" <<'EOF'
services:
  loadgen:
    command: --wait 60 --out /results http://sut:3000/io
    cpuset: '0'
    depends_on:
      slowapi: {condition: service_healthy}
    image: lab/loadgen:latest
    networks: {lab: {}}
    ulimits: {nofile: {hard: 20000, soft: 20000}}
    volumes:
    - /home/someone/results:/results:rw
    - {type: bind, source: /etc/hosts, target: /etc/lab-hosts, read_only: true}
  slowapi:
    cpuset: '0'
    image: lab/slowapi:latest
    networks: {lab: {}}
  sut:
    cpuset: 1-2,4
    image: lab/event-loop:latest
    networks: {lab: {}}
networks:
  lab: {internal: true}
EOF

# stack ARGS...: the stack for config.yml as JSON in $tmp/stack.json.
stack() {
    /usr/bin/python3 run/stack.py "$@" <"$tmp/config.yml" >"$tmp/stack.yml" &&
        /usr/bin/python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)' \
            <"$tmp/stack.yml" >"$tmp/stack.json"
}
# is EXPR: a Python expression on the stack (s) holds.
is() {
    /usr/bin/python3 -c "import json, sys; s = json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" \
        "$tmp/stack.json"
}

check "a stack from the Compose configuration" stack
check "each service placed by its lab.role label" \
    is 's["services"]["slowapi"]["deploy"]["placement"]["constraints"] == ["node.labels.lab.role == upstream"]
        and s["services"]["sut"]["deploy"]["placement"]["constraints"] == ["node.labels.lab.role == server"]
        and s["services"]["loadgen"]["deploy"]["placement"]["constraints"] == ["node.labels.lab.role == load"]'
check "cpuset as a CPU limit (1-2,4: 3 CPUs), dnsrr, restart none, one replica" \
    is 's["services"]["sut"]["deploy"]["resources"]["limits"]["cpus"] == "3.0"
        and all(v["deploy"]["endpoint_mode"] == "dnsrr" and v["deploy"]["restart_policy"] == {"condition": "none"}
                and v["deploy"]["replicas"] == 1 for v in s["services"].values())'
check "cpuset, depends_on and ulimits are gone; the network an internal overlay" \
    is 'not any(k in v for v in s["services"].values() for k in ("cpuset", "depends_on", "ulimits"))
        and s["networks"]["lab"] == {"driver": "overlay", "attachable": True, "internal": True}'
check "loadgen's report folder a tmpfs, no folder of this host; other volumes kept" \
    is 's["services"]["loadgen"]["volumes"][-1] == {"type": "tmpfs", "target": "/results"}
        and not any("/results" in str(v) and "tmpfs" not in str(v) for v in s["services"]["loadgen"]["volumes"])
        and any("/etc/lab-hosts" in str(v) for v in s["services"]["loadgen"]["volumes"])'
check "loadgen runs under lab-ship, which ships /results in its log" \
    is 's["services"]["loadgen"]["entrypoint"] == ["lab-ship", "/results"]
        and "entrypoint" not in s["services"]["sut"]'
check "lab-ship is in the runtime image" grep -q 'COPY lab-health lab-ship /usr/local/bin/' docker/runtime.Dockerfile

check "--load-nodes 3 --spread --registry: three loadgens by slot, one per node, images prefixed" \
    bash -c "$(declare -f stack is); tmp='$tmp'; stack --load-nodes 3 --spread --registry 10.0.0.1:5000 &&
        is 's[\"services\"][\"loadgen\"][\"deploy\"][\"replicas\"] == 3
            and s[\"services\"][\"loadgen\"][\"environment\"][\"LOADGEN_INSTANCE\"] == \"{{.Task.Slot}}\"
            and s[\"services\"][\"loadgen\"][\"deploy\"][\"placement\"][\"max_replicas_per_node\"] == 1
            and s[\"services\"][\"sut\"][\"deploy\"][\"replicas\"] == 1
            and s[\"services\"][\"slowapi\"][\"image\"] == \"10.0.0.1:5000/lab/slowapi:latest\"'"
check "--no-placement: no constraints (a one-node swarm without labels)" \
    bash -c "$(declare -f stack is); tmp='$tmp'; stack --no-placement &&
        is 'all(v[\"deploy\"][\"placement\"][\"constraints\"] == [] for v in s[\"services\"].values())'"

# refused INPUT ARGS...: stack.py exits 2 with a message on INPUT.
refused() {
    local input=$1
    shift
    printf '%s' "$input" | /usr/bin/python3 run/stack.py "$@" >/dev/null 2>"$tmp/err"
    [ $? = 2 ] && grep -q '^stack.py: ' "$tmp/err"
}
check "not YAML: exit 2, saying so" refused 'services: [unclosed'
check "a service missing: exit 2, naming it" \
    bash -c "$(declare -f refused); tmp='$tmp'; refused 'services: {sut: {image: x}, loadgen: {image: y}}' &&
             grep -q slowapi '$tmp/err'"
check "--load-nodes 0: exit 2" refused "$(cat "$tmp/config.yml")" --load-nodes 0

echo "swarm_stack: $passed passed, $failed failed"
[ "$failed" = 0 ]
