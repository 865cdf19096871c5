# lab/builder: the toolchain and every program of the lab, built once (and
# the Python deployments' protobuf modules, with protoc: lab/python copies
# them and services/python/ from here).
# Each program image copies its one binary out of this image
# (docker/program.Dockerfile), so the tree is compiled once per change, not
# once per program.
#
# Layer order is the cache strategy: the toolchain layer changes only when
# this list does; the sources come after it, so editing one .c file re-runs
# only the COPY that holds it and the `make` below (about half a minute).
FROM debian:bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        build-essential pkg-config \
        libuv1-dev libcurl4-openssl-dev libjansson-dev node-llhttp \
        libgrpc-dev libprotobuf-c-dev protobuf-c-compiler libnghttp2-dev \
        protobuf-compiler \
 && apt-get clean && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# Only what `make all` reads (.dockerignore keeps the context to these too).
COPY Makefile ./
COPY lib/ lib/
COPY proto/ proto/
COPY services/ services/
COPY slowapi/ slowapi/
COPY loadgen/ loadgen/
COPY labreport/ labreport/
COPY data/ data/
RUN make -j"$(nproc)" all
