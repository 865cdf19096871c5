#!/usr/bin/env bash
# Run the libFuzzer harnesses built by `make fuzz-build`, one at a time.
#   fuzz/run.sh [-t SECONDS | -r RUNS] [-c DIR] [HARNESS...]
# (default: every harness, 60 s each). Each runs on a copy of its committed
# corpus (fuzz/corpus/<h> into DIR/<h>, by default build/fuzz/corpus/<h>,
# where the new inputs go: never into fuzz/), with
# fuzz/<h>.dict when there is one, and its target's stderr closed (the
# harnesses log at debug level; libFuzzer's lines and crash reports stay).
# A crashing (or hanging, 10 s) input is kept in build/fuzz/crashes/<h>/,
# the log in build/fuzz/logs/<h>.log. Prints one line per harness; exits
# 1 when any crashed, 2 on a usage error.
set -uo pipefail
cd "$(dirname "$0")/.."

FUZZ_BUILD=${FUZZ_BUILD:-build/fuzz}
limit=(-max_total_time=60)
corpus_root=$FUZZ_BUILD/corpus
while getopts t:r:c:h opt; do
    case $opt in
    t) limit=(-max_total_time="$OPTARG") ;;
    r) limit=(-runs="$OPTARG") ;;
    c) corpus_root=$OPTARG ;;
    h) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
    for bin in "$FUZZ_BUILD"/bin/fuzz_*; do
        [ -x "$bin" ] && harnesses+=("$(basename "$bin")")
    done
fi
if [ ${#harnesses[@]} -eq 0 ]; then
    echo "fuzz/run.sh: no harness in $FUZZ_BUILD/bin (make fuzz-build)" >&2
    exit 2
fi

# The last status line's figure after name ("cov:", "ft:", ...).
figure() { grep -o "$1 [0-9]*" <<<"$2" | tail -n 1 | cut -d' ' -f2; }

crashed=0
for h in "${harnesses[@]}"; do
    bin=$FUZZ_BUILD/bin/$h
    if [ ! -x "$bin" ]; then
        echo "fuzz/run.sh: no harness $bin" >&2
        exit 2
    fi
    corpus=$corpus_root/$h crashes=$FUZZ_BUILD/crashes/$h log=$FUZZ_BUILD/logs/$h.log
    mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
    [ -d "fuzz/corpus/$h" ] && cp -n fuzz/corpus/"$h"/* "$corpus"/ 2>/dev/null
    dict=()
    [ -f "fuzz/$h.dict" ] && dict=(-dict="fuzz/$h.dict")
    start=$(date +%s)
    "$bin" "${limit[@]}" "${dict[@]}" -timeout=10 -close_fd_mask=2 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1
    rc=$?
    seconds=$(($(date +%s) - start))
    status=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    per_second=""
    [ "${rate:-0}" -gt 0 ] 2>/dev/null && per_second=" ($rate/s)"
    summary="runs ${runs:-?}$per_second in ${seconds}s, cov $(figure cov: "$status"), ft $(figure ft: "$status"), corpus $(figure corp: "$status")"
    if [ "$rc" -eq 0 ]; then
        echo "$h: ok, $summary"
    else
        crashed=1
        input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        echo "$h: CRASHED (exit $rc), $summary; input ${input:-none written}; log $log"
        grep -m 1 -E 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error:' "$log"
    fi
done
exit "$crashed"
