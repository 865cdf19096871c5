# Sourced by run.sh: the run's progress on the terminal, read from the file
# loadgen replaces about once a second (--progress-file), so that it shows
# in Docker mode too, where loadgen has no TTY. Nothing is shown when stdout
# is not a terminal. In a matrix, LAB_POINT_LABEL ("run 3 of 15") and
# LAB_POINT_AFTER_S (the seconds the later points are expected to take)
# come from the matrix.

# format_seconds S: "42 s", "6 min 20 s", "1 h 02 min".
format_seconds() {
    awk -v s="$1" 'BEGIN { s = int(s + 0.5)
        if (s < 60) printf "%d s", s
        else if (s < 3600) printf "%d min %02d s", s / 60, s % 60
        else printf "%d h %02d min", s / 3600, (s % 3600) / 60 }'
}

# The awk function field(LINE, NAME): NAME's value in a progress line
# ("load", 12.5, 340; "" when it is not there), for progress_line and the
# sum of several loadgens' lines (run/swarm.sh).
progress_field_awk='
    function field(line, name,   m) {
        if (!match(line, "\"" name "\":(\"[a-z]*\"|[-0-9.e+]+|null)")) return ""
        m = substr(line, RSTART + length(name) + 3, RLENGTH - length(name) - 3)
        gsub(/"/, "", m)
        return m
    }'

# progress_line FILE PLANNED_S: one line from loadgen's progress JSON, then
# a tab and the seconds left.
progress_line() {
    local line
    line=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$line" ] || return 1
    awk -v line="$line" -v planned="$2" -v label="${LAB_POINT_LABEL:-}" \
        -v after="${LAB_POINT_AFTER_S:-0}" -v what="$variant c=$concurrency" "$progress_field_awk"'
        BEGIN {
            elapsed = field(line, "elapsed_s") + 0
            left = planned - elapsed; if (left < 0) left = 0
            left += after
            printf "%s%s  %s  %5.1f/%g s  done %s  rps %.1f  errors %s", \
                label == "" ? "" : "[" label "] ", what, field(line, "phase"), elapsed, planned, \
                field(line, "done"), field(line, "rps"), field(line, "errors")
            printf "\t%d\n", left
        }'
}

# show_progress FILE PLANNED_S: redraw the line twice a second until
# killed (the caller runs it in the background).
show_progress() {
    local line left
    [ -t 1 ] || return 0
    while :; do
        if IFS=$'\t' read -r line left < <(progress_line "$1" "$2"); then
            printf '\r%s  ~%s left\033[K' "$line" "$(format_seconds "$left")"
        fi
        sleep 0.5
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
