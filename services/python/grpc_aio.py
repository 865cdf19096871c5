"""The classic study's async gRPC server (py-grpc-async): grpc.aio.server(),
every call a coroutine on one asyncio loop, Io's calls gathered on one
aiohttp session. Cpu runs on the loop, holding every other call up, as in
the C grpc-async. SIGTERM or SIGINT: stop, letting calls in flight end for
GRACE_S."""
import asyncio
import signal

import grpc

import bench_grpc
import lab_common
import upstream_async

GRACE_S = 5
config = lab_common.config_or_exit()


async def serve():
    upstream = None  # the aiohttp session, opened once the port is ours

    async def io(request, context):
        await context.send_initial_metadata(bench_grpc.IO_HEADERS)
        result = await upstream_async.fan_out(upstream, config)
        failure = bench_grpc.io_failure(result)
        if failure:
            await context.abort(*failure)
        return bench_grpc.io_reply(result)

    async def cpu(request, context):
        return bench_grpc.cpu(config)

    async def describe(request, context):
        return bench_grpc.describe(config)

    async def check(request, context):
        if request.service not in bench_grpc.KNOWN_SERVICES:
            await context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
        return bench_grpc.SERVING

    server = grpc.aio.server(options=bench_grpc.SERVER_OPTIONS)
    bench_grpc.add_services(server, io=io, cpu=cpu, describe=describe, check=check)
    bench_grpc.listen(server)
    upstream = upstream_async.new_session()
    await server.start()
    stop = asyncio.Event()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(stop_signal, stop.set)
    await stop.wait()
    await server.stop(GRACE_S)
    await upstream.close()


if __name__ == "__main__":
    asyncio.run(serve())
