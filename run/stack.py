#!/usr/bin/python3
"""The Swarm stack of one run, made from docker-compose.yml: one source for
what Compose and Swarm share (images, commands, environment, health checks,
volumes), and here only what Swarm needs instead.

Reads `docker-compose config` (the Compose files merged, the environment
substituted) on stdin and writes the stack file (`docker stack deploy
--compose-file`) on stdout. What Swarm ignores or refuses is replaced:
  cpuset        -> deploy.resources.limits.cpus (the set's size) and a place
                   by node label: lab.role=upstream (slowapi), server (sut),
                   load (loadgen); on a one-node swarm all land on that node
  depends_on    -> dropped: loadgen waits for its peers itself (--wait, names
                   included)
  ulimits       -> dropped (Docker before 23 sets none on a service): the
                   engine's own limit applies; run.sh records the replacements
                   in the run's server.json (swarm.replaced)
  restart       -> deploy.restart_policy none: a run runs once
  networks      -> an overlay network, attachable, internal as in Compose;
                   endpoint_mode dnsrr on every service (the virtual IP did
                   not connect on the lab's machines)
  image         -> REGISTRY/image when a registry is given (--registry)
  volumes       -> loadgen's report folder (/results) a tmpfs in its task,
                   and loadgen run under lab-ship (docker/lab-ship), which
                   writes the files it left there to the task's log: run.sh
                   collects them with `docker service logs` from whichever
                   node the task ran on, with no folder shared between hosts
With --load-nodes N, loadgen runs as N tasks (--spread: at most one per
node), each named by its slot (LOADGEN_INSTANCE, loadgen --instance) and
given its share of the clients or the rate by run.sh (run/swarm.sh).
Exit status 2 on bad input, with a message.
"""
import argparse
import sys

import yaml

ROLES = {"slowapi": "upstream", "sut": "server", "loadgen": "load"}
# Keys of a Compose service that a Swarm service does not take.
DROPPED = ("cpuset", "depends_on", "container_name", "restart")
# loadgen's report folder in its container (docker-compose.yml's --out).
REPORT_DIR = "/results"


def cpus_of(cpuset):
    """The number of CPUs a cpuset list names ("0-1,3" -> 3)."""
    count = 0
    for part in str(cpuset).split(","):
        if "-" in part:
            low, high = part.split("-", 1)
            count += int(high) - int(low) + 1
        elif part.strip():
            count += 1
    return count


def mount_target(volume):
    """Where a Compose volume is mounted: "SRC:TARGET[:MODE]" or a mapping."""
    if isinstance(volume, dict):
        return volume.get("target")
    parts = str(volume).split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def ship_reports(out):
    """loadgen's report folder made a tmpfs of its own task, its files
    shipped in the task's log by lab-ship (a node's folders are its own)."""
    volumes = [v for v in out.get("volumes") or [] if mount_target(v) != REPORT_DIR]
    volumes.append({"type": "tmpfs", "target": REPORT_DIR})
    out["volumes"] = volumes
    out["entrypoint"] = ["lab-ship", REPORT_DIR]


def swarm_service(name, svc, args):
    """svc, a Compose service, as a Swarm one."""
    out = {k: v for k, v in svc.items() if k not in DROPPED}
    if not args.ulimits:
        out.pop("ulimits", None)
    if args.registry and "image" in out:
        out["image"] = f"{args.registry}/{out['image']}"
    deploy = {
        "mode": "replicated",
        "replicas": args.load_nodes if name == "loadgen" else 1,
        "endpoint_mode": "dnsrr",
        "restart_policy": {"condition": "none"},
        "placement": {"constraints": [f"node.labels.lab.role == {ROLES[name]}"]
                      if args.placement else []},
    }
    if name == "loadgen":
        ship_reports(out)
    if name == "loadgen" and args.load_nodes > 1:
        # Each task names its files apart (loadgen --instance).
        env = out.setdefault("environment", {})
        env["LOADGEN_INSTANCE"] = "{{.Task.Slot}}"
        if args.spread:
            deploy["placement"]["max_replicas_per_node"] = 1
    if "cpuset" in svc:
        deploy["resources"] = {"limits": {"cpus": f"{cpus_of(svc['cpuset']):.1f}"}}
    out["deploy"] = deploy
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--load-nodes", type=int, default=1)
    parser.add_argument("--registry", default="")
    parser.add_argument("--no-placement", dest="placement", action="store_false",
                        help="no node labels (a one-node swarm without them)")
    parser.add_argument("--spread", action="store_true",
                        help="at most one loadgen task per node")
    parser.add_argument("--ulimits", action="store_true",
                        help="keep ulimits (Docker 23 and later set them on services)")
    args = parser.parse_args()
    if args.load_nodes < 1:
        print("stack.py: --load-nodes wants 1 or more", file=sys.stderr)
        return 2
    try:
        config = yaml.safe_load(sys.stdin)
    except yaml.YAMLError as e:
        print(f"stack.py: the Compose configuration is not YAML: {e}", file=sys.stderr)
        return 2
    services = (config or {}).get("services") or {}
    missing = [s for s in ROLES if s not in services]
    if missing:
        print(f"stack.py: the Compose configuration lacks {', '.join(missing)}", file=sys.stderr)
        return 2
    stack = {"version": "3.8",
             "services": {n: swarm_service(n, s, args) for n, s in services.items()},
             "networks": {}}
    for name, net in (config.get("networks") or {}).items():
        stack["networks"][name] = {"driver": "overlay", "attachable": True,
                                   "internal": bool((net or {}).get("internal"))}
    yaml.safe_dump(stack, sys.stdout, default_flow_style=False, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
