# lab/runtime: what every lab program needs at run time and nothing more:
# the shared libraries, curl for the health checks (HTTP/2 too: the gRPC
# variants' check is a grpc.health.v1 call made with curl), and a non-root
# user. gRPC core (libgrpc29) and protobuf-c: the gRPC variants and loadgen.
# nghttp2 (libnghttp2-14): slowapi's h2c, named although libcurl4 pulls it in.
FROM debian:bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends libuv1 libcurl4 libjansson4 curl \
        libgrpc29 libprotobuf-c1 libnghttp2-14 \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 lab \
 && useradd --uid 10001 --gid lab --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin lab
# Every program image's health check (program.Dockerfile's HEALTHCHECK),
# and the wrapper that ships a program's output files in its log (run.sh
# --swarm runs loadgen under it, on whichever node).
COPY lab-health lab-ship /usr/local/bin/
