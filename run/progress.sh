# Sourced by run.sh: the run's progress on the terminal, read from the file
# loadgen replaces about once a second (--progress-file), so that it shows
# in Docker mode too, where loadgen has no TTY. Nothing is shown when stdout
# is not a terminal. In a matrix, LAB_POINT_LABEL ("run 3 of 15") and
# LAB_POINT_AFTER_S (the seconds the later points are expected to take)
# come from the matrix.

# The line is redrawn twice a second beside the load, on the same CPUs:
# everything here is bash's own (read, a regex, printf, integer tenths of
# a second, a timed read for the pause), with no program started per
# redraw. See run/sampler.sh for what forks cost a run.

# format_seconds S: sets formatted to "42 s", "6 min 20 s" or "1 h 02 min"
# (S whole seconds).
format_seconds() {
    local s=$1
    if [ "$s" -lt 60 ]; then printf -v formatted '%d s' "$s"
    elif [ "$s" -lt 3600 ]; then printf -v formatted '%d min %02d s' $((s / 60)) $((s % 60))
    else printf -v formatted '%d h %02d min' $((s / 3600)) $((s % 3600 / 60))
    fi
}

# tenths X: sets tenths to the decimal number X in tenths, rounded (0 for
# anything else).
tenths() {
    local t
    printf -v t '%.1f' "$1" 2>/dev/null || t=0.0
    [[ $t =~ ^(-?)([0-9]+)\.([0-9])$ ]] || { tenths=0; return 0; }
    tenths=$((10#${BASH_REMATCH[2]}${BASH_REMATCH[3]}))
    [ -z "${BASH_REMATCH[1]}" ] || tenths=$((-tenths))
}

# progress_field LINE NAME: sets value to NAME's value in a progress line
# ("load", 12.5, 340; "" when it is not there), for progress_line and the
# sum of several loadgens' lines (run/swarm.sh).
progress_field() {
    local re="\"$2\":(\"[a-z]*\"|[-0-9.e+]+|null)"
    value=
    [[ $1 =~ $re ]] || return 0
    value=${BASH_REMATCH[1]//\"/}
}

# progress_line LINE PLANNED_S: sets shown to the line drawn for loadgen's
# progress JSON LINE: what is measured, the phase, the seconds done and
# planned, the requests done, rps, errors, and about how long is left.
progress_line() {
    local value elapsed phase done rps errors tenths left formatted label=
    [ -z "${LAB_POINT_LABEL:-}" ] || label="[$LAB_POINT_LABEL] "
    progress_field "$1" elapsed_s; elapsed=$value
    [[ $elapsed =~ ^[0-9.e+-]+$ ]] || elapsed=0
    progress_field "$1" phase; phase=$value
    progress_field "$1" done; done=$value
    progress_field "$1" rps; rps=$value
    [[ $rps =~ ^[0-9.e+-]+$ ]] || rps=0
    progress_field "$1" errors; errors=$value
    tenths "$2"; left=$tenths
    tenths "$elapsed"; left=$((left - tenths))
    [ "$left" -ge 0 ] || left=0
    tenths "${LAB_POINT_AFTER_S:-0}"; left=$((left + tenths))
    format_seconds $(((left + 5) / 10))
    printf -v shown '%s%s  %s  %5.1f/%g s  done %s  rps %.1f  errors %s  ~%s left' \
        "$label" "$variant c=$concurrency" "$phase" "$elapsed" "$2" "$done" "$rps" "$errors" \
        "$formatted"
}

# show_progress FILE PLANNED_S: redraw the line twice a second until
# killed (the caller runs it in the background).
show_progress() {
    local line shown pause_fd
    [ -t 1 ] || return 0
    pause_open || return 0
    while :; do
        line=
        read -r line 2>/dev/null <"$1" || true
        if [ -n "$line" ]; then
            progress_line "$line" "$2"
            printf '\r%s\033[K' "$shown"
        fi
        read -r -t 0.5 -u "$pause_fd" _ || true
    done
}

# start_progress FILE: show the progress of the load in the background.
start_progress() {
    local planned
    if [ -n "$requests" ]; then
        planned=$warmup
    else
        planned=$(awk -v w="$warmup" -v d="$duration" 'BEGIN { print w + d }')
    fi
    show_progress "$1" "$planned" &
    progress_pid=$!
    pids+=("$progress_pid")
}

# stop_progress: end the line (the next output starts on a clean line).
stop_progress() {
    [ -n "${progress_pid:-}" ] || return 0
    kill "$progress_pid" 2>/dev/null || true
    wait "$progress_pid" 2>/dev/null || true
    progress_pid=
    [ -t 1 ] && printf '\r\033[K'
    return 0
}
