"""The /io fan-out for the asyncio apps (FastAPI, grpc.aio): FANOUT calls
to SLOW_API_URL gathered on one aiohttp session, which the app opens once,
on its loop, and keeps: its connections to the upstream are reused from
request to request, as the C servers' are."""
import asyncio
import time

import aiohttp

from lab_common import FAILED, OK, TIMED_OUT, tally


def new_session():
    """Call from a running loop. limit=0: aiohttp's default pool holds at
    most 100 connections, which would cap the fan-outs in flight at 10."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))


async def call_upstream(session, config):
    """GET SLOW_API_URL within UPSTREAM_TIMEOUT: (OK | FAILED | TIMED_OUT, detail)."""
    timeout = aiohttp.ClientTimeout(total=config.upstream_timeout_s)
    try:
        async with session.get(config.slow_api_url, timeout=timeout) as answer:
            await answer.read()
            return (OK, "") if 200 <= answer.status < 300 else (FAILED, f"HTTP {answer.status}")
    except asyncio.TimeoutError:
        return TIMED_OUT, f"no answer within {config.upstream_timeout_s} s"
    except aiohttp.ClientError as e:
        return FAILED, str(e) or type(e).__name__


async def fan_out(session, config):
    started_s = time.monotonic()
    outcomes = await asyncio.gather(*(call_upstream(session, config) for _ in range(config.fanout)))
    return tally(outcomes, started_s)
