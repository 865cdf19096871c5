"""The classic study's patched.py: gevent's monkey patches first, so that
every socket, lock and sleep after them yields to other greenlets, then
app.py's Flask routes with the /io calls spawned as greenlets. It serves
py-gevent-uwsgi-* (uwsgi --gevent), py-gevent-gunicorn-* (gunicorn's gevent
worker patches too; twice is harmless) and py-gevent-pywsgi (pywsgi.py)."""
from gevent import monkey

monkey.patch_all()

import time  # noqa: E402 (after the patches, on purpose)

import gevent  # noqa: E402

from app import create_app  # noqa: E402 (app.py's own thread-pool app goes unused)
from lab_common import FAILED, tally  # noqa: E402
from upstream_blocking import call_upstream  # noqa: E402


def fan_out_greenlets(config):
    started_s = time.monotonic()
    calls = [gevent.spawn(call_upstream, config) for _ in range(config.fanout)]
    gevent.joinall(calls)
    return tally([call.value if call.successful() else (FAILED, repr(call.exception))
                  for call in calls], started_s)


app = create_app(fan_out_greenlets)
