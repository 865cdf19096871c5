"""lab-python's readiness probe: the server is ready when it answers its
health check (GET /healthz 200, or grpc.health.v1.Health/Check SERVING)
from its own processes. The probe polls in a child process of its own, so
that the launcher, alive for the whole run, never loads an HTTP or gRPC
client."""
import json
import os
import signal
import sys
import time

READY_POLL_S = 0.05


def answering_pid(transport, host, port):
    """One health check: GET /healthz answers 200, or Health/Check SERVING;
    then the pid in the self-description (Describe, for gRPC), else None.
    The clients are imported here, in the probe only."""
    if transport == "http":
        import http.client
        conn = http.client.HTTPConnection(host, port, timeout=1)
        try:
            conn.request("GET", "/healthz")
            answer = conn.getresponse()
            return json.loads(answer.read()).get("pid") if answer.status == 200 else None
        except (OSError, http.client.HTTPException, ValueError):
            return None
        finally:
            conn.close()
    import grpc
    import bench_pb2
    import health_pb2
    # A new channel each time: a channel that failed to connect backs off
    # for a second or more before it tries again.
    with grpc.insecure_channel(f"{host}:{port}") as channel:
        check = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString)
        describe = channel.unary_unary(
            "/bench.Bench/Describe",
            request_serializer=bench_pb2.DescribeRequest.SerializeToString,
            response_deserializer=bench_pb2.DescribeReply.FromString)
        try:
            if check(health_pb2.HealthCheckRequest(), timeout=1).status != \
                    health_pb2.HealthCheckResponse.SERVING:
                return None
            return json.loads(describe(bench_pb2.DescribeRequest(), timeout=1).json).get("pid")
        except (grpc.RpcError, ValueError):
            return None


def is_ours(pid, server_pid):
    """The server leads a session of its own (start_new_session): an answer
    from another session is another server's, on the port before ours."""
    try:
        return isinstance(pid, int) and os.getsid(pid) == server_pid
    except OSError:
        return False


def start_probe(transport, host, port, server_pid, ready_fd, timeout_s, gen_dir):
    """Fork the probe: it exits 0 once the server answers its health check,
    or 1 when timeout_s have passed. gen_dir: the protoc modules."""
    pid = os.fork()
    if pid > 0:
        return pid
    status = 1
    try:
        os.close(ready_fd)  # the launcher alone writes it
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):
            signal.signal(sig, signal.SIG_DFL)
        sys.path.insert(0, gen_dir)
        probe_host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if is_ours(answering_pid(transport, probe_host, port), server_pid):
                status = 0
                break
            time.sleep(READY_POLL_S)  # polling the health check, bounded by the deadline
    finally:
        os._exit(status)
