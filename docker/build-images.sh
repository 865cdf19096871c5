#!/usr/bin/env bash
# Build the lab's images: lab/builder, lab/runtime, lab/slowapi, lab/loadgen
# and lab/<variant> for each variant of services/variants.tsv (a variant's
# image is its program's binary plus its settings; a Python deployment's,
# lab/python plus its settings, and lab/python is built when one is
# selected). `make images` runs it.
#
#   docker/build-images.sh                 every image
#   docker/build-images.sh event-loop ...  these variants (and the base ones)
#
# Prints one line per image: "built" or "up to date" (the layer cache decided)
# and its size. On a terminal it also shows what is being built (the image,
# k of n, and the Dockerfile step) on one line that it redraws, and prints
# only the images it built. A failed build prints the end of its log, exits 1.
#
# Plain `docker build` with the classic builder: it works with or without
# BuildKit/buildx and needs no Compose. The base image debian:bookworm-slim
# must exist (docker/make-base-image.sh).
set -euo pipefail

cd "$(dirname "$0")/.."

image_id() {
    docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true
}

# show LINE: redraw the progress line (on a terminal only).
show() { [ ! -t 1 ] || printf '\r%s\033[K' "${1:0:$((${COLUMNS:-100} - 1))}"; }

# build_log TAG LOG: copy docker build's output into LOG, showing its
# steps ("Step 5/12 : RUN make ...", the classic builder's lines) as they
# come.
build_log() {
    local line
    while IFS= read -r line; do
        printf '%s\n' "$line" >>"$2"
        case $line in
            Step\ *) show "image $image_index of $image_count $1: ${line}" ;;
        esac
    done
}

# build TAG DOCKER-BUILD-ARGS...
build() {
    local tag=$1 before log size status=0
    shift
    image_index=$((image_index + 1))
    show "image $image_index of $image_count $tag"
    before=$(image_id "$tag")
    log=$(mktemp "${TMPDIR:-/tmp}/lab-image.XXXXXX")
    # pipefail: the pipeline fails when docker build does.
    docker build --force-rm --tag "$tag" "$@" 2>&1 | build_log "$tag" "$log" || status=$?
    if [ "$status" != 0 ]; then
        show ""
        tail -n 40 "$log" >&2
        echo "images: building $tag failed (whole log: $log)" >&2
        return 1
    fi
    rm -f "$log"
    size=$(docker image inspect --format '{{.Size}}' "$tag")
    if [ "$(image_id "$tag")" = "$before" ]; then
        [ -t 1 ] || printf 'image %-26s up to date  %4d MB\n' "$tag" $((size / 1000000))
        return 0
    fi
    show ""
    printf '\rimage %-26s built       %4d MB\n' "$tag" $((size / 1000000))
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

# How each program's health is checked (docker/lab-health), by its name or
# (a Python deployment) its settings.
program_health() {
    case $1 in
        loadgen) echo none ;;
        grpc-* | *"--server grpc-"*) echo grpc ;;
        *) echo http ;;
    esac
}

# build_program IMAGE PROGRAM [ARGS]: lab/IMAGE runs build/bin/PROGRAM ARGS.
build_program() {
    build "lab/$1:latest" --file docker/program.Dockerfile \
        --build-arg "PROGRAM=$2" --build-arg "ARGS=${3:-}" \
        --build-arg "PORT=$(program_port "$2")" --build-arg "HEALTH=$(program_health "$2")" docker
}

# build_python IMAGE SETTINGS MODEL: lab/IMAGE runs lab-python SETTINGS:
# lab/python and one ENV step (docker/python.Dockerfile says why one). The
# table's texts hold no double quote or backslash.
build_python() {
    printf 'FROM lab/python\nENV LAB_ARGS="%s" LAB_MODEL="%s" LAB_HEALTH=%s\n' \
        "$2" "$3" "$(program_health "$2")" | build "lab/$1:latest" --file - docker
}

# The variants to build: every one, or those named.
selected=()
python=0
while IFS=$'\t' read -r name program settings model _; do
    case $name in '' | '#'*) continue ;; esac
    [ $# -eq 0 ] || printf '%s\n' "$@" | grep -qxF -- "$name" || continue
    selected+=("$name	$program	$settings	$model")
    [ "$program" != lab-python ] || python=1
done <services/variants.tsv
image_index=0
image_count=$((5 + python + ${#selected[@]}))

build lab/builder:latest --file docker/builder.Dockerfile .
# The runtime image copies nothing: its context is the small docker/ folder.
build lab/runtime:latest --file docker/runtime.Dockerfile docker
build_program slowapi slowapi
build_program loadgen loadgen
build lab/labreport:latest --file docker/labreport.Dockerfile docker
[ "$python" = 0 ] || build lab/python:latest --file docker/python.Dockerfile docker
# name, program, settings ("-": none), model; a preset's settings also name it.
for row in "${selected[@]}"; do
    IFS=$'\t' read -r name program settings model <<<"$row"
    [ "$settings" != - ] || settings=
    [ "$program" = "$name" ] && [ -z "$settings" ] || settings="--variant $name $settings"
    if [ "$program" = lab-python ]; then
        build_python "$name" "$settings" "$model"
    else
        build_program "$name" "$program" "$settings"
    fi
done
show ""

# Children before parents (a program image before the runtime it was built
# on); one still in use (by a container) stays.
for id in "${replaced[@]}"; do
    docker image rm "$id" >/dev/null 2>&1 || true
done
