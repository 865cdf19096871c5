/* fuzz_grpc_message: the gRPC service's request decoding and replies
 * (services/core/grpc_service.c): the input's first byte picks the method
 * (Io, Cpu, Describe, Health/Check or an unknown one; bit 7: the client
 * sent no message; bit 6: the message comes in two slices), the rest is
 * the request message as gRPC core hands it over, the 5-byte framing
 * already taken off (gRPC core parses that, not the lab). It goes through
 * grpc_request_check, then grpc_reply_now or, for Io, grpc_reply_io with
 * a fan-out that ends OK, UNAVAILABLE and DEADLINE_EXCEEDED in turn. A
 * reply must be OK with a message that decodes as the method's reply, or
 * an error without one; an unknown method must be UNIMPLEMENTED. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/slice.h>

#include "bench.pb-c.h"
#include "grpc_service.h"
#include "grpc_unary.h"
#include "health.pb-c.h"
#include "log.h"

#define NO_MESSAGE 0x80
#define TWO_SLICES 0x40

static const struct {
    const char *path;
    const ProtobufCMessageDescriptor *reply;
} calls[] = {
    {"/bench.Bench/Io", &bench__io_reply__descriptor},
    {"/bench.Bench/Cpu", &bench__cpu_reply__descriptor},
    {"/bench.Bench/Describe", &bench__describe_reply__descriptor},
    {"/grpc.health.v1.Health/Check", &grpc__health__v1__health_check_response__descriptor},
    {"/grpc.health.v1.Health/Watch", NULL},
};
#define CALL_COUNT (sizeof calls / sizeof calls[0])

static const variant_t fuzz_variant = {.name = "fuzz", .model = "libFuzzer"};
static server_config_t fuzz_config = {
    .name = "fuzz", .host = "127.0.0.1", .slow_api_url = "http://127.0.0.1:8001/?delay=1",
    .slow_api_port = 8001, .slow_api_ports = 1, .fanout = 10, .upstream_timeout_ms = 5000,
    .cpu_iterations = 10, .threads = 1, .workers = 1};
static unsigned io_calls;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("LOG_LEVEL", "debug", 0);
    (void)log_init("fuzz_grpc_message");
    server_variant = &fuzz_variant;
    server_config = &fuzz_config;
    grpc_init();
    return 0;
}

static grpc_byte_buffer *message_of(const uint8_t *data, size_t len, int two_slices)
{
    grpc_slice slices[2];
    size_t half = two_slices ? len / 2 : len;
    slices[0] = grpc_slice_from_copied_buffer((const char *)data, half);
    slices[1] = grpc_slice_from_copied_buffer((const char *)data + half, len - half);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(slices, two_slices ? 2 : 1);
    grpc_slice_unref(slices[0]);
    grpc_slice_unref(slices[1]);
    return bb;
}

static void io_result(fanout_result_t *r)
{
    memset(r, 0, sizeof *r);
    r->calls = fuzz_config.fanout;
    r->ok = r->calls - 1;
    r->elapsed_ns = 1000000;
    switch (io_calls++ % 3) {
    case 0: r->ok = r->calls; break;
    case 1:
        r->failed = 1;
        snprintf(r->first_error, sizeof r->first_error, "connection refused");
        break;
    default: r->timed_out = 1; break;
    }
}

/* An OK reply's message must decode as the method's reply. */
static void check_reply(const ProtobufCMessageDescriptor *d, grpc_reply_t *reply)
{
    if (reply->status != GRPC_STATUS_OK) {
        if (reply->message != NULL)
            abort();
        return;
    }
    if (reply->message == NULL || d == NULL)
        abort();
    size_t len;
    char *bytes = grpc_unary_copy_buffer(reply->message, &len);
    if (bytes == NULL)
        abort();
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, (const uint8_t *)bytes);
    if (m == NULL)
        abort();
    protobuf_c_message_free_unpacked(m, NULL);
    free(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len < 1)
        return 0;
    size_t which = (data[0] & 0x3f) % CALL_COUNT;
    grpc_slice path = grpc_slice_from_static_string(calls[which].path);
    grpc_method_t method = grpc_method_of(path);
    grpc_byte_buffer *request =
        data[0] & NO_MESSAGE ? NULL : message_of(data + 1, len - 1, (data[0] & TWO_SLICES) != 0);
    grpc_reply_t reply;
    memset(&reply, 0, sizeof reply);
    if (grpc_request_check(method, request, &reply) == 0) {
        if (method == GRPC_METHOD_IO) {
            fanout_result_t r;
            io_result(&r);
            grpc_reply_io(&r, &reply);
        } else {
            grpc_reply_now(method, request, &reply);
        }
    }
    if (method == GRPC_METHOD_UNKNOWN && reply.status != GRPC_STATUS_UNIMPLEMENTED)
        abort();
    check_reply(calls[which].reply, &reply);
    grpc_reply_clear(&reply);
    if (request != NULL)
        grpc_byte_buffer_destroy(request);
    return 0;
}
