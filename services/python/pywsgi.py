"""py-gevent-pywsgi, the row the classic study left out: patched.py's Flask
app on gevent's own WSGI server, one process, a greenlet per connection
(no limit). HOST and PORT come from the environment (lab-python sets them);
SIGTERM or SIGINT stops it: it stops accepting and lets requests in flight
end (gevent's default grace, 1 s)."""
import patched  # first: gevent's monkey patches before anything else

import os  # noqa: E402
import signal  # noqa: E402

import gevent  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

server = WSGIServer((os.environ.get("HOST", "0.0.0.0"), int(os.environ.get("PORT", "3000"))),
                    patched.app)
for stop_signal in (signal.SIGTERM, signal.SIGINT):
    gevent.signal_handler(stop_signal, server.stop)
server.serve_forever()
