/* The batches of one server call (grpc_rpc.h). */
#include "grpc_rpc.h"

#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/slice.h>

#include "server.h"

void grpc_rpc_init(grpc_rpc_t *rpc)
{
    memset(rpc, 0, sizeof *rpc);
    grpc_call_details_init(&rpc->details);
    grpc_metadata_array_init(&rpc->request_metadata);
    rpc->status_details = grpc_empty_slice();
    rpc->method = GRPC_METHOD_UNKNOWN;
}

grpc_call_error grpc_rpc_request(grpc_rpc_t *rpc, grpc_server *server,
                                 grpc_completion_queue *cq, void *tag)
{
    return grpc_server_request_call(server, &rpc->call, &rpc->details, &rpc->request_metadata,
                                    cq, cq, tag);
}

static void op_clear(grpc_op *op, grpc_op_type type)
{
    memset(op, 0, sizeof *op);
    op->op = type;
}

grpc_call_error grpc_rpc_start_receive(grpc_rpc_t *rpc, void *tag)
{
    grpc_op ops[2];
    rpc->initial_metadata.key = grpc_slice_from_static_string(GRPC_RPC_VARIANT_KEY);
    rpc->initial_metadata.value = grpc_slice_from_static_string(server_config->name);
    op_clear(&ops[0], GRPC_OP_SEND_INITIAL_METADATA);
    ops[0].data.send_initial_metadata.count = 1;
    ops[0].data.send_initial_metadata.metadata = &rpc->initial_metadata;
    op_clear(&ops[1], GRPC_OP_RECV_MESSAGE);
    ops[1].data.recv_message.recv_message = &rpc->request;
    return grpc_call_start_batch(rpc->call, ops, 2, tag, NULL);
}

int grpc_rpc_received(grpc_rpc_t *rpc)
{
    rpc->method = grpc_method_of(rpc->details.method);
    return grpc_request_check(rpc->method, rpc->request, &rpc->reply);
}

grpc_call_error grpc_rpc_start_send(grpc_rpc_t *rpc, void *tag)
{
    grpc_op ops[3];
    size_t n = 0;
    if (rpc->reply.message != NULL) {
        op_clear(&ops[n], GRPC_OP_SEND_MESSAGE);
        ops[n++].data.send_message.send_message = rpc->reply.message;
    }
    grpc_slice_unref(rpc->status_details);
    rpc->status_details = grpc_slice_from_copied_string(rpc->reply.details);
    op_clear(&ops[n], GRPC_OP_SEND_STATUS_FROM_SERVER);
    ops[n].data.send_status_from_server.status = rpc->reply.status;
    ops[n++].data.send_status_from_server.status_details = &rpc->status_details;
    op_clear(&ops[n], GRPC_OP_RECV_CLOSE_ON_SERVER);
    ops[n++].data.recv_close_on_server.cancelled = &rpc->cancelled;
    return grpc_call_start_batch(rpc->call, ops, n, tag, NULL);
}

void grpc_rpc_release(grpc_rpc_t *rpc)
{
    if (rpc->call != NULL)
        grpc_call_unref(rpc->call);
    if (rpc->request != NULL)
        grpc_byte_buffer_destroy(rpc->request);
    grpc_reply_clear(&rpc->reply);
    grpc_slice_unref(rpc->status_details);
    grpc_call_details_destroy(&rpc->details);
    grpc_metadata_array_destroy(&rpc->request_metadata);
    grpc_rpc_init(rpc);
}
