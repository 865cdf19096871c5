# lab/<name>: one image per program or variant, all from this file. A
# variant's image is its program with its settings (ARGS) as first flags.
#   docker build -f docker/program.Dockerfile --build-arg PROGRAM=threadpool \
#                --build-arg "ARGS=--variant threadpool-50 --threads 50" \
#                --build-arg PORT=3000 -t lab/threadpool-50 docker
# Build lab/builder and lab/runtime first (`make images` does it all).
#
# The image is lab/runtime plus one binary. The COPY comes last: with the
# classic builder every step after a changed one is redone (a container and
# a commit each), so a new binary costs this one step, and a rebuild of
# lab/builder that leaves a program's bytes unchanged costs nothing.
ARG PROGRAM

FROM lab/builder AS build

FROM lab/runtime
ARG PROGRAM
# The port the program listens on; empty for a client (loadgen).
ARG PORT
# Flags before the container's own (which come later, so they win).
ARG ARGS=
# How its health is checked (docker/lab-health): http, grpc or none.
ARG HEALTH=none
ENV LAB_PROGRAM=${PROGRAM} LAB_ARGS=${ARGS} LAB_HEALTH=${HEALTH} LAB_PORT=${PORT}
# The image says how it is healthy, so that Compose needs no block per
# variant: one service runs whichever image VARIANT names.
HEALTHCHECK --interval=1s --timeout=2s --retries=30 CMD ["lab-health"]
USER lab
EXPOSE ${PORT}
# exec: the program is PID 1, gets SIGTERM from `docker stop` itself, and
# names itself (argv[0]) in its messages.
ENTRYPOINT ["/bin/sh", "-c", "exec \"$LAB_PROGRAM\" $LAB_ARGS \"$@\"", "lab"]
COPY --from=build /src/build/bin/${PROGRAM} /usr/local/bin/${PROGRAM}
