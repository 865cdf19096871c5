"""The classic study's FastAPI app: every route a coroutine on the one
asyncio loop of each process (uvicorn: h11, no uvloop on Debian), /io
gathered on one aiohttp session. It serves py-uvicorn-* (uvicorn) and
py-uvicorn-gunicorn-* (gunicorn's UvicornWorker). /cpu runs on the loop, as
in the C event loop: a computation holds every other request up."""
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

import lab_common
import upstream_async
from cpu_work import cpu_reply

config = lab_common.config_or_exit()
# No /docs, /redoc or /openapi.json: the lab's contract has three routes.
app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.on_event("startup")
async def open_upstream():
    app.state.upstream = upstream_async.new_session()


@app.on_event("shutdown")
async def close_upstream():
    await app.state.upstream.close()


@app.get("/io")
async def io():
    result = await upstream_async.fan_out(app.state.upstream, config)
    return JSONResponse(result.body(), status_code=result.status)


@app.get("/cpu")
async def cpu():
    return JSONResponse(cpu_reply(config.cpu_iterations))


@app.get("/healthz")
async def healthz():
    return Response(lab_common.describe(config, "http"), media_type="application/json")


@app.exception_handler(HTTPException)
async def not_routed(request, error):
    return JSONResponse(lab_common.error_body(error.status_code), status_code=error.status_code)
