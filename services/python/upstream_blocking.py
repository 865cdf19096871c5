"""One upstream call in blocking style, with requests, for the apps whose
/io waits (Flask, sync gRPC); they run FANOUT of them at once on threads
(fan_out_threads) or, patched by gevent, as greenlets (patched.py). The
study used grequests (gevent greenlets over requests), which Debian does
not package."""
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from requests.adapters import HTTPAdapter

from lab_common import FAILED, OK, TIMED_OUT, tally

# One session per process keeps upstream connections open from request to
# request, as the C servers' curl handles do: a new connection per call
# would leave ~10 TIME_WAITs per request and run out of ephemeral ports to
# slowapi within a minute at 50 requests a second. Its pool keeps up to
# UPSTREAM_POOL_MAX idle connections (the C servers' limit too); a smaller
# one would close the surplus after each burst and log each time.
UPSTREAM_POOL_MAX = 20000
session = requests.Session()
session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=UPSTREAM_POOL_MAX))


def call_upstream(config):
    """GET SLOW_API_URL: (OK | FAILED | TIMED_OUT, detail). requests' timeout
    bounds the connect and each wait for data, which for slowapi's one-piece
    answer is the whole call."""
    try:
        answer = session.get(config.slow_api_url, timeout=config.upstream_timeout_s)
    except requests.Timeout as e:
        return TIMED_OUT, str(e)
    except requests.RequestException as e:
        return FAILED, str(e)
    if 200 <= answer.status_code < 300:
        return OK, ""
    return FAILED, f"HTTP {answer.status_code}"


def fan_out_threads(config):
    """FANOUT calls at once, a thread each (a pool per request: the calls of
    concurrent requests never wait for each other's threads)."""
    started_s = time.monotonic()
    with ThreadPoolExecutor(max_workers=config.fanout) as pool:
        outcomes = list(pool.map(lambda _: call_upstream(config), range(config.fanout)))
    return tally(outcomes, started_s)
