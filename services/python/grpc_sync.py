"""The classic study's sync gRPC server (py-grpc-sync):
grpc.server(ThreadPoolExecutor(max_workers=THREADS)), 10 by default as in
the study: each call holds one pool thread until it ends, the others wait
in the executor's queue. Io fans out on a thread pool with requests. SIGTERM
or SIGINT: stop, letting calls in flight end for GRACE_S."""
import os
import signal
from concurrent.futures import ThreadPoolExecutor

import grpc

import bench_grpc
import lab_common
from upstream_blocking import fan_out_threads

GRACE_S = 5
config = lab_common.config_or_exit()


def io(request, context):
    context.send_initial_metadata(bench_grpc.IO_HEADERS)
    result = fan_out_threads(config)
    failure = bench_grpc.io_failure(result)
    if failure:
        context.abort(*failure)
    return bench_grpc.io_reply(result)


def check(request, context):
    if request.service not in bench_grpc.KNOWN_SERVICES:
        context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
    return bench_grpc.SERVING


def main():
    server = grpc.server(ThreadPoolExecutor(max_workers=int(os.environ.get("LAB_THREADS", "10"))),
                         options=bench_grpc.SERVER_OPTIONS)
    bench_grpc.add_services(server, io=io,
                            cpu=lambda request, context: bench_grpc.cpu(config),
                            describe=lambda request, context: bench_grpc.describe(config),
                            check=check)
    bench_grpc.listen(server)
    server.start()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: server.stop(GRACE_S))
    server.wait_for_termination()


if __name__ == "__main__":
    main()
