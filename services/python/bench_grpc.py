"""The gRPC service glue that grpc_tools would generate, by hand (Debian
has no grpc_tools): bench.Bench (proto/bench.proto) and
grpc.health.v1.Health's Check (proto/health.proto), registered as generic
handlers, and the replies both gRPC apps build alike. The *_pb2 modules
are protoc's, in LAB_PYTHON_GEN_DIR (lab-python puts it on PYTHONPATH)."""
import os
import sys

import grpc

import bench_pb2
import health_pb2
import lab_common
from cpu_work import cpu_reply

SERVING = health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)
# As the C gRPC servers: no SO_REUSEPORT (gRPC's default on Linux), so that
# a port in use is an error rather than a port shared with another server.
SERVER_OPTIONS = [("grpc.so_reuseport", 0)]
# Io's initial metadata, sent before the fan-out as the C servers send it
# (grpc_rpc.c): a failed Io's status then follows an answer, and loadgen
# does not count it as a call that no server answered.
IO_HEADERS = (("lab-variant", os.environ.get("LAB_VARIANT", "lab-python")),)
# A server answers for itself ("") and its one service, as grpc's own
# health servicer and the C servers do; another name is NOT_FOUND.
KNOWN_SERVICES = ("", "bench.Bench")


def _unary(behaviour, request_type, reply_type):
    return grpc.unary_unary_rpc_method_handler(
        behaviour, request_deserializer=request_type.FromString,
        response_serializer=reply_type.SerializeToString)


def add_services(server, io, cpu, describe, check):
    """Register the behaviours, (request, context) -> reply, plain functions
    for grpc.server, coroutine functions for grpc.aio.server."""
    server.add_generic_rpc_handlers((
        grpc.method_handlers_generic_handler("bench.Bench", {
            "Io": _unary(io, bench_pb2.IoRequest, bench_pb2.IoReply),
            "Cpu": _unary(cpu, bench_pb2.CpuRequest, bench_pb2.CpuReply),
            "Describe": _unary(describe, bench_pb2.DescribeRequest, bench_pb2.DescribeReply),
        }),
        grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
            "Check": _unary(check, health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse),
        }),
    ))


def io_failure(result):
    """(code, details) to end a failed Io with, or None when it went well:
    UNAVAILABLE for an upstream failure, DEADLINE_EXCEEDED for a timeout."""
    if result.status == 200:
        return None
    timed_out = result.status == 504
    return (grpc.StatusCode.DEADLINE_EXCEEDED if timed_out else grpc.StatusCode.UNAVAILABLE,
            result.details())


def io_reply(result):
    return bench_pb2.IoReply(calls=result.calls, ok=result.ok, elapsed_ms=result.elapsed_ms)


def cpu(config):
    return bench_pb2.CpuReply(**cpu_reply(config.cpu_iterations))


def describe(config):
    return bench_pb2.DescribeReply(json=lab_common.describe(config, "grpc"))


def listen(server):
    """Bind HOST:PORT (lab-python sets them); exits 1 when the port is taken."""
    address = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '3000')}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError:  # newer grpcio raises where 1.51 returns 0
        bound = 0
    if bound == 0:
        print(f"lab-python app: cannot listen on {address}", file=sys.stderr)
        sys.exit(1)
