"""The classic study's deployments, one per lab-python --server KIND: the
study's command line (../shared/classic-study/io.md) built from the options
(host, port, workers, threads, connections) with only what the lab needs
added (at its end, but uwsgi's --plugin, which must come first), each
addition said why; and what the lab must know of each: its capacity,
whether it keeps connections, its transport, the signal it stops on."""
import os
import signal
import sys
from dataclasses import dataclass

PYTHON = sys.executable
# uwsgi-core's binary; /usr/bin/uwsgi is only an alternative pointing at it.
UWSGI = "/usr/bin/uwsgi-core"


def script(name):
    """A console script of this interpreter's packages (/usr/bin/gunicorn),
    else the module run by it: Debian's python3-uvicorn has no script."""
    path = os.path.join(os.path.dirname(PYTHON), name)
    return [path] if os.access(path, os.X_OK) else [PYTHON, "-m", name]


def bind(o):
    return f"{o.host}:{o.port}"


def flask_dev(threaded):
    # flask finds app.py in the working directory, as in the study.
    return lambda o: script("flask") + ["run", "--no-reload",
                                        "--with-threads" if threaded else "--without-threads",
                                        "--host", o.host, "--port", str(o.port)]


# Debian builds uwsgi's Python support as plugins, to be loaded before the
# options they define (--module, --gevent): --plugin comes first.
# --die-on-term: uwsgi 2.0's master reloads its workers on SIGTERM, and the
# lab stops with it; --need-app: exit when the app does not load, rather
# than serve 500s; Connection: close: uwsgi's HTTP socket closes every
# connection after one answer but answers HTTP/1.1 without saying so, and a
# client that keeps connections (loadgen) sends its next request into the
# closed socket, a read error; the header says what uwsgi does anyway.
UWSGI_LAB_FLAGS = ["--die-on-term", "--need-app", "--add-header", "Connection: close"]


def uwsgi_threads(o):
    return [UWSGI, "--plugin", "python3", "--master", "--workers", str(o.workers),
            "--threads", str(o.threads), "--protocol", "http", "--socket", bind(o),
            "--module", "app:app"] + UWSGI_LAB_FLAGS


def uwsgi_gevent(o):
    return [UWSGI, "--plugin", "python3,gevent_python3", "--master", "--single-interpreter",
            "--workers", str(o.workers), "--gevent", str(o.connections), "--protocol", "http",
            "--socket", bind(o), "--module", "patched:app"] + UWSGI_LAB_FLAGS


def gunicorn_gthread(o):
    return script("gunicorn") + ["--workers", str(o.workers), "--threads", str(o.threads),
                                 "--bind", bind(o), "app:app"]


def gunicorn_gevent(o):
    # The study kept gunicorn's worker_connections (1000); --connections sets it.
    limit = ["--worker-connections", str(o.connections)] if o.connections_given else []
    return script("gunicorn") + ["--worker-class", "gevent", "--workers", str(o.workers)] + \
        limit + ["--bind", bind(o), "patched:app"]


def uvicorn(o):
    return script("uvicorn") + ["--host", o.host, "--port", str(o.port),
                                "--workers", str(o.workers), "fastapi_app:app"]


def gunicorn_uvicorn(o):
    return script("gunicorn") + ["--worker-class", "uvicorn.workers.UvicornWorker",
                                 "--workers", str(o.workers), "--bind", bind(o), "fastapi_app:app"]


def app_file(name):
    # The study's `python app.py`; HOST and PORT come from the environment.
    return lambda o: [PYTHON, name]


@dataclass(frozen=True)
class Kind:
    command: object          # options -> argv
    what: str                # for --help and the default model
    capacity: object         # options -> the requests served at once (0: no limit)
    keep_alive: bool         # keeps client connections open between requests
    settings: tuple = ()     # which of workers, threads, connections it takes
    threads: int = 1         # their defaults
    connections: int = 0
    transport: str = "http"
    stop_signal: int = signal.SIGTERM


KINDS = {
    # werkzeug ends with KeyboardInterrupt, cleanly, on SIGINT; SIGTERM kills it.
    "flask-dev": Kind(flask_dev(False), "Flask's development server, no threads",
                      lambda o: 1, False, stop_signal=signal.SIGINT),
    # werkzeug answers "Connection: close" even with threads.
    "flask-dev-threaded": Kind(flask_dev(True),
                               "Flask's development server, a thread per connection",
                               lambda o: 0, False, stop_signal=signal.SIGINT),
    "uwsgi": Kind(uwsgi_threads, "Flask on uwsgi, a master and processes x threads",
                  lambda o: o.workers * o.threads, False, ("workers", "threads"), threads=50),
    "gunicorn": Kind(gunicorn_gthread,
                     "Flask on gunicorn gthread, an arbiter and workers x threads",
                     lambda o: o.workers * o.threads, True, ("workers", "threads"), threads=50),
    "uwsgi-gevent": Kind(uwsgi_gevent,
                         "Flask patched by gevent on uwsgi --gevent, a master and processes",
                         lambda o: o.workers * o.connections, False, ("workers", "connections"),
                         connections=2000),
    "gunicorn-gevent": Kind(gunicorn_gevent, "Flask patched by gevent on gunicorn's gevent worker",
                            lambda o: o.workers * o.connections, True, ("workers", "connections"),
                            connections=1000),
    "gevent-pywsgi": Kind(app_file("pywsgi.py"), "Flask patched by gevent on gevent.pywsgi",
                          lambda o: 0, True),
    "uvicorn": Kind(uvicorn, "FastAPI on uvicorn", lambda o: 0, True, ("workers",)),
    "gunicorn-uvicorn": Kind(gunicorn_uvicorn, "FastAPI on gunicorn's arbiter and uvicorn workers",
                             lambda o: 0, True, ("workers",)),
    "grpc-sync": Kind(app_file("grpc_sync.py"), "grpc.server(ThreadPoolExecutor(THREADS))",
                      lambda o: o.threads, True, ("threads",), threads=10, transport="grpc"),
    "grpc-aio": Kind(app_file("grpc_aio.py"), "grpc.aio.server(), one asyncio loop",
                     lambda o: 0, True, transport="grpc"),
}
