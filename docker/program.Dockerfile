# lab/<program>: one image per program, all from this file.
#   docker build -f docker/program.Dockerfile --build-arg PROGRAM=event-loop \
#                --build-arg PORT=3000 -t lab/event-loop docker
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
ENV LAB_PROGRAM=${PROGRAM}
USER lab
EXPOSE ${PORT}
# exec: the program is PID 1, gets SIGTERM from `docker stop` itself, and
# names itself (argv[0]) in its messages.
ENTRYPOINT ["/bin/sh", "-c", "exec \"$LAB_PROGRAM\" \"$@\"", "lab"]
COPY --from=build /src/build/bin/${PROGRAM} /usr/local/bin/${PROGRAM}
