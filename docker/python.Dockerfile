# lab/python: what every Python deployment of the classic study needs, from
# Debian's packages alone (there is no other Python package source here):
# Flask, gunicorn, uwsgi with its python3 and gevent plugins, gevent,
# uvicorn, FastAPI, grpcio, requests, aiohttp, numpy; the apps and their
# launcher (services/python/) and protoc's modules, copied from lab/builder.
#
# A deployment's image, lab/<py-name>, is this image and one ENV line, its
# settings (LAB_ARGS), model and health check, which docker/build-images.sh
# writes: every Dockerfile step is a commit, about 4 s on this engine's
# storage driver, so the 19 images share every step they can. The contract
# is a C variant's (docker/program.Dockerfile): port 3000, the environment
# of docker-compose.yml's `sut`, non-root, a HEALTHCHECK.
#
# Layer order: the packages (about 150 MB, two minutes) change only with
# this list, which is the Makefile's PYTHON_PACKAGES; the apps come last.
FROM lab/builder AS build

FROM lab/runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        python3-flask gunicorn uwsgi-core uwsgi-plugin-python3 \
        uwsgi-plugin-gevent-python3 python3-gevent python3-uvicorn \
        python3-fastapi python3-grpcio python3-protobuf python3-requests \
        python3-aiohttp python3-numpy \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
ENV LAB_PYTHON_GEN_DIR=/usr/local/lib/lab-python/gen LAB_PORT=3000 LAB_HEALTH=http
HEALTHCHECK --interval=1s --timeout=2s --retries=30 CMD ["lab-health"]
EXPOSE 3000
# The launcher stays PID 1: it forwards `docker stop`'s SIGTERM to the
# server and reaps (services/python/lab-python).
ENTRYPOINT ["/bin/sh", "-c", "exec lab-python $LAB_ARGS \"$@\"", "lab"]
COPY --from=build /src/build/gen/python/ /usr/local/lib/lab-python/gen/
COPY --from=build /src/services/python/ /usr/local/lib/lab-python/
# Compiled here: the non-root user cannot write __pycache__ at start.
RUN ln -s /usr/local/lib/lab-python/lab-python /usr/local/bin/lab-python \
 && python3 -m compileall -q /usr/local/lib/lab-python
USER lab
