# Sourced by run.sh: labreport (labreport/, the report program: run and
# matrix reports, charts, compare, the index) runs as the local build when
# the run is native or when build/bin/labreport and gnuplot are here, else
# from the image lab/labreport, the same program and gnuplot from the same
# Debian release, so either way writes the same bytes.

# labreport_local: 0 when the local build is to be used.
labreport_local() {
    [ "${lab_mode:-}" = docker ] && return 1
    [ -x "$bin_dir/labreport" ] && command -v gnuplot >/dev/null 2>&1
}

# labreport ARGS...: paths among ARGS must be absolute (the container sees
# them at the same place).
labreport() {
    if labreport_local; then
        # return's status said explicitly: a bare return in a trap handler
        # (run.sh's clean-up) would give the status from before the trap.
        LAB_DATA_DIR=$lab_dir/data "$bin_dir/labreport" "$@"
        return $?
    fi
    docker image inspect lab/labreport >/dev/null 2>&1 ||
        die "labreport: neither build/bin/labreport with gnuplot (make deps && make) nor the image lab/labreport (make images) is here"
    local mounts=() arg dir
    for arg in "$@"; do
        case $arg in
            /*) dir=$arg
                [ -d "$dir" ] || dir=$(dirname "$arg")
                mounts+=(--volume "$dir:$dir") ;;
        esac
    done
    docker run --rm --network none --user "$(id -u):$(id -g)" "${mounts[@]}" \
        lab/labreport "$@"
}

# absolute PATH: PATH from where the user is, made absolute.
absolute() {
    case $1 in
        /*) echo "$1" ;;
        *) echo "$user_dir/$1" ;;
    esac
}
