"""What every Python deployment shares, as services/core does for the C
servers: the settings from the environment (config.c's names, defaults and
limits), the self-description that GET /healthz and Describe answer with
(server.c's server_describe_json), and the verdict on a fan-out (routes.c's
respond_io). It imports no server and no HTTP client: the launcher,
lab-python, loads it too, to refuse bad settings before anything starts."""
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from importlib.util import find_spec

DEFAULT_SLOW_API_URL = "http://127.0.0.1:8001/?delay=1"
LOG_LEVELS = {"error": logging.ERROR, "warn": logging.WARNING, "info": logging.INFO,
              "debug": logging.DEBUG}
log = logging.getLogger("lab")


class ConfigError(ValueError):
    """A setting out of its range; the message names it and its value."""


@dataclass(frozen=True)
class Config:
    slow_api_url: str
    fanout: int
    upstream_timeout_s: float
    cpu_iterations: int


def _number(env, name, default, convert, low, high):
    text = env.get(name) or str(default)
    try:
        value = convert(text)
    except ValueError:
        raise ConfigError(f"{name} '{text}': not a number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} '{text}': must be between {low} and {high}")
    return value


def load_config(env=os.environ):
    """The settings from env, checked as config.c checks them."""
    url = env.get("SLOW_API_URL") or DEFAULT_SLOW_API_URL
    # It is echoed in /healthz's JSON, as in the C servers: keep it plain.
    if not url.startswith("http://") or len(url) < 8 or any(c in url for c in '"\\ \t'):
        raise ConfigError(f"SLOW_API_URL '{url}': must be an http:// URL without quotes or blanks")
    if (env.get("UPSTREAM_HTTP") or "1.1") != "1.1":
        raise ConfigError(f"UPSTREAM_HTTP '{env['UPSTREAM_HTTP']}': the Python deployments "
                          "call the upstream over HTTP/1.1 only")
    if (env.get("LOG_LEVEL") or "info") not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL '{env['LOG_LEVEL']}': must be error, warn, info or debug")
    return Config(slow_api_url=url,
                  fanout=_number(env, "FANOUT", 10, int, 1, 1000),
                  upstream_timeout_s=_number(env, "UPSTREAM_TIMEOUT", 5.0, float, 0.001, 3600),
                  cpu_iterations=_number(env, "CPU_ITERATIONS", 1000, int, 0, 1000000))


def config_or_exit():
    """The apps' settings; a bad one ends the process (status 2) with why."""
    try:
        config = load_config()
    except ConfigError as e:
        print(f"lab-python app: {e}", file=sys.stderr)
        sys.exit(2)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s lab[%(process)d] %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(LOG_LEVELS[os.environ.get("LOG_LEVEL") or "info"])
    log.propagate = False  # the servers configure the root logger their own way
    return config


def json_text(obj):
    """Compact JSON, as the C servers write it."""
    return json.dumps(obj, separators=(",", ":"))


def error_body(status):
    """http_json_error's body for a 404 or 405."""
    return {"error": {404: "not found", 405: "method not allowed"}.get(status, "error"),
            "status": status}


# ---- the self-description ------------------------------------------------
# The server's name as it says it, by lab-python's --server KIND: the
# module whose version is shown, and how. Read in the serving process, so
# the version is the one that answers.
SERVER_NAMES = {
    "flask-dev": ("werkzeug", "werkzeug {} (Flask development server, no threads)"),
    "flask-dev-threaded": ("werkzeug", "werkzeug {} (Flask development server, threaded)"),
    "uwsgi": ("uwsgi", "uwsgi {} (threads)"),
    "uwsgi-gevent": ("uwsgi", "uwsgi {} (gevent)"),
    "gunicorn": ("gunicorn", "gunicorn {} (gthread)"),
    "gunicorn-gevent": ("gunicorn", "gunicorn {} (gevent worker)"),
    "gevent-pywsgi": ("gevent", "gevent {} (pywsgi)"),
    "uvicorn": ("uvicorn", "uvicorn {} ({loop}, {http})"),
    "gunicorn-uvicorn": ("gunicorn", "gunicorn {} (uvicorn.workers.UvicornWorker, {loop}, {http})"),
    "grpc-sync": ("grpc", "grpcio {} (grpc.server, ThreadPoolExecutor)"),
    "grpc-aio": ("grpc", "grpcio {} (grpc.aio.server)"),
}


def _server_name(kind):
    if kind not in SERVER_NAMES:
        return kind or "unknown"
    module_name, form = SERVER_NAMES[kind]
    try:
        module = __import__(module_name)
        version = getattr(module, "__version__", None) or module.version  # uwsgi's is bytes
        version = version.decode() if isinstance(version, bytes) else version
    except (ImportError, AttributeError):
        version = "?"
    # uvicorn picks uvloop and httptools when they are there (Debian has neither).
    return form.format(version, loop="uvloop" if find_spec("uvloop") else "asyncio",
                       http="httptools" if find_spec("httptools") else "h11")


_description = {}


def describe(config, transport):
    """GET /healthz's JSON text; lab-python passes what it knows as LAB_*."""
    if not _description:
        env = os.environ
        _description.update({
            "status": "ok",
            "variant": env.get("LAB_VARIANT", "lab-python"),
            "model": env.get("LAB_MODEL", "a Python deployment"),
            "capacity": int(env.get("LAB_CAPACITY", "0")),
            "impl": "python",
            "server": _server_name(env.get("LAB_SERVER", "")),
            "command": env.get("LAB_COMMAND", ""),
            "keep_alive": env.get("LAB_KEEP_ALIVE") == "1",
            "threads": int(env.get("LAB_THREADS", "1")),
            "workers": int(env.get("LAB_WORKERS", "1")),
            "transport": transport,
            "fanout": config.fanout,
            "slow_api_url": config.slow_api_url,
            "upstream_http": "1.1",
        })
    return json_text({**_description, "pid": os.getpid()})  # the worker that answers


# ---- the verdict on a fan-out --------------------------------------------
OK, FAILED, TIMED_OUT = "ok", "failed", "timed out"


@dataclass
class FanoutResult:
    calls: int
    ok: int
    failed: int
    timed_out: int
    elapsed_ms: float
    first_error: str

    @property
    def status(self):
        """fanout_status: 504 if any call timed out, else 502 if any failed."""
        return 504 if self.timed_out else 502 if self.failed else 200

    def body(self):
        if self.status == 200:
            return {"calls": self.calls, "ok": self.ok, "elapsed_ms": round(self.elapsed_ms)}
        return {"error": "upstream timeout" if self.status == 504 else "upstream failed",
                "status": self.status, "calls": self.calls, "ok": self.ok,
                "failed": self.failed, "timed_out": self.timed_out,
                "elapsed_ms": round(self.elapsed_ms)}

    def details(self):
        """The gRPC status message of a failed Io, as grpc_service.c words it."""
        return (f"{self.body()['error']}: {self.ok} of {self.calls} upstream calls ok, "
                f"{self.failed} failed, {self.timed_out} timed out ({self.first_error})")


def tally(outcomes, started_s):
    """outcomes: (OK | FAILED | TIMED_OUT, detail) per call; started_s: the
    time.monotonic() before the first call."""
    kinds = [kind for kind, _ in outcomes]
    errors = [detail for kind, detail in outcomes if kind != OK]
    result = FanoutResult(calls=len(outcomes), ok=kinds.count(OK), failed=kinds.count(FAILED),
                          timed_out=kinds.count(TIMED_OUT),
                          elapsed_ms=(time.monotonic() - started_s) * 1000.0,
                          first_error=errors[0] if errors else "no detail")
    if result.status != 200:
        log.warning("fan-out answered %d: %s", result.status, result.details())
    return result
