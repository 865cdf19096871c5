#!/usr/bin/env bash
# Build the lab's images: lab/builder, lab/runtime, then lab/<program> for
# each program named on the command line (`make images` names them all).
#
#   docker/build-images.sh slowapi loadgen single-thread event-loop
#
# Prints one line per image: "built" or "up to date" (the layer cache decided)
# and its size. A failed build prints the end of its log, exits 1.
#
# Plain `docker build` with the classic builder: it works with or without
# BuildKit/buildx and needs no Compose. The base image debian:bookworm-slim
# must exist (docker/make-base-image.sh).
set -euo pipefail

cd "$(dirname "$0")/.."

if [ $# -eq 0 ]; then
    echo "usage: $0 PROGRAM..." >&2
    exit 2
fi

image_id() {
    docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true
}

# build TAG DOCKER-BUILD-ARGS...
build() {
    local tag=$1 before log size
    shift
    before=$(image_id "$tag")
    log=$(mktemp "${TMPDIR:-/tmp}/lab-image.XXXXXX")
    if ! docker build --force-rm --tag "$tag" "$@" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "images: building $tag failed (whole log: $log)" >&2
        return 1
    fi
    rm -f "$log"
    size=$(docker image inspect --format '{{.Size}}' "$tag")
    if [ "$(image_id "$tag")" = "$before" ]; then
        printf 'image %-26s up to date  %4d MB\n' "$tag" $((size / 1000000))
        return 0
    fi
    printf 'image %-26s built       %4d MB\n' "$tag" $((size / 1000000))
    [ -z "$before" ] || replaced=("$before" "${replaced[@]}")
}

# The port each program listens on, for EXPOSE (see docs/ARCHITECTURE.md).
program_port() {
    case $1 in
        slowapi) echo 8001 ;;
        loadgen) echo "" ;;
        *) echo 3000 ;;
    esac
}

# Images that a new build replaced, newest first: they would stay behind,
# untagged, after every change.
replaced=()

build lab/builder:latest --file docker/builder.Dockerfile .
# The runtime image copies nothing: its context is the small docker/ folder.
build lab/runtime:latest --file docker/runtime.Dockerfile docker
for program in "$@"; do
    build "lab/$program:latest" --file docker/program.Dockerfile \
        --build-arg "PROGRAM=$program" \
        --build-arg "PORT=$(program_port "$program")" docker
done

# Children before parents (a program image before the runtime it was built
# on); one still in use (by a container) stays.
for id in "${replaced[@]}"; do
    docker image rm "$id" >/dev/null 2>&1 || true
done
