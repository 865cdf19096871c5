/* One call's life on a gRPC server, in the three batches both variants
 * use: ask the server for a call; receive its request (sending our
 * initial metadata at once); send the reply and status. Each batch ends
 * as one event, with its tag, on the completion queue bound to the call.
 * A grpc_rpc_t holds what those batches point at, so it must stay put
 * until its last batch has completed. */
#ifndef LAB_GRPC_RPC_H
#define LAB_GRPC_RPC_H

#include <grpc/grpc.h>

#include "grpc_service.h"

/* The initial metadata every answered call carries, "lab-variant: NAME":
 * loadgen tells a status our server sent from one gRPC made up for a
 * connection that failed (both can be UNAVAILABLE). */
#define GRPC_RPC_VARIANT_KEY "lab-variant"

typedef struct grpc_rpc_s {
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array request_metadata;
    grpc_byte_buffer *request;
    grpc_method_t method;
    grpc_reply_t reply;
    grpc_metadata initial_metadata;
    grpc_slice status_details;
    int cancelled;
    int step;                /* the variant's own state machine */
    struct grpc_rpc_s *next; /* the variant's lists */
} grpc_rpc_t;

void grpc_rpc_init(grpc_rpc_t *rpc);

/* Ask for the next call: it is bound to cq and announced there with tag
 * (success 0: the server is shutting down). */
grpc_call_error grpc_rpc_request(grpc_rpc_t *rpc, grpc_server *server,
                                 grpc_completion_queue *cq, void *tag);

/* Send the initial metadata and receive the request message. */
grpc_call_error grpc_rpc_start_receive(grpc_rpc_t *rpc, void *tag);

/* After the receive completed with success: the method, and whether its
 * request decodes. Returns 0 to serve it, or -1 with rpc->reply already
 * set to the error to send (UNIMPLEMENTED, INVALID_ARGUMENT). */
int grpc_rpc_received(grpc_rpc_t *rpc);

/* Send rpc->reply (its message, if any, and status) and wait for the
 * call to close. */
grpc_call_error grpc_rpc_start_send(grpc_rpc_t *rpc, void *tag);

/* Release the call and everything received or sent; rpc is as after
 * grpc_rpc_init. */
void grpc_rpc_release(grpc_rpc_t *rpc);

#endif
