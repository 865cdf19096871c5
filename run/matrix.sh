# Sourced by run.sh: a matrix, every selected variant at every concurrency
# (or, --sweep rate=, every rate) of the sweep, each point --repeat times,
# interleaved (for each concurrency or rate, for each repeat, every
# variant: A B A B, so that a drift of the machine hits all alike). Each
# point is this script again for one variant (its own clean-up, as a
# single run); the plan, the points' outcomes and labreport's combined
# report go into results/<UTC>_matrix_<workload>/ (docs/REPORT.md, "A
# matrix").

# json_string TEXT: TEXT as a JSON string (the lab's own words: no control
# characters; quotes and backslashes escaped).
json_string() {
    local s=${1//\\/\\\\}
    printf '"%s"' "${s//\"/\\\"}"
}
json_number_or_null() { if [ -n "$1" ]; then printf '%s' "$1"; else printf null; fi; }

# write_once FILE TEXT: FILE through a temporary file, never replacing one.
write_once() {
    printf '%s\n' "$2" >"$1.tmp" && mv -n "$1.tmp" "$1" && rm -f "$1.tmp"
    [ -s "$1" ] || die "could not write $1"
}

# constant_rate: --rate's rate when it is one number (the points' offered
# rate), else nothing (a closed loop, a ramp or steps).
constant_rate() {
    [[ $rate =~ ^$number_re$ ]] && awk -v r="$rate" 'BEGIN { printf "%.10g\n", r }'
    return 0
}

# The points, in run order: "VARIANT C RATE REPEAT STATUS REASON" lines;
# RATE is the point's constant offered rate, or - (closed loop, ramp,
# steps). A rate sweep keeps -c: in an open loop it is the connection limit.
plan_points() {
    local value c point_rate r v reason
    local -A checked=() # "VARIANT C" -> its reason: each checked (and warned of) once
    for value in "${sweep_values[@]}"; do
        c=$concurrency
        point_rate=$(constant_rate)
        if [ "$sweep_kind" = rate ]; then point_rate=$value; else c=$value; fi
        for ((r = 1; r <= repeat; r++)); do
            for v in "${selected[@]}"; do
                [ -n "${checked["$v $c"]+set}" ] || checked["$v $c"]=$(point_check "$v" "$c")
                reason=${checked["$v $c"]}
                if [ -n "$reason" ]; then
                    printf '%s\t%s\t%s\t%s\tskipped\t%s\n' "$v" "$c" "${point_rate:--}" "$r" "$reason"
                else
                    printf '%s\t%s\t%s\t%s\tplanned\t\n' "$v" "$c" "${point_rate:--}" "$r"
                fi
            done
        done
    done
}

# rate_member RATE: ',"rate":RATE' for a point with a rate, else nothing.
rate_member() { [ "$1" = - ] || printf ',"rate":%s' "$1"; }

# point_shown C RATE: "c=100", or "c=100 rate=50" for a point with a rate.
point_shown() { printf 'c=%s' "$1"; [ "$2" = - ] || printf ' rate=%s' "$2"; }

# plan_json POINTS-FILE: plan.json's text.
plan_json() {
    local v c pr r status reason index=0 variants=() points=()
    for v in "${selected[@]}"; do
        variants+=("{\"name\":$(json_string "$v"),\"program\":$(json_string "$(variant_field "$v" 2)"),\"model\":$(json_string "$(variant_field "$v" 4)"),\"classic\":$(json_string "$(variant_field "$v" 5)")}")
    done
    while IFS=$'\t' read -r v c pr r status reason; do
        index=$((index + 1))
        points+=("{\"index\":$index,\"variant\":$(json_string "$v"),\"concurrency\":$c$(rate_member "$pr"),\"repeat\":$r,\"status\":\"$status\",\"reason\":$( [ -n "$reason" ] && json_string "$reason" || printf null)}")
    done <"$1"
    local sweep_json=null
    [ -z "$sweep" ] || sweep_json="{\"$( [ "$sweep_kind" = rate ] && echo rate || echo concurrency)\":[$(IFS=,; echo "${sweep_values[*]}")]}"
    # --ramp and the open loop's settings, only when given: a matrix
    # without them has the plan it always had.
    local given=
    [ "$ramp" = 0 ] || given+=",\"ramp_s\":$(awk -v s="$ramp" 'BEGIN { printf "%.10g", s }')"
    [ -z "$rate" ] || given+=",\"rate\":$(json_string "$rate")"
    [ -z "$step" ] || given+=",\"step_s\":$(awk -v s="$step" 'BEGIN { printf "%.10g", s }')"
    [ -z "$check" ] || given+=",\"check\":$(json_string "$check")"
    [ "$samples" = 0 ] || given+=",\"samples\":true"
    [ -z "$faults" ] || given+=",\"faults\":$(json_string "$faults"),\"fault_seed\":$fault_seed"
    [ -z "$slow_clients" ] || given+=",\"slow_clients\":$slow_clients"
    [ -z "$kill_every" ] || given+=",\"kill_worker_every_s\":$(awk -v s="$kill_every" 'BEGIN { printf "%.10g", s }')"
    printf '{"schema_version":1,"kind":"matrix-plan","workload":"%s","mode":"%s","network":"%s","created_at":"%s","command":%s,' \
        "$workload" "$lab_mode" "$network" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(json_string "$shown_command")"
    printf '"settings":{"concurrency":%s,"duration_s":%s,"requests":%s,"fanout":%s,"delay_s":%s,"timeout_s":%s,"warmup_s":%s,"upstream_http":"%s","upstream_timeout_s":%s%s},' \
        "$concurrency" "$duration" "$(json_number_or_null "$requests")" "$fanout" "$delay" "$timeout" \
        "$warmup" "$upstream_http" "$upstream_timeout" "$given"
    printf '"variants":[%s],"sweep":%s,"repeat":%s,"points":[%s]}' \
        "$(IFS=,; echo "${variants[*]}")" "$sweep_json" "$repeat" "$(IFS=,; echo "${points[*]}")"
}

# point_args C RATE: this script's arguments for one point at concurrency
# C and, unless RATE is -, that constant rate (else the matrix's --rate,
# if any).
point_args() {
    printf '%s\n' -c "$1" -d "$duration" --fanout "$fanout" --delay "$delay" \
        --timeout "$timeout" --warmup "$warmup" --ramp "$ramp" --upstream-timeout "$upstream_timeout" \
        --upstream-http "$upstream_http" --out "$matrix_dir" --no-build
    [ -z "$requests" ] || printf '%s\n' -n "$requests"
    if [ "$swarm" = 1 ]; then
        printf '%s\n' --swarm --load-nodes "$load_nodes"
        [ "$images_given" = 0 ] || printf '%s\n' --images "$swarm_images"
    elif [ "$native" = 0 ]; then
        printf '%s\n' --network "$network"
    else
        printf '%s\n' --native
    fi
    if [ "$2" != - ]; then
        printf '%s\n' --rate "$2"
    elif [ -n "$rate" ]; then
        printf '%s\n' --rate "$rate"
    fi
    [ -z "$step" ] || printf '%s\n' --step "$step"
    [ -z "$check" ] || printf '%s\n' --check "$check"
    [ -z "$faults" ] || printf '%s\n' --faults "$faults" --fault-seed "$fault_seed"
    [ -z "$slow_clients" ] || printf '%s\n' --slow-clients "$slow_clients"
    [ -z "$kill_every" ] || printf '%s\n' --kill-worker-every "$kill_every"
    [ "$samples" = 0 ] || printf '%s\n' --samples
}

# The seconds a point's load takes, as planned (a -n run: the warm-up only).
point_load_s() {
    if [ -n "$requests" ]; then echo "$warmup"; else awk -v w="$warmup" -v d="$duration" 'BEGIN { print w + d }'; fi
}

run_matrix() {
    # Every point checked against the machine's limits before anything is
    # written: one that cannot fit is skipped with its reason; when none
    # can, the matrix is refused as a single run is (exit 1, no folder).
    [ "$limit_check" = 0 ] || limits_read
    plan_points >"$work_dir/points"
    if ! awk -F'\t' '$5 == "planned" { found = 1 } END { exit !found }' "$work_dir/points"; then
        awk -F'\t' '!seen[$1 " " $2]++ { printf "run.sh: cannot run: %s\n", $6 }' "$work_dir/points" >&2
        die "no point of the matrix fits this machine: nothing was started (--no-limit-check skips the check)"
    fi
    make_out
    local stamp
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    matrix_dir=$out/${stamp}_matrix_$workload
    local n=1
    while ! mkdir "$matrix_dir" 2>/dev/null; do
        n=$((n + 1))
        [ $n -le 100 ] || die "cannot make a matrix folder in $shown_out"
        matrix_dir=$out/${stamp}_matrix_$workload-$n
    done
    mkdir "$matrix_dir/points"
    local shown_dir=${matrix_dir#"$user_dir"/}

    write_once "$matrix_dir/plan.json" "$(plan_json "$work_dir/points")"
    local total planned skipped
    total=$(wc -l <"$work_dir/points")
    planned=$(awk -F'\t' '$5 == "planned"' "$work_dir/points" | wc -l)
    skipped=$((total - planned))
    local swept="concurrency"
    [ "$sweep_kind" != rate ] || swept="rate(s)"
    say "matrix: ${#selected[@]} variant(s) x ${#sweep_values[@]} $swept x $repeat repeat(s): $planned run(s), $skipped skipped; folder $shown_dir"
    awk -F'\t' '$5 == "skipped" { printf "run.sh: skipped: %s at c=%s%s: %s\n", $1, $2,
                                        $3 == "-" ? "" : " rate=" $3, $6 }' "$work_dir/points"

    if [ "$lab_mode" = docker ]; then
        build_images "${selected[@]}"
        docker_versions
    else
        build_programs
    fi

    local index=0 k=0 v c pr r status reason started elapsed report failed=0 checks_failed=0
    local load_s overhead_s=5 overheads=0 overhead_sum=0 args=()
    load_s=$(point_load_s)
    while IFS=$'\t' read -r v c pr r status reason; do
        index=$((index + 1))
        [ "$status" = planned ] || continue
        k=$((k + 1))
        readarray -t args < <(point_args "$c" "$pr")
        started=$EPOCHREALTIME
        status=0
        rm -f "$work_dir/report-path"
        LAB_IN_MATRIX=1 LAB_REPORT_PATH_FILE=$work_dir/report-path \
        LAB_POINT_LABEL="run $k of $planned" \
        LAB_POINT_AFTER_S=$(awk -v n=$((planned - k)) -v l="$load_s" -v o="$overhead_s" 'BEGIN { print n * (l + o) }') \
            in_background "$lab_dir/run.sh" "${args[@]}" "$v" "$workload" || status=$?
        elapsed=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
        # The lab's own time per point, for the estimate of what is left.
        overheads=$((overheads + 1))
        overhead_sum=$(awk -v s="$overhead_sum" -v e="$elapsed" -v l="$load_s" 'BEGIN { print s + e - l }')
        overhead_s=$(awk -v s="$overhead_sum" -v n="$overheads" 'BEGIN { print s / n }')
        if { [ "$status" = 0 ] || [ "$status" = 3 ]; } && [ -s "$work_dir/report-path" ]; then
            # 3: the run was done, and a --check failed (its report says which).
            [ "$status" != 3 ] || checks_failed=$((checks_failed + 1))
            report=$(json_string "$(basename "$(cat "$work_dir/report-path")")") reason=null
            status=done
        else
            failed=$((failed + 1))
            report=null reason=$(json_string "run.sh exited with status $status")
            [ "$status" != 2 ] || reason=$(json_string "run.sh exited with status 2: loadgen refused the options")
            status=failed
        fi
        write_once "$matrix_dir/points/$(printf %03d "$index").json" \
            "{\"index\":$index,\"variant\":$(json_string "$v"),\"concurrency\":$c$(rate_member "$pr"),\"repeat\":$r,\"status\":\"$status\",\"report\":$report,\"reason\":$reason,\"elapsed_s\":$elapsed}"
        # Bad usage (a --rate or --check loadgen refused before any load)
        # would be the same at every point: stop (the clean-up writes the
        # report of what was done).
        if [[ $reason == *"status 2: "* ]]; then
            printf 'run.sh: loadgen refused the options: the matrix stops\n' >&2
            exit 2
        fi
        [ "$status" = done ] || say "run $k of $planned ($v at $(point_shown "$c" "$pr")) failed; the matrix goes on"
    done <"$work_dir/points"

    say "matrix report: labreport matrix $shown_dir"
    labreport matrix "$matrix_dir" >/dev/null || die "labreport could not write the matrix report"
    # The results table, and the C and Python one when there is one, as
    # report.md has them.
    awk '/^\| (variant|classic) \|/ { shown = 1 } shown && !/^\|/ { shown = 0; print "" } shown' \
        "$matrix_dir/report.md"
    [ "$out" != "$lab_dir/results" ] || labreport index "$out" >/dev/null ||
        echo "run.sh: could not update results/README.md" >&2
    say "report: $shown_dir/report.md"
    if [ "$checks_failed" -gt 0 ]; then
        # The Flags section of report.md names each failed check.
        echo "run.sh: $checks_failed of $planned run(s) failed a check:" >&2
        sed -n 's/^- \(.*: check failed.*\)/  \1/p' "$matrix_dir/report.md" >&2
    fi
    [ "$failed" = 0 ] || die "$failed of $planned run(s) failed (the report lists them)"
    [ "$checks_failed" = 0 ] || exit 3
}
