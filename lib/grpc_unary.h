/* One blocking unary gRPC call over gRPC core's C API, with raw message
 * bytes: for loadgen's few calls outside the load (the server's
 * self-description, the health check) and for the tests. Links gRPC
 * (pkg-config grpc) where used. */
#ifndef LAB_GRPC_UNARY_H
#define LAB_GRPC_UNARY_H

#include <stddef.h>

#include <grpc/grpc.h>

#define GRPC_UNARY_DETAILS_MAX 256

typedef struct grpc_unary_result_s {
    int status;          /* grpc_status_code */
    char details[GRPC_UNARY_DETAILS_MAX];
    int initial_metadata; /* entries of initial metadata received */
    char *reply;          /* the reply message (malloc'd, NUL-terminated), or NULL */
    size_t reply_len;
} grpc_unary_result_t;

/* A plaintext channel to target ("host:port", "ipv4:a.b.c.d:port"), with
 * retries off (every attempt is one call) and reconnects after at most
 * 100 ms. own_connection: a TCP connection of its own, not shared with
 * other channels to the same target. grpc_init() must have run. */
grpc_channel *grpc_unary_channel(const char *target, int own_connection);

/* Call method ("/pkg.Service/Method") with request (len bytes) and wait up
 * to timeout_ms. Returns 0 with out filled (status may be any code), or
 * -1 when the call could not be started. Free out with
 * grpc_unary_result_free. */
int grpc_unary_call(grpc_channel *channel, const char *method, const void *request,
                    size_t len, long timeout_ms, grpc_unary_result_t *out);
void grpc_unary_result_free(grpc_unary_result_t *r);

/* The whole byte buffer as one malloc'd, NUL-terminated copy (len set);
 * NULL when out of memory. */
char *grpc_unary_copy_buffer(grpc_byte_buffer *bb, size_t *len);

#endif
