/* The gRPC methods: decoding with protobuf-c, the replies, the verdict on
 * an Io fan-out. Nothing here waits on gRPC; the variants do. */
#include "grpc_service.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>

#include "bench.pb-c.h"
#include "clock.h"
#include "cpu_work.h"
#include "health.pb-c.h"
#include "log.h"
#include "server.h"

#define DESCRIBE_JSON_MAX 1024

static const struct {
    const char *path;
    grpc_method_t method;
    const ProtobufCMessageDescriptor *request;
} methods[] = {
    {"/bench.Bench/Io", GRPC_METHOD_IO, &bench__io_request__descriptor},
    {"/bench.Bench/Cpu", GRPC_METHOD_CPU, &bench__cpu_request__descriptor},
    {"/bench.Bench/Describe", GRPC_METHOD_DESCRIBE, &bench__describe_request__descriptor},
    {"/grpc.health.v1.Health/Check", GRPC_METHOD_HEALTH_CHECK,
     &grpc__health__v1__health_check_request__descriptor},
};
#define METHOD_COUNT (sizeof methods / sizeof methods[0])

grpc_method_t grpc_method_of(grpc_slice method)
{
    size_t len = GRPC_SLICE_LENGTH(method);
    const void *p = GRPC_SLICE_START_PTR(method);
    for (size_t i = 0; i < METHOD_COUNT; i++)
        if (strlen(methods[i].path) == len && memcmp(methods[i].path, p, len) == 0)
            return methods[i].method;
    return GRPC_METHOD_UNKNOWN;
}

void grpc_reply_status(grpc_reply_t *reply, grpc_status_code status, const char *details)
{
    grpc_reply_clear(reply);
    reply->status = status;
    snprintf(reply->details, sizeof reply->details, "%s", details ? details : "");
}

void grpc_reply_clear(grpc_reply_t *reply)
{
    if (reply->message != NULL)
        grpc_byte_buffer_destroy(reply->message);
    reply->message = NULL;
    reply->status = GRPC_STATUS_OK;
    reply->details[0] = '\0';
}

/* The whole message in one slice (a request is small: it passed gRPC's
 * size limit). */
static grpc_slice read_all(grpc_byte_buffer *bb)
{
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, bb))
        return grpc_empty_slice();
    grpc_slice all = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    return all;
}

static ProtobufCMessage *unpack(const ProtobufCMessageDescriptor *d, grpc_byte_buffer *bb)
{
    grpc_slice all = read_all(bb);
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, GRPC_SLICE_LENGTH(all),
                                                    GRPC_SLICE_START_PTR(all));
    grpc_slice_unref(all);
    return m;
}

int grpc_request_check(grpc_method_t method, grpc_byte_buffer *request, grpc_reply_t *reply)
{
    if (method == GRPC_METHOD_UNKNOWN) {
        grpc_reply_status(reply, GRPC_STATUS_UNIMPLEMENTED, "unknown method");
        return -1;
    }
    if (request == NULL) {
        grpc_reply_status(reply, GRPC_STATUS_INVALID_ARGUMENT, "no request message");
        return -1;
    }
    for (size_t i = 0; i < METHOD_COUNT; i++) {
        if (methods[i].method != method)
            continue;
        ProtobufCMessage *m = unpack(methods[i].request, request);
        if (m == NULL) {
            grpc_reply_status(reply, GRPC_STATUS_INVALID_ARGUMENT, "malformed request message");
            return -1;
        }
        protobuf_c_message_free_unpacked(m, NULL);
        return 0;
    }
    grpc_reply_status(reply, GRPC_STATUS_INTERNAL, "no decoder for the method");
    return -1;
}

/* Pack msg into reply->message with status OK. */
static void reply_with(grpc_reply_t *reply, const ProtobufCMessage *msg)
{
    grpc_reply_clear(reply);
    size_t len = protobuf_c_message_get_packed_size(msg);
    grpc_slice slice = grpc_slice_malloc(len);
    (void)protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(slice));
    reply->message = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice);
}

void grpc_reply_io(const fanout_result_t *r, grpc_reply_t *reply)
{
    int status = fanout_status(r);
    if (status == 200) {
        Bench__IoReply msg = BENCH__IO_REPLY__INIT;
        msg.calls = r->calls;
        msg.ok = r->ok;
        msg.elapsed_ms = ns_to_ms(r->elapsed_ns);
        reply_with(reply, &msg.base);
        return;
    }
    char details[GRPC_SERVICE_DETAILS_MAX];
    snprintf(details, sizeof details,
             "%s: %d of %d upstream calls ok, %d failed, %d timed out (%s)",
             status == 504 ? "upstream timeout" : "upstream failed", r->ok, r->calls, r->failed,
             r->timed_out, r->first_error[0] ? r->first_error : "no detail");
    log_warn("Io ended %s: %s", status == 504 ? "DEADLINE_EXCEEDED" : "UNAVAILABLE", details);
    grpc_reply_status(reply, status == 504 ? GRPC_STATUS_DEADLINE_EXCEEDED
                                           : GRPC_STATUS_UNAVAILABLE, details);
}

static void reply_cpu(grpc_reply_t *reply)
{
    uint64_t start_ns = clock_now_ns();
    Bench__CpuReply msg = BENCH__CPU_REPLY__INIT;
    msg.iterations = server_config->cpu_iterations;
    msg.checksum = cpu_long_running(server_config->cpu_iterations, start_ns);
    msg.elapsed_ms = ns_to_ms(clock_now_ns() - start_ns);
    reply_with(reply, &msg.base);
}

static void reply_describe(grpc_reply_t *reply)
{
    char json[DESCRIBE_JSON_MAX];
    if (server_describe_json(json, sizeof json) < 0) {
        grpc_reply_status(reply, GRPC_STATUS_INTERNAL, "self-description too long");
        return;
    }
    Bench__DescribeReply msg = BENCH__DESCRIBE_REPLY__INIT;
    msg.json = json;
    reply_with(reply, &msg.base);
}

/* The standard health check: the whole server ("") and the Bench service
 * are SERVING; another service name is NOT_FOUND, as grpc's own
 * implementation answers. */
static void reply_health(grpc_byte_buffer *request, grpc_reply_t *reply)
{
    Grpc__Health__V1__HealthCheckRequest *req = (Grpc__Health__V1__HealthCheckRequest *)unpack(
        &grpc__health__v1__health_check_request__descriptor, request);
    if (req == NULL) {
        grpc_reply_status(reply, GRPC_STATUS_INVALID_ARGUMENT, "malformed request message");
        return;
    }
    int known = req->service[0] == '\0' || strcmp(req->service, "bench.Bench") == 0;
    protobuf_c_message_free_unpacked(&req->base, NULL);
    if (!known) {
        grpc_reply_status(reply, GRPC_STATUS_NOT_FOUND, "unknown service");
        return;
    }
    Grpc__Health__V1__HealthCheckResponse msg = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    msg.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    reply_with(reply, &msg.base);
}

void grpc_reply_now(grpc_method_t method, grpc_byte_buffer *request, grpc_reply_t *reply)
{
    switch (method) {
    case GRPC_METHOD_CPU: reply_cpu(reply); break;
    case GRPC_METHOD_DESCRIBE: reply_describe(reply); break;
    case GRPC_METHOD_HEALTH_CHECK: reply_health(request, reply); break;
    case GRPC_METHOD_IO:
        grpc_reply_status(reply, GRPC_STATUS_INTERNAL, "Io needs the fan-out");
        break;
    case GRPC_METHOD_UNKNOWN:
        grpc_reply_status(reply, GRPC_STATUS_UNIMPLEMENTED, "unknown method");
        break;
    }
}
