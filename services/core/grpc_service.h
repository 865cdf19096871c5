/* The gRPC contract (proto/bench.proto, proto/health.proto), written once
 * for both gRPC variants: which method a call asks for, whether its request
 * decodes, and the reply each method gives. Like routes.h for HTTP: the
 * variants differ only in how they wait (a pool thread blocks, the loop
 * does not). */
#ifndef LAB_GRPC_SERVICE_H
#define LAB_GRPC_SERVICE_H

#include <grpc/grpc.h>

#include "fanout.h"

/* Requests are empty messages; anything larger than this is refused by
 * gRPC itself with RESOURCE_EXHAUSTED before the call reaches us. */
#define GRPC_SERVICE_MAX_REQUEST_BYTES (64 * 1024)
#define GRPC_SERVICE_DETAILS_MAX 256

typedef enum {
    GRPC_METHOD_IO,           /* /bench.Bench/Io: the upstream fan-out */
    GRPC_METHOD_CPU,          /* /bench.Bench/Cpu */
    GRPC_METHOD_DESCRIBE,     /* /bench.Bench/Describe: /healthz's JSON */
    GRPC_METHOD_HEALTH_CHECK, /* /grpc.health.v1.Health/Check */
    GRPC_METHOD_UNKNOWN,      /* anything else, Health/Watch too: UNIMPLEMENTED */
} grpc_method_t;

/* What a call ends with: a status, its message, and for OK the reply. */
typedef struct grpc_reply_s {
    grpc_status_code status;
    char details[GRPC_SERVICE_DETAILS_MAX];
    grpc_byte_buffer *message; /* owned; NULL unless status is OK */
} grpc_reply_t;

grpc_method_t grpc_method_of(grpc_slice method);

/* Decode the request of a known method. Returns 0, or -1 with reply set to
 * INVALID_ARGUMENT (malformed) or UNIMPLEMENTED (unknown method). request
 * may be NULL (the client sent no message: INVALID_ARGUMENT). */
int grpc_request_check(grpc_method_t method, grpc_byte_buffer *request, grpc_reply_t *reply);

/* The reply of every method but Io, which needs the fan-out first. Cpu
 * runs the workload here, in the calling thread. */
void grpc_reply_now(grpc_method_t method, grpc_byte_buffer *request, grpc_reply_t *reply);

/* Io's reply from the fan-out's tally: OK, or DEADLINE_EXCEEDED when a call
 * timed out, UNAVAILABLE when one failed (as HTTP's 504 and 502). */
void grpc_reply_io(const fanout_result_t *result, grpc_reply_t *reply);

/* Set a status without a message. */
void grpc_reply_status(grpc_reply_t *reply, grpc_status_code status, const char *details);

/* Free the message, if any, and clear the reply. */
void grpc_reply_clear(grpc_reply_t *reply);

#endif
