# Sourced by the shell scripts of tests/ and bench/: start a lab program
# and wait on its ready pipe, never on a sleep.

# lab_start NAME DIR CMD...: run CMD --host 127.0.0.1 --port 0 --ready-fd 3
# (--port LAB_PORT when set) in the background, its stderr in DIR/NAME.log,
# and wait (at most LAB_READY_TIMEOUT_S, 10 s) for the port it reports. Sets $port and
# $started_pid; when no port comes (it died, or hung), prints its log and
# returns 1.
lab_start() {
    local name=$1 dir=$2 fifo=$2/$1.ready
    shift 2
    rm -f "$fifo"
    mkfifo "$fifo"
    "$@" --host 127.0.0.1 --port "${LAB_PORT:-0}" --ready-fd 3 3>"$fifo" 2>"$dir/$name.log" &
    started_pid=$!
    port=
    # Ends at once with nothing if the program dies first (the pipe's only
    # writer closes); -t bounds a hung start.
    read -r -t "${LAB_READY_TIMEOUT_S:-10}" port <"$fifo" || true
    rm -f "$fifo"
    [[ $port =~ ^[0-9]+$ ]] && return 0
    echo "$name did not report a port:" >&2
    cat "$dir/$name.log" >&2
    return 1
}
