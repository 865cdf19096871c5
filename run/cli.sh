# Sourced by run.sh: the command line and the run plan. Sets the settings
# (concurrency, duration, rate, ...), the command ($command: run, list,
# report or compare) and, for a run, the variants it selects ($selected)
# and the points of a sweep ($sweep_kind, c or rate, and $sweep_values).

usage() {
    cat <<EOF
usage: ./run.sh [options] VARIANT|CLASSIC-NAME|all WORKLOAD
       ./run.sh list
       ./run.sh report DIR
       ./run.sh compare A B [--fail-on-regression] [--noise PCT]

Runs slowapi, a server variant and loadgen; loadgen writes a report (JSON,
Markdown) to the output folder. WORKLOAD is io or cpu. One variant gives one
report. 'all', a classic study's name (sync-uwsgi, ...: its variants), several
variants (--only), a sweep or repeats run a matrix: every run, one after
another under the same settings, into results/<UTC>_matrix_<workload>/ with a
combined report.md, report.json and SVG charts. './run.sh list' shows the
variants and the classic names. The variants are the lab's C servers and the
classic study's own Python deployments (py-*): --impl picks which of them a
classic name or 'all' runs.

options:
  -c, --concurrency N       concurrent clients (100); with --rate, the most
                            connections loadgen opens
  -d, --duration S          seconds of load (30)
  -n, --requests N          this many requests instead of a duration
      --fanout N            upstream calls per /io request (10)
      --delay S             slowapi's delay per upstream call, seconds (1)
      --timeout S           loadgen's timeout per request, seconds (30)
      --ramp S              a closed loop starts its clients evenly over S
                            seconds instead of all at once (0); S = the delay
                            keeps their rounds apart (at c=1000 all at once,
                            every round arrives as one burst and queues:
                            README, "Closed loops in step"); pair it with
                            --warmup of at least S
      --warmup S            leave requests issued in the first S seconds out of
                            the statistics (0: every request counts)
      --upstream-timeout S  the variant's timeout per upstream call (5)
      --upstream-http V     1.1, or 2: the variant calls slowapi over HTTP/2
                            without TLS, a fan-out's calls as streams of one
                            connection (for c x FANOUT above the open-file
                            limit; the classic study's upstream was 1.1)
      --rate SPEC           an open loop: requests sent on a schedule, whatever
                            the answers (-c is then the connection limit):
                            R (per second), R0:R1:Ts (a ramp over T s, then
                            R1), or R1,R2,... with --step S (each rate for S
                            seconds; the run lasts n x S). Latencies count from
                            each request's planned send
      --step S              with --rate R1,R2,...: seconds per rate
      --check EXPRS         pass/fail checks on the run, e.g.
                            'p99<1100ms,rps>95,failures=0': each is printed with
                            its measured value; a failed one makes the exit
                            status 3 (after every report is written)
      --faults SPEC         slowapi injects faults into every upstream call:
                            NAME=PERCENT, comma-separated, of error (500 after
                            the delay), reset (the connection reset), hang
                            (never answered) and jitter (the delay moved by up
                            to that share), e.g. 'error=5%,reset=2%,hang=1%';
                            drawn from a seed (--fault-seed N, 1), so a run
                            repeats; the report records them
      --slow-clients N      beside the load, N slowloris-style clients that
                            never finish a request (a header line a second;
                            one the server closes comes back), while GET
                            /healthz is timed every 200 ms; the report says
                            what they should do to the model and what they did
      --kill-worker-every S kill -9 one worker of a multi-process variant
                            every S seconds of the load (its master starts
                            another); the report lists the kills
      --samples             keep every request of each run beside its report,
                            <UTC>_<variant>_<workload>.samples.csv.gz
                            (gzip'd CSV; the report's samples.path names it)
      --only LIST           with 'all': these variants or classic names only
                            (comma-separated, in this order)
      --impl c|python|both  what a classic name or 'all' runs: the C variants
                            (c, the default), the study's Python deployments
                            (python), or both, each C variant beside its
                            Python deployment, and the report sets them side
                            by side (C/Python ratios, the published figure)
      --sweep c=N,N,...     each variant at each concurrency (a matrix)
      --sweep rate=R,R,...  each variant at each constant rate (an open loop;
                            -c stays the connection limit): the report draws
                            p99 against offered load (latency-vs-rate.svg)
      --repeat K            each point K times, interleaved (A B A B) (1)
      --native              local processes from build/bin instead of Docker
      --network bridge|host Docker: the containers on Compose's own bridge
                            network (bridge, the default), or on the host's
                            network namespace (host: no bridge, no NAT, as
                            TechEmpower runs; free ports are picked, the
                            host's somaxconn applies). Every report records
                            the network: native, bridge or host
      --no-limit-check      skip the check of descriptors, ephemeral ports,
                            threads and memory made before each run (a run
                            that cannot fit is refused with its figures,
                            exit 1; a matrix skips such a point)
      --swarm               Docker Swarm: slowapi, the variant and loadgen as a
                            stack, each placed by node label (lab.role=upstream,
                            server, load; one node without labels runs all),
                            run once and removed; loadgen's files come back
                            in its tasks' logs, from any node, with no folder
                            shared (README, "Docker Swarm")
      --load-nodes N        --swarm: N loadgens, each -c / N clients (or the
                            rate / N), one per node labelled lab.role=load
                            when there are N, started together; their reports
                            are merged into one, the latencies from all their
                            samples (labreport merge), each one's kept beside
      --images local|registry  --swarm: the images the nodes run: those built
                            here (local, the default on one node), or pushed
                            to a registry of the lab's own started for the run
                            (registry, the default on several nodes)
      --no-build            Docker: use the images as they are (a series of
                            runs after one 'make images'); default: build
      --out DIR             folder for the reports (results/)
  -h, --help                this help

report DIR rebuilds every Markdown and SVG under DIR from its JSON (DIR =
results/: every run and matrix, and the index results/README.md). compare A B
sets two reports or matrix folders side by side, a verdict per metric.

Docker mode builds the images when needed (make images) and removes every
container and network of the run afterwards. Before a run, run.sh checks
that it fits: descriptors per server process and loadgen's (NOFILE or
ulimit -Hn), ephemeral ports per destination, threads, memory (run/limits.sh
has the arithmetic). CPU sets come from SERVER_CPUS,
LOADGEN_CPUS and SLOWAPI_CPUS (1, 0, 0: the server alone on CPU 1), in
Docker and, with taskset, natively. Exit status: 0 when the runs were done
(failed requests are data), 2 for bad arguments (loadgen's refusal of a
--rate or --check included), 1 when a run could not be done (in a matrix:
the others still run, and the report says which), 3 when every run was done
but a --check failed (a matrix runs every point first; its report lists the
failed checks).
EOF
}

say() { printf 'run.sh: %s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }
bad_usage() {
    printf 'run.sh: %s\n' "$1" >&2
    echo "try './run.sh --help'" >&2
    exit 2
}

rows() { awk -F'\t' '!/^#/ && NF' "$1"; }
classic_names() { rows "$classic_table" | cut -f1; }
# impl_rows c|python: the variants table's rows of one implementation (a
# Python deployment's program is services/python/lab-python).
impl_rows() {
    rows "$variants_table" | awk -F'\t' -v impl="$1" '(impl == "python") == ($2 == "lab-python")'
}
# variant_names [c|python]: every variant, or those of one implementation.
variant_names() {
    if [ -n "${1:-}" ]; then impl_rows "$1" | cut -f1; else rows "$variants_table" | cut -f1; fi
}
# variant_impl NAME: c or python.
variant_impl() {
    if [ "$(variant_field "$1" 2)" = lab-python ]; then echo python; else echo c; fi
}

# aligned A B C: columns A, B and C of the table's rows on stdin, the first
# two padded to their widest.
aligned() {
    awk -F'\t' -v a="$1" -v b="$2" -v c="$3" '
        { x[NR] = $a; y[NR] = $b; z[NR] = $c
          if (length($a) > w1) w1 = length($a); if (length($b) > w2) w2 = length($b) }
        END { for (i = 1; i <= NR; i++) printf "  %-*s  %-*s  %s\n", w1, x[i], w2, y[i], z[i] }'
}

# The variants and the classic names.
list_variants() {
    echo "C variants (name, model, the classic deployment it mirrors):"
    impl_rows c | aligned 1 4 5
    echo
    echo "The classic study's Python deployments (name, model, deployment):"
    impl_rows python | aligned 1 4 5
    echo
    echo "The classic study's names (each runs its C variants as a matrix;"
    echo "--impl python: its Python deployments; both: each C variant, then its Python one):"
    rows "$classic_table" | aligned 1 2 4
}

# variant_field NAME COLUMN: a column of the variant's row (2 program,
# 3 settings, 4 model, 5 classic deployment).
variant_field() { rows "$variants_table" | awk -F'\t' -v n="$1" -v c="$2" '$1 == n { print $c }'; }

# variant_setting NAME FLAG DEFAULT: the value of a server flag in the
# variant's settings (--workers 4 -> 4), or DEFAULT.
variant_setting() {
    local words word found=0
    read -r -a words <<<"$(variant_field "$1" 3)"
    for word in "${words[@]}"; do
        [ "$found" = 1 ] && { echo "$word"; return; }
        [ "$word" = "$2" ] && found=1
    done
    echo "$3"
}

# known NAME: 0 when NAME is a variant, a classic name or 'all'.
known() {
    [ "$1" = all ] || variant_names | grep -qxF -- "$1" || classic_names | grep -qxF -- "$1"
}

# expand NAME: the variants a known name stands for, by $impl: a classic
# name's C variants (column 2), its Python deployments (column 3), or both,
# each C variant before its Python one. 'all': the implementation's variants
# in the table's order; with both, every classic name so (the pairs side by
# side), then the variants no classic name runs.
expand() {
    if [ "$1" = all ] && [ "$impl" != both ]; then
        variant_names "$impl"
    elif [ "$1" = all ]; then
        { classic_names | while read -r name; do expand "$name"; done
          variant_names; } | awk '!seen[$0]++'
    elif classic_names | grep -qxF -- "$1"; then
        rows "$classic_table" | awk -F'\t' -v n="$1" -v impl="$impl" '$1 == n {
            nc = split($2, c, " "); np = split($3, p, " ")
            for (i = 1; i <= (nc > np ? nc : np); i++) {
                if (impl != "python" && i <= nc) print c[i]
                if (impl != "c" && i <= np) print p[i]
            } }'
    else
        echo "$1"
    fi
}

# check_number NAME VALUE integer|number: an integer >= 1, or a number >= 0.
check_number() {
    if [ "$3" = integer ]; then
        [[ $2 =~ ^[1-9][0-9]*$ ]] ||
            bad_usage "$1 wants a whole number of at least 1, not '$2'"
    else
        [[ $2 =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]] ||
            bad_usage "$1 wants a number of at least 0, not '$2'"
    fi
}

concurrency=100
duration=30
duration_given=0
requests=
fanout=10
delay=1
timeout=30
warmup=0
ramp=0
upstream_timeout=${UPSTREAM_TIMEOUT:-5}
upstream_http=${UPSTREAM_HTTP:-1.1}
rate=
step=
check=
faults=
fault_seed=1
slow_clients=
kill_every=
samples=0
native=0
swarm=0
swarm_images=
images_given=0
load_nodes=1
network=
limit_check=1
build=1
out=
only=
sweep=
repeat=1
impl=c
compare_args=()
positional=()

parse_args() {
    local arg value
    while [ $# -gt 0 ]; do
        arg=$1
        shift
        case $arg in
            --*=*) value=${arg#*=}; arg=${arg%%=*}; set -- "$value" "$@" ;;
        esac
        case $arg in
            -h | --help) usage; exit 0 ;;
            --native) native=1; continue ;;
            --swarm) swarm=1; continue ;;
            --no-limit-check) limit_check=0; continue ;;
            --no-build) build=0; continue ;;
            --samples) samples=1; continue ;;
            --fail-on-regression) compare_args+=("$arg"); continue ;;
            -c | --concurrency | -d | --duration | -n | --requests | --fanout | \
            --delay | --timeout | --warmup | --ramp | --upstream-timeout | --upstream-http | --out | \
            --only | --sweep | --repeat | --noise | --impl | --rate | --step | --check | \
            --network | --faults | --fault-seed | --slow-clients | --kill-worker-every | --load-nodes | \
            --images)
                [ $# -gt 0 ] || bad_usage "$arg needs a value" ;;
            --) positional+=("$@"); break ;;
            -?*) bad_usage "unknown option '$arg'" ;;
            *) positional+=("$arg"); continue ;;
        esac
        value=$1
        shift
        case $arg in
            -c | --concurrency) check_number "$arg" "$value" integer; concurrency=$value ;;
            -d | --duration) check_number "$arg" "$value" number; duration=$value; duration_given=1 ;;
            -n | --requests) check_number "$arg" "$value" integer; requests=$value ;;
            --fanout) check_number "$arg" "$value" integer; fanout=$value ;;
            --delay) check_number "$arg" "$value" number; delay=$value ;;
            --timeout) check_number "$arg" "$value" number; timeout=$value ;;
            --warmup) check_number "$arg" "$value" number; warmup=$value ;;
            --ramp) check_number "$arg" "$value" number; ramp=$value ;;
            --upstream-timeout) check_number "$arg" "$value" number; upstream_timeout=$value ;;
            --upstream-http) upstream_http=$value ;;
            --out) [ -n "$value" ] || bad_usage "--out needs a folder"; out=$value ;;
            --only) [ -n "$value" ] || bad_usage "--only needs a list"; only=$value ;;
            --sweep) sweep=$value ;;
            --rate) rate=$value ;;
            --step) step=$value ;;
            --check) check=$value ;;
            --faults)
                # slowapi checks the rest (100% at most for error, reset
                # and hang together) and refuses to start otherwise.
                [[ $value =~ ^(error|reset|hang|jitter)=[0-9]+(\.[0-9]+)?%?(,(error|reset|hang|jitter)=[0-9]+(\.[0-9]+)?%?)*$ ]] ||
                    bad_usage "--faults wants NAME=PERCENT[,...] with NAME one of error, reset, hang, jitter, not '$value'"
                faults=$value ;;
            --fault-seed)
                [[ $value =~ ^[0-9]{1,9}$ ]] || bad_usage "--fault-seed wants a whole number, not '$value'"
                fault_seed=$value ;;
            --slow-clients) check_number "$arg" "$value" integer; slow_clients=$value ;;
            --load-nodes) check_number "$arg" "$value" integer; load_nodes=$value ;;
            --images)
                case $value in
                    local | registry) swarm_images=$value; images_given=1 ;;
                    *) bad_usage "--images wants local or registry, not '$value'" ;;
                esac ;;
            --kill-worker-every)
                check_number "$arg" "$value" number
                awk -v s="$value" 'BEGIN { exit !(s > 0) }' || bad_usage "--kill-worker-every wants seconds above 0, not '$value'"
                kill_every=$value ;;
            --network)
                case $value in
                    bridge | host) network=$value ;;
                    *) bad_usage "--network wants bridge or host, not '$value'" ;;
                esac ;;
            --repeat) check_number "$arg" "$value" integer; repeat=$value ;;
            --impl)
                case $value in
                    c | python | both) impl=$value ;;
                    *) bad_usage "--impl wants c, python or both, not '$value'" ;;
                esac ;;
            --noise) compare_args+=("$arg" "$value") ;;
        esac
    done
    case $upstream_http in
        1.1 | 2) ;;
        *) bad_usage "--upstream-http wants 1.1 or 2, not '$upstream_http'" ;;
    esac
    [ -z "$network" ] || [ "$native" = 0 ] ||
        bad_usage "--network $network goes with Docker runs (a native run is on the loopback)"
    [ "$swarm" = 0 ] || [ "$native" = 0 ] ||
        bad_usage "--swarm runs in Docker Swarm: leave --native out"
    [ "$swarm" = 0 ] || [ -z "$network" ] ||
        bad_usage "--swarm runs on the stack's overlay network: leave --network out"
    [ "$images_given" = 0 ] || [ "$swarm" = 1 ] || bad_usage "--images goes with --swarm"
    if [ "$load_nodes" -gt 1 ]; then
        [ "$swarm" = 1 ] || bad_usage "--load-nodes goes with --swarm"
        [ $((concurrency % load_nodes)) = 0 ] ||
            bad_usage "-c $concurrency over --load-nodes $load_nodes: give a multiple of $load_nodes (each loadgen the same share)"
        [ -z "$requests" ] || bad_usage "-n goes with one loadgen: --load-nodes shares a duration (-d)"
        [ -z "$check" ] || bad_usage "--check goes with one loadgen: check the merged report with 'labreport check'"
        [ -z "$slow_clients" ] || bad_usage "--slow-clients goes with one loadgen"
    fi
    check_open_loop
    plan_command
}

# A rate, a duration or a threshold as the shell can check it: digits with
# at most one point.
number_re='([0-9]+\.?[0-9]*|\.[0-9]+)'

# check_open_loop: --rate, --step and --check as far as the shell can tell
# (loadgen checks the rest before any load, and exits 2: run.sh says so).
# A step schedule fixes the duration: n x S, which run.sh passes as -d.
check_open_loop() {
    if [ -n "$rate" ] || [[ $sweep == rate=* ]]; then
        [ -z "$requests" ] || bad_usage "-n goes with the closed loop; an open loop (--rate) runs for -d seconds"
        [ "$ramp" = 0 ] || bad_usage "--ramp staggers a closed loop's clients; an open loop ramps with --rate R0:R1:Ts"
    fi
    [ -n "$requests" ] || awk -v r="$ramp" -v d="$duration" 'BEGIN { exit !(r < d) }' ||
        bad_usage "--ramp $ramp must be shorter than the run (-d $duration)"
    if [ -n "$rate" ]; then
        [[ $rate =~ ^$number_re(:$number_re:${number_re}s?|(,$number_re)+)?$ ]] ||
            bad_usage "--rate wants R, R0:R1:Ts or R1,R2,... (requests per second), not '$rate'"
    fi
    if [[ $rate == *:* ]]; then
        local ramp_s=${rate##*:}
        awk -v t="${ramp_s%s}" -v d="$duration" 'BEGIN { exit !(t <= d) }' ||
            bad_usage "--rate $rate ramps for ${ramp_s%s} s, longer than the run (-d $duration)"
    fi
    if [[ $rate == *,* ]]; then
        [ -n "$step" ] || bad_usage "--rate $rate (a list) needs --step S: the seconds of each rate"
        [[ $step =~ ^${number_re}s?$ ]] || bad_usage "--step wants seconds (10 or 10s), not '$step'"
        step=${step%s} # loadgen's --step takes a number
        local n steps_s
        n=$(tr -cd , <<<"$rate" | wc -c)
        steps_s=$(awk -v n=$((n + 1)) -v s="$step" 'BEGIN { print n * s }')
        if [ "$duration_given" = 1 ] && ! awk -v a="$duration" -v b="$steps_s" 'BEGIN { exit !(a == b) }'; then
            bad_usage "--rate $rate --step $step lasts $steps_s s: leave -d out (or make it $steps_s)"
        fi
        duration=$steps_s
    elif [ -n "$step" ]; then
        bad_usage "--step goes with a list of rates: --rate R1,R2,... --step S"
    fi
    if [ -n "$check" ]; then
        # Blanks around the tokens mean nothing, and without them each check
        # is one word in every command line (Compose's included).
        check=${check//[[:space:]]/}
        [[ ! $check =~ (^|,)(,|$) ]] ||
            bad_usage "--check wants METRIC OP NUMBER[UNIT],... (e.g. 'p99<1100ms,failures=0'), with no empty one"
        local expr exprs
        IFS=, read -r -a exprs <<<"$check"
        for expr in "${exprs[@]}"; do
            [[ $expr =~ ^[a-z][a-z0-9_.]*(<=|>=|==|!=|<|>|=)$number_re(ms|us|s|%)?$ ]] ||
                bad_usage "--check: '$expr' is not METRIC OP NUMBER[UNIT] (e.g. p99<1100ms, rps>95, failures=0)"
        done
    fi
}

# plan_sweep: $sweep_kind (c or rate) and $sweep_values, the points' values
# of it (without --sweep: the one concurrency).
plan_sweep() {
    sweep_kind=c
    sweep_values=("$concurrency")
    case $sweep in
        '') ;;
        c=*)
            [[ $sweep =~ ^c=[1-9][0-9]*(,[1-9][0-9]*)*$ ]] ||
                bad_usage "--sweep c= wants whole numbers of at least 1, not '${sweep#c=}'"
            IFS=, read -r -a sweep_values <<<"${sweep#c=}" ;;
        rate=*)
            [[ $sweep =~ ^rate=$number_re(,$number_re)*$ ]] ||
                bad_usage "--sweep rate= wants numbers (requests per second), not '${sweep#rate=}'"
            [ -z "$rate" ] || bad_usage "--sweep rate= sets each point's rate: leave --rate out"
            sweep_kind=rate
            # As JSON numbers (.5 is not one): plan.json and loadgen get these.
            readarray -t sweep_values < <(tr , '\n' <<<"${sweep#rate=}" | awk '{ printf "%.10g\n", $1 }')
            local r
            for r in "${sweep_values[@]}"; do
                awk -v r="$r" 'BEGIN { exit !(r > 0) }' ||
                    bad_usage "--sweep rate= wants rates above 0, not '$r'"
            done
            [ "$(printf '%s\n' "${sweep_values[@]}" | sort -u | wc -l)" = ${#sweep_values[@]} ] ||
                bad_usage "--sweep rate= names a rate twice: '${sweep#rate=}'" ;;
        *) bad_usage "--sweep wants c=N,N,... (concurrencies) or rate=R,R,... (rates), not '$sweep'" ;;
    esac
}

# From the positional words: the command, and for a run the selection.
plan_command() {
    command=run
    case ${positional[0]:-} in
        list) [ ${#positional[@]} -eq 1 ] || bad_usage "'list' takes no more words"
              command=list; return ;;
        report) [ ${#positional[@]} -eq 2 ] || bad_usage "want 'report DIR'"
                command=report; return ;;
        compare) [ ${#positional[@]} -eq 3 ] || bad_usage "want 'compare A B'"
                 command=compare; return ;;
    esac
    [ ${#compare_args[@]} -eq 0 ] || bad_usage "--fail-on-regression and --noise go with 'compare'"
    [ ${#positional[@]} -eq 2 ] || bad_usage "want VARIANT and WORKLOAD (or 'list')"
    workload=${positional[1]}
    case $workload in
        io | cpu) ;;
        *) bad_usage "unknown workload '$workload'; the workloads: io cpu" ;;
    esac
    local names=${positional[0]} name
    if [ -n "$only" ]; then
        [ "$names" = all ] || bad_usage "--only goes with 'all'"
        names=${only//,/ }
    fi
    selected=()
    for name in $names; do
        known "$name" ||
            bad_usage "unknown variant '$name'; the variants: $(variant_names | paste -sd' ' -); the classic names: $(classic_names | paste -sd' ' -)"
        for name in $(expand "$name"); do
            # Each variant once, in the order first named.
            printf '%s\n' "${selected[@]}" | grep -qxF -- "$name" || selected+=("$name")
        done
    done
    plan_sweep
    # One variant at one point, once: a single report. Anything more: a matrix.
    matrix=0
    if [ ${#selected[@]} -gt 1 ] || [ -n "$sweep" ] || [ "$repeat" -gt 1 ] ||
        [ "${positional[0]}" = all ]; then
        matrix=1
    fi
}
