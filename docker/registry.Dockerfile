# lab/registry: a container registry for a Swarm of several hosts (run.sh
# --swarm --images registry): Debian's docker-registry (the CNCF
# distribution registry, 2.8) on the lab's own base image, since no image
# can be pulled from a public registry here. It stores what the lab pushes
# under /var/lib/docker-registry, in the container: it lives as long as the
# run's registry service.
FROM debian:bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends docker-registry \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY registry.yml /etc/docker/registry/lab.yml
EXPOSE 5000
USER docker-registry
CMD ["/usr/bin/docker-registry", "serve", "/etc/docker/registry/lab.yml"]
