#!/usr/bin/env bash
# The JSON Schemas (schemas/) and their validator
# (tests/scripts/validate_reports.py):
# - every JSON file archived under results/ is valid;
# - the spec's examples of the newer files (a run report of schema 3 and
#   an open loop's, tests/fixtures/run_report's, a
#   server.json of schema 2 with its network, a matrix folder's plan.json,
#   points/*.json and report.json of schema 1 and 2) are valid, so the
#   schemas accept what they describe;
# - the validator can fail: a copy of an archived report without a required
#   field, one with a field of the wrong type and a server.json without its
#   CPU time or with a network of no known kind, a schema 2 matrix report
#   without its pairs and a schema 1
#   one with them are each rejected (exit 1, naming the JSON path), and a missing
#   path or a file of no known kind is bad usage (exit 2).
#   tests/scripts/report_schemas.sh   prints "report schemas: ok" on success
# Exit: 0 ok, 77 skipped (no Debian python3 with python3-jsonschema), 1
# otherwise. The copies live in a mktemp -d folder, removed at the end.
set -euo pipefail
# The repository root, wherever this script sits below it.
cd "$(dirname "$0")"
while [ ! -f Makefile ] && [ "$PWD" != / ]; do cd ..; done

# Debian's interpreter: another python3 first on PATH (pyenv) may lack
# jsonschema or have another version of it.
python=/usr/bin/python3
if [ ! -x "$python" ] || ! "$python" -c 'import jsonschema' 2>/dev/null; then
    echo "report schemas: SKIPPED (needs /usr/bin/python3 with python3-jsonschema: make deps)"
    exit 77
fi
validate=("$python" tests/scripts/validate_reports.py)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
    echo "report schemas: FAILED: $*" >&2
    [ -s "$tmp/out" ] && { echo "--- validator output" >&2; cat "$tmp/out" >&2; }
    exit 1
}

# expect STATUS PATTERN PATH...: the validator on PATHs exits STATUS and
# its output (stdout and stderr) holds PATTERN (grep -F).
expect() {
    local want=$1 pattern=$2 rc=0
    shift 2
    "${validate[@]}" "$@" >"$tmp/out" 2>&1 || rc=$?
    [ "$rc" = "$want" ] || fail "validate_reports.py $*: exit $rc, want $want"
    grep -qF -- "$pattern" "$tmp/out" || fail "validate_reports.py $*: no '$pattern' in its output"
}

# 1. What is archived.
[ -d results ] || fail "no results/ folder"
expect 0 "files valid" results
echo "report schemas: results/: $(tail -n 1 "$tmp/out")"

# 2. The spec's examples. edit IN OUT CODE: OUT is the JSON of IN after
# CODE (Python, on the document d).
edit() {
    "$python" - "$1" "$2" "$3" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
exec(sys.argv[3])
with open(sys.argv[2], "w") as f:
    json.dump(d, f)
EOF
}

# A schema 2 report as docs/REPORT.md shows it, the base of the schema 3
# example (its new fields from the spec).
cat >"$tmp/base.json" <<'EOF'
{"schema_version": 2, "variant": "event-loop", "workload": "io", "mode": "docker",
 "url": "http://sut:3000/io",
 "config": {"protocol": "http", "concurrency": 100, "threads": 2, "duration_s": 30.0,
            "requests": null, "warmup_s": 0.0, "drain_s": 5.0, "ramp_s": 0.0, "keepalive": true,
            "fanout": 10, "delay_s": 1.0, "timeout_s": 30.0, "capacity": null},
 "summary": {"issued": 3000, "ok": 3000, "failures": 0, "http_errors": {}, "timeouts": 0,
             "unfinished": 0, "warmup_excluded": 0,
             "errors": {"connect": 0, "read": 0, "write": 0, "parse": 0},
             "rps": 99.7, "ok_in_window": 2991.2, "window_latencies": 29.9, "mean_ms": 1003.1,
             "min_ms": 1001.0, "max_ms": 1010.2, "duration_s": 30.0, "responses": 3000,
             "samples_dropped": 0, "interrupted": false},
 "percentiles_ms": {"50": 1002.9, "60": 1003.0, "70": 1003.1, "80": 1003.3, "90": 1003.6,
                    "95": 1004.0, "99": 1006.2, "99.9": 1009.9, "100": 1010.2},
 "ceiling": {"rps": 100.0, "capacity": 0, "formula": "min(concurrency, capacity) / delay_s",
             "measured_over_ceiling": 0.997},
 "server": {"status": "ok", "variant": "event-loop", "model": "one libuv event loop",
            "capacity": 0, "keep_alive": true},
 "environment": {"cpus": 1, "machine_cpus": 2, "kernel": "6.1.0-27-amd64",
                 "started_at": "2026-11-26T21:45:01Z", "git_commit": "a8f4043",
                 "docker_version": null, "compose_version": null, "cpu_sharing": null}}
EOF
mkdir -p "$tmp/examples/20261130T120000Z_matrix_io/points"
edit "$tmp/base.json" "$tmp/examples/schema2.json" ''
edit "$tmp/base.json" "$tmp/examples/schema3.json" '
d["schema_version"] = 3
d["config"]["upstream"] = "http://slowapi:8001"
d["summary"].update(rps=99.5, rps_error=0.4, rps_time_share=99.7, served_in_window=2985.0,
                    service_s=1.0)
d["verify"] = {"upstream_calls": 30010, "answered": 3001, "calls_per_answer": 10.0,
               "expected": 10, "verdict": "ok", "note": None}'
edit "$tmp/examples/schema3.json" "$tmp/examples/schema3-no-upstream.json" '
d["config"].update(upstream=None, delay_s=None)
d["summary"]["service_s"] = None
d["ceiling"] = None
d["ceiling_note"] = "no --delay: no ceiling"
d["verify"] = None'
edit "$tmp/examples/schema3.json" "$tmp/examples/schema3-na.json" '
d["verify"] = {"upstream_calls": None, "answered": 0, "calls_per_answer": None,
               "expected": 10, "verdict": "n/a", "note": "GET /stats failed"}'
cat >"$tmp/examples/20261130T120000Z_event-loop_io.server.json" <<'EOF'
{"schema_version":2,"variant":"event-loop","workload":"io",
 "cpu_seconds":21.78,"peak_memory_mib":430.9,"wall_seconds":31.5,"cpus":1,
 "measured":"container cgroup: CPU time, peak memory with page cache",
 "loadgen":{"cpu_seconds":5.1,"wall_seconds":31.5,"cpus":1},
 "slowapi":{"cpu_seconds":3.2,"wall_seconds":31.5,"cpus":1},
 "network":"host","somaxconn":4096}
EOF
matrix=$tmp/examples/20261130T120000Z_matrix_io
cat >"$matrix/plan.json" <<'EOF'
{"schema_version":1,"kind":"matrix-plan","workload":"io","mode":"docker","network":"bridge",
 "created_at":"2026-11-30T12:00:00Z","command":"./run.sh all io --repeat 3",
 "settings":{"concurrency":100,"duration_s":30,"requests":null,"fanout":10,
   "delay_s":1,"timeout_s":30,"warmup_s":0,"upstream_http":"1.1",
   "upstream_timeout_s":5},
 "variants":[{"name":"event-loop","program":"event-loop",
   "model":"one libuv event loop, ...","classic":"FastAPI + uvicorn, one worker"}],
 "sweep":{"concurrency":[100,2000]},
 "repeat":1,
 "points":[{"index":1,"variant":"event-loop","concurrency":100,"repeat":1,
            "status":"planned","reason":null},
           {"index":2,"variant":"single-thread","concurrency":2000,"repeat":1,
            "status":"skipped","reason":"needs 22,000 descriptors, 20,000 allowed: try --upstream-http 2"}]}
EOF
cat >"$matrix/points/001.json" <<'EOF'
{"index":1,"variant":"event-loop","concurrency":100,"repeat":1,
 "status":"done","report":"20261130T120000Z_event-loop_io.json","reason":null,"elapsed_s":36.2}
EOF
cat >"$matrix/points/003.json" <<'EOF'
{"index":3,"variant":"event-loop","concurrency":100,"repeat":2,
 "status":"failed","report":null,"reason":"loadgen failed (exit status 1)","elapsed_s":12.0}
EOF
edit "$matrix/plan.json" "$matrix/report.json" '
metric = {"median": 99.5, "min": 99.1, "max": 99.7}
row = {"variant": "event-loop", "model": "one libuv event loop", "classic": "FastAPI + uvicorn, one worker",
       "concurrency": 100, "runs": 1, "ceiling_rps": 100.0}
for m in ["rps", "rps_error", "of_ceiling", "mean_ms", "p50_ms", "p90_ms", "p99_ms", "max_ms",
          "failures", "server_cpu_s", "server_cpu_ms_per_request", "server_peak_mib",
          "calls_per_answer", "loadgen_busy", "slowapi_busy", "overhead_s"]:
    row[m] = dict(metric)
row["slowapi_busy"] = None
row["loadgen_busy"] = {"median": None, "min": None, "max": None}
row["flags"] = ["loadgen busy 93%: not measuring the server", "failed runs: 1"]
row["published"] = [{"alias": "async-fastapi", "config": None, "rps": 97.6, "mean_ms": 1013.3,
                     "failures": 0}]
row["reports"] = ["20261130T120000Z_event-loop_io.json"]
row["percentiles_ms"] = {"50": 1000.6, "90": 1003.1, "99": 1081.1, "99.9": 1090.2, "100": 1095.0}
d = {"schema_version": 1, "kind": "matrix-report", "workload": d["workload"], "mode": d["mode"],
     "created_at": d["created_at"], "command": d["command"],
     "settings": d["settings"], "sweep": d["sweep"], "repeat": d["repeat"], "rows": [row],
     "skipped": [{"index": 2, "variant": "single-thread", "concurrency": 2000, "repeat": 1,
                  "reason": "needs 22,000 descriptors, 20,000 allowed: try --upstream-http 2"}],
     "failed": [{"index": 3, "variant": "event-loop", "concurrency": 100, "repeat": 2,
                 "reason": "loadgen failed (exit status 1)"}],
     "published_source": "the classic study (published.json)",
     "overhead_s": {"mean": 4.2, "max": 5.0, "runs": 2}}'
cp "$tmp/examples/schema3.json" "$matrix/20261130T120000Z_event-loop_io.json"
# Schema 2 of the matrix report: schema 1's, each row's impl and
# server_busy, and the C and Python pairs (one without a published figure).
matrix2=$tmp/examples/20261130T130000Z_matrix_io
mkdir -p "$matrix2"
edit "$matrix/report.json" "$matrix2/report.json" '
d["schema_version"] = 2
d["network"] = "bridge"
c = d["rows"][0]
c.update(impl="c", server_busy={"median": 0.07, "min": 0.06, "max": 0.08})
py = dict(c, variant="py-uvicorn-1", impl="python", model="CPython: FastAPI on uvicorn",
          server_busy={"median": 0.95, "min": 0.94, "max": 0.96}, flags=[],
          reports=["20261130T130100Z_py-uvicorn-1_io.json"])
d["rows"].append(py)
def side(row, busy):
    return {"variant": row["variant"], "runs": 1, "rps": 99.5, "p99_ms": 1081.1,
            "server_cpu_ms_per_request": 0.7, "server_busy": busy, "cpu_bound": busy >= 0.9}
ratios = {"rps": 1.62, "p99_ms": 0.635, "server_cpu_ms_per_request": None}
d["pairs"] = [{"alias": "async-fastapi", "config": "1", "concurrency": 100,
               "published_rps": 61.207, "c": side(c, 0.07), "python": side(py, 0.95),
               "c_over_python": ratios},
              {"alias": "async-gevent-pywsgi", "config": None, "concurrency": 100,
               "published_rps": None, "c": side(c, 0.07),
               "python": dict(side(py, 0.95), server_busy=None, cpu_bound=None),
               "c_over_python": ratios}]'
# An open loop's report (--rate with --step, --check, --samples: every
# field the open loop added), the fixture lib/run_report.c's test renders.
open_loop=tests/fixtures/run_report/schema3_threadpool-50_io_open_steps.json
cp "$open_loop" "$tmp/examples/20261201T090000Z_threadpool-50_io.json"
expect 0 "12 files valid" "$tmp/examples"

# 3. The validator fails where it must: copies of an archived report.
report=$(find results -name '*.json' ! -name '*.server.json' ! -name plan.json \
    ! -name report.json ! -name soak.json ! -path '*/points/*' | sort | tail -n 1)
[ -n "$report" ] || fail "no run report under results/ to copy"
server=$(find results -name '*.server.json' | sort | tail -n 1)
mkdir "$tmp/bad"
edit "$report" "$tmp/bad/no-variant.json" 'del d["variant"]'
expect 1 "no-variant.json: \$: 'variant' is a required property" "$tmp/bad/no-variant.json"
edit "$report" "$tmp/bad/rps-text.json" 'd["summary"]["rps"] = "fast"'
expect 1 "rps-text.json: \$.summary.rps: 'fast' is not of type 'number'" "$tmp/bad/rps-text.json"
if [ -n "$server" ]; then
    edit "$server" "$tmp/bad/x.server.json" 'del d["cpu_seconds"]'
    expect 1 "'cpu_seconds' is a required property" "$tmp/bad/x.server.json"
fi
edit "$matrix/points/001.json" "$tmp/bad/done-without-report.json" 'd["report"] = None'
mkdir "$tmp/bad/points"
mv "$tmp/bad/done-without-report.json" "$tmp/bad/points/"
expect 1 "\$.report: None is not of type 'string'" "$tmp/bad/points"
# A schema 2 matrix report needs its pairs; schema 1 allows none.
mkdir "$tmp/bad/m2" "$tmp/bad/m1"
edit "$matrix2/report.json" "$tmp/bad/m2/report.json" 'del d["pairs"]'
expect 1 "\$: 'pairs' is a required property" "$tmp/bad/m2/report.json"
# The network is native, bridge or host (an optional field: older files lack it).
if [ -n "$server" ]; then
    edit "$server" "$tmp/bad/net.server.json" 'd["network"] = "wifi"'
    expect 1 "'wifi' is not one of ['native', 'bridge', 'host', 'overlay']" "$tmp/bad/net.server.json"
fi
edit "$matrix/report.json" "$tmp/bad/m1/report.json" 'd["pairs"] = []'
expect 1 "Additional properties are not allowed ('pairs' was unexpected)" "$tmp/bad/m1/report.json"
# The open loop's fields: an open loop states its rate, a closed one
# has no steps, a series point and a check have their exact members.
edit "$open_loop" "$tmp/bad/open-no-rate.json" 'd["config"]["rate"] = None'
expect 1 "open-no-rate.json: \$.config.rate: None is not of type 'object'" "$tmp/bad/open-no-rate.json"
edit "$open_loop" "$tmp/bad/closed-steps.json" 'd["config"].update(load="closed", rate=None)
d["summary"].update(planned=None, late=None)
d["percentiles_uncorrected_ms"] = None'
expect 1 "closed-steps.json: \$.steps" "$tmp/bad/closed-steps.json"
edit "$open_loop" "$tmp/bad/point-extra.json" 'd["series"]["points"][0]["latency"] = 1'
expect 1 "point-extra.json: \$.series" "$tmp/bad/point-extra.json"
edit "$open_loop" "$tmp/bad/check-op.json" 'd["checks"][0]["op"] = "~"'
expect 1 "check-op.json: \$.checks" "$tmp/bad/check-op.json"
# A folder with one bad file among good ones fails as a whole.
cp "$tmp/bad/no-variant.json" "$tmp/examples/"
expect 1 "1 of 13 files invalid" "$tmp/examples"

# 4. Bad usage.
expect 2 "no such file or folder" "$tmp/none"
echo '{"hello": "world"}' >"$tmp/bad/unknown.json"
expect 2 "no schema for this file" "$tmp/bad/unknown.json"
expect 2 "usage:"

echo "report schemas: ok"
