#!/usr/bin/env bash
# The docker suite's Swarm across nodes, on one machine: two more Docker
# daemons, each in a network namespace this test makes (its own data-root,
# exec-root, pidfile, socket and hostname, and a veth to a bridge on the
# host, 10.231.0.0/24), joined as workers to a swarm this host leads. The
# nodes are labelled lab.role=upstream (this host), server (lab-node2) and
# load (lab-node3); the images reach them through the lab's registry
# (run.sh --swarm --images registry, LAB_REGISTRY_HOST=10.231.0.1).
# - a run of two loadgens places each service on its node, the server and
#   both loadgens on the other daemons, and is served across the overlay
#   without a failure;
# - the loadgens' reports and samples come back from lab-node3 in their
#   tasks' logs and merge; slowapi's CPU model is recorded;
# - server.json names the three nodes and the registry;
# - the stack and the registry are gone afterwards, and everything this
#   test made (daemons, namespaces, links, the iptables rule, the swarm).
# Exits 77 (skipped, saying why) without root, an engine that is not in a
# swarm, ip/nsenter/unshare/dockerd, or the images.
set -uo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=tests/harness/checks.sh
. tests/harness/checks.sh
jqe() { jq -e "$@" >/dev/null; }
[ "$(id -u)" = 0 ] || { echo "SKIP: making network namespaces and daemons needs root"; exit 77; }
for tool in ip nsenter unshare dockerd iptables jq /usr/bin/python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is missing"; exit 77; }
done
need_docker lab/event-loop lab/slowapi lab/loadgen lab/labreport
state=$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)
[ "$state" = inactive ] || { echo "SKIP: the engine is in a swarm ($state): this test makes its own"; exit 77; }
make -s all >/dev/null 2>&1 || { echo "docker_swarm_nodes: make failed"; exit 1; }

subnet=10.231.0
bridge=lab-br0
rule=(FORWARD -i "$bridge" -o "$bridge" -j ACCEPT -m comment --comment lab-swarm-nodes)
driver=$(docker info --format '{{.Driver}}')
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lab-nodes.XXXXXX")
# swarm init makes the network docker_gwbridge, which leaving keeps.
gwbridge_before=$(docker network ls -q --filter name='^docker_gwbridge$' 2>/dev/null)
nodes=(2 3)

# dock N ARGS...: docker against node N's daemon.
dock() { local n=$1; shift; docker -H "unix://$tmp/node$n/docker.sock" "$@"; }

finish() {
    local n pid
    for n in "${nodes[@]}"; do
        dock "$n" swarm leave --force >/dev/null 2>&1
        pid=$(cat "$tmp/node$n/docker.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
    done
    for n in "${nodes[@]}"; do
        pid=$(cat "$tmp/node$n/docker.pid" 2>/dev/null) || continue
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
    docker swarm leave --force >/dev/null 2>&1
    [ -n "$gwbridge_before" ] || docker network rm docker_gwbridge >/dev/null 2>&1
    for n in "${nodes[@]}"; do ip netns del "labnode$n" 2>/dev/null; done
    ip link del "$bridge" 2>/dev/null
    iptables -D "${rule[@]}" 2>/dev/null
    rm -rf "$tmp" 2>/dev/null || true
}
trap finish EXIT

# The bridge on the host, 10.231.0.1; bridged traffic between the nodes
# passes the host's FORWARD chain (br_netfilter), which Docker sets to DROP.
ip link add "$bridge" type bridge && ip addr add "$subnet.1/24" dev "$bridge" &&
    ip link set "$bridge" up && iptables -I "${rule[@]}" ||
    { echo "docker_swarm_nodes: could not make the bridge"; exit 1; }

# start_node N: a daemon in network namespace labnodeN at 10.231.0.N,
# hostname lab-nodeN; waits for its socket to answer.
start_node() {
    local n=$1 dir=$tmp/node$1 ns=labnode$1
    mkdir -p "$dir"
    printf '{"storage-driver": "%s", "mtu": 1400}\n' "$driver" >"$dir/daemon.json"
    ip netns add "$ns" && ip link add "lab-n${n}h" type veth peer name "lab-n${n}n" &&
        ip link set "lab-n${n}n" netns "$ns" && ip link set "lab-n${n}h" master "$bridge" &&
        ip link set "lab-n${n}h" up &&
        ip netns exec "$ns" ip addr add "$subnet.$n/24" dev "lab-n${n}n" &&
        ip netns exec "$ns" ip link set "lab-n${n}n" up && ip netns exec "$ns" ip link set lo up ||
        return 1
    # nsenter keeps the host's mounts (ip netns exec would remount /sys,
    # without the cgroups); unshare --uts gives the node its own hostname.
    nsenter --net="/var/run/netns/$ns" unshare --uts sh -c "hostname lab-node$n; exec dockerd \
        --config-file $dir/daemon.json --data-root $dir/data --exec-root $dir/exec \
        --pidfile $dir/docker.pid -H unix://$dir/docker.sock --bridge none --iptables=false \
        --ip-masq=false --cgroup-parent lab-node$n --insecure-registry $subnet.0/24" \
        >"$dir/dockerd.log" 2>&1 &
    for _ in $(seq 1 300); do
        dock "$n" info >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    tail -n 5 "$dir/dockerd.log"
    return 1
}

docker swarm init --advertise-addr "$subnet.1" >"$tmp/init.log" 2>&1 ||
    { show_log "$tmp/init.log"; echo "docker_swarm_nodes: swarm init failed"; exit 1; }
token=$(docker swarm join-token -q worker)
for n in "${nodes[@]}"; do
    check "lab-node$n: a daemon in its own network namespace answers" start_node "$n"
    check "lab-node$n joins the swarm" \
        bash -c "docker -H unix://$tmp/node$n/docker.sock swarm join --token $token \
                 --advertise-addr $subnet.$n $subnet.1:2377 >/dev/null"
done
host=$(docker info --format '{{.Name}}')
docker node update --label-add lab.role=upstream "$host" >/dev/null &&
    docker node update --label-add lab.role=server lab-node2 >/dev/null &&
    docker node update --label-add lab.role=load lab-node3 >/dev/null
check "three ready nodes, labelled" \
    bash -c "[ \$(docker node ls --format '{{.Status}}' | grep -c Ready) = 3 ]"

LAB_REGISTRY_HOST=$subnet.1 ./run.sh event-loop io --swarm --load-nodes 2 -c 20 -d 4 --delay 0.2 \
    --no-build --out "$tmp/run" >"$tmp/run.log" 2>&1
status=$?
check "run.sh event-loop io --swarm --load-nodes 2 across three nodes exits 0" test "$status" = 0
[ "$status" = 0 ] || show_log "$tmp/run.log"
report=$(find "$tmp/run" -maxdepth 1 -name '*_event-loop_io.json' | head -n 1)
report=${report:-/nonexistent}
jq -c '.swarm | {images, services}' "${report%.json}.server.json" 2>&1 | sed 's/^/    | /'
check "served across the overlay: ok answers, no failure, 10 calls each" \
    jqe '.summary.ok > 100 and .summary.failures == 0 and .verify.verdict == "ok"' "$report"
check "both loadgens' reports and samples came back from lab-node3 and merged" \
    bash -c "jq -e '(.instances | length) == 2
                    and .summary.issued == ([.instances[].issued] | add)' '$report' >/dev/null &&
             [ \$(find '$tmp/run' -name '*_event-loop_io_[12].samples.csv.gz' | wc -l) = 2 ]"
check "slowapi's CPU model is recorded (its /healthz, through loadgen)" \
    jqe '.environment.upstream_cpu_model | length > 0' "$report"
check "each service on its labelled node; the images from the lab's registry" \
    jqe --arg h "$host" '.swarm.placement == "labels"
        and .swarm.services.sut.node == "lab-node2" and .swarm.services.slowapi.node == $h
        and ([.swarm.loadgens[].node] == ["lab-node3", "lab-node3"])
        and (.swarm.images | startswith("registry 10.231.0.1:"))' "${report%.json}.server.json"
check "the stack and the registry service are gone" \
    bash -c "[ -z \"\$(docker service ls -q)\" ] && s=\$(docker stack ls --format {{.Name}}) && [ -z \"\$s\" ]"
check "every JSON validates against schemas/" \
    /usr/bin/python3 tests/scripts/validate_reports.py "$tmp/run"

finish
trap - EXIT
check "everything made here is gone: the swarm, docker_gwbridge, the namespaces, the bridge, the rule" \
    bash -c "[ \"\$(docker info --format '{{.Swarm.LocalNodeState}}')\" = inactive ] &&
             { [ -n '$gwbridge_before' ] ||
               [ -z \"\$(docker network ls -q --filter name='^docker_gwbridge\$')\" ]; } &&
             ! ip netns list | grep -q labnode && ! ip link show $bridge >/dev/null 2>&1 &&
             ! iptables -C ${rule[*]} 2>/dev/null"
echo "docker_swarm_nodes: $passed passed, $failed failed"
[ "$failed" = 0 ]
