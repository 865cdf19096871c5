"""The classic study's app.py: Flask, blocking, its /io fan-out on a thread
pool. It serves py-flask-dev and py-flask-dev-threaded (flask run finds
app.py), py-uwsgi-* and py-gunicorn-* (app:app); patched.py serves the same
routes with a greenlet fan-out."""
from flask import Flask, Response

import lab_common
from cpu_work import cpu_reply
from upstream_blocking import fan_out_threads

config = lab_common.config_or_exit()


def answer(status, body):
    return Response(body if isinstance(body, str) else lab_common.json_text(body),
                    status=status, mimetype="application/json")


def create_app(fan_out):
    """The lab's routes, with fan_out(config) -> FanoutResult for /io."""
    flask_app = Flask(__name__)

    @flask_app.get("/io")
    def io():
        result = fan_out(config)
        return answer(result.status, result.body())

    @flask_app.get("/cpu")
    def cpu():
        return answer(200, cpu_reply(config.cpu_iterations))

    @flask_app.get("/healthz")
    def healthz():
        return answer(200, lab_common.describe(config, "http"))

    @flask_app.errorhandler(404)
    @flask_app.errorhandler(405)
    def not_routed(error):
        return answer(error.code, lab_common.error_body(error.code))

    return flask_app


app = create_app(fan_out_threads)
